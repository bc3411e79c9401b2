from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from imatch.errors import DomainError
from marketplace.models import Provider, Seeker, User
from marketplace.services import profiles


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["id"]
    list_display = ["email", "name", "account_type", "is_staff", "date_joined"]
    list_filter = ["account_type", "is_staff", "is_active"]
    search_fields = ["email", "name", "referral_code"]
    readonly_fields = ["account_type", "referral_code", "referred_by", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["name", "account_type", "referral_code", "referred_by"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})]


@admin.register(Seeker)
class SeekerAdmin(admin.ModelAdmin):
    list_display = ["user", "category", "location", "budget_min", "budget_max", "remote_ok", "created_at"]
    list_filter = ["category", "remote_ok", "state"]
    search_fields = ["user__email", "user__name", "needs_description"]
    list_select_related = ["user", "category"]
    raw_id_fields = ["user"]
    filter_horizontal = ["specialties"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = [
        "business_name",
        "user",
        "category",
        "location",
        "license_number",
        "license_verified",
        "rating_avg",
        "accepting_clients",
    ]
    list_filter = ["category", "license_verified", "accepting_clients", "remote", "state"]
    search_fields = ["business_name", "user__email", "user__name", "license_number"]
    list_select_related = ["user", "category"]
    raw_id_fields = ["user"]
    filter_horizontal = ["specialties"]
    readonly_fields = ["license_verified", "license_verified_at", "license_verified_by", "rating_avg", "rating_count"]
    actions = ["verify_license"]

    @admin.action(description="Verify the license of selected providers")
    def verify_license(self, request, queryset):
        verified = 0
        for provider in queryset:
            try:
                profiles.provider_verify_license(provider=provider, operator=request.user)
                verified += 1
            except DomainError as error:
                self.message_user(request, f"{provider}: {error.message}", messages.ERROR)
        if verified:
            self.message_user(request, f"Verified {verified} providers.", messages.SUCCESS)
