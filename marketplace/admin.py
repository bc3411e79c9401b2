from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from imatch.admin import ReadOnlyAdmin
from imatch.errors import DomainError
from marketplace import selectors
from marketplace.models import Engagement, Match, Provider, Rating, Seeker, User
from marketplace.services import engagements, profiles


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["id"]
    list_display = ["email", "name", "account_type", "is_staff", "date_joined", "email_verified_at"]
    list_filter = ["account_type", "is_staff", "is_active", ("email_verified_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "name", "referral_code"]
    readonly_fields = [
        "account_type",
        "referral_code",
        "referred_by",
        "date_joined",
        "last_login",
        "email_verified_at",
    ]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["name", "account_type", "referral_code", "referred_by"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "last_login", "email_verified_at"]}),
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


# --- The core loop ---------------------------------------------------------------------


@admin.register(Match)
class MatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "seeker", "provider", "category", "status", "score", "rank", "featured", "created_at"]
    list_filter = ["status", "category", "featured"]
    search_fields = ["seeker__user__email", "provider__user__email", "provider__business_name"]
    list_select_related = ["seeker__user", "seeker__category", "provider__category", "category"]
    readonly_fields = [field.name for field in Match._meta.fields]
    date_hierarchy = "created_at"


@admin.register(Engagement)
class EngagementAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "category_name",
        "seeker",
        "provider",
        "status",
        "deal_value_usd",
        "commission_rate",
        "commission_usd",
        "commission_credit_usd",
        "billing_status",
        "created_at",
    ]
    list_filter = ["status", "billing_status", "category"]
    search_fields = ["seeker__user__email", "provider__user__email", "provider__business_name"]
    list_select_related = ["seeker__user", "seeker__category", "provider__category", "category"]
    readonly_fields = [field.name for field in Engagement._meta.fields]
    date_hierarchy = "created_at"
    actions = ["confirm", "mark_invoiced", "mark_paid"]
    change_list_template = "admin/marketplace/engagement/change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "commission_totals": list(selectors.commission_totals_by_category())}
        return super().changelist_view(request, extra_context=extra_context)

    def _run(self, request, queryset, service, done: str) -> None:
        succeeded = 0
        for engagement in queryset.order_by("pk"):
            try:
                service(engagement)
                succeeded += 1
            except DomainError as error:
                self.message_user(request, f"Engagement #{engagement.pk}: {error.message}", messages.ERROR)
        if succeeded:
            self.message_user(
                request, f"{done} {succeeded} engagement{'s' if succeeded > 1 else ''}.", messages.SUCCESS
            )

    @admin.action(description="Confirm selected engagements (as operator)")
    def confirm(self, request, queryset):
        self._run(
            request, queryset, lambda e: engagements.engagement_confirm(engagement=e, user=request.user), "Confirmed"
        )

    @admin.action(description="Mark selected engagements invoiced (applies POT commission credit)")
    def mark_invoiced(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda e: engagements.engagement_mark_invoiced(engagement=e, operator=request.user),
            "Invoiced",
        )

    @admin.action(description="Mark selected engagements paid")
    def mark_paid(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda e: engagements.engagement_mark_paid(engagement=e, operator=request.user),
            "Marked paid",
        )


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["id", "engagement", "rater", "rated", "rated_role", "stars", "created_at"]
    list_filter = ["stars", "rated_role"]
    search_fields = ["rater__email", "rated__email", "review"]
    list_select_related = ["engagement", "rater", "rated"]
    readonly_fields = [field.name for field in Rating._meta.fields]
