from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.shortcuts import render
from django.utils import timezone

from categories.models import Specialty
from imatch import formatting
from imatch.admin import ReadOnlyAdmin, ServiceForm, ServiceFormAdmin, counted
from imatch.errors import DomainError
from marketplace import selectors
from marketplace.models import (
    AccountStatusChange,
    Engagement,
    Match,
    MatchingWeightFit,
    Provider,
    Rating,
    Referral,
    Referrer,
    Seeker,
    User,
)
from marketplace.services import engagements, matches, profiles, weight_fits
from marketplace.services.lists import lists_forget_around


class AccountChangeForm(forms.Form):
    """What an operator gives when deactivating or reactivating accounts."""

    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class AccountStatusChangeInline(admin.TabularInline):
    """Who deactivated or reactivated the account, when and why (written only by the services)."""

    model = AccountStatusChange
    fk_name = "user"
    fields = ["created_at", "action", "operator", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["id"]
    list_display = ["email", "name", "account_type", "is_active", "is_staff", "date_joined", "email_verified_at"]
    list_filter = [
        "account_type",
        "is_staff",
        "is_active",
        ("email_verified_at", admin.EmptyFieldListFilter),
        "leaderboard_opt_in",
    ]
    search_fields = ["email", "name", "referral_code"]
    # is_active changes only through the actions: the services record why and make matching see it at once.
    readonly_fields = [
        "account_type",
        "referral_code",
        "referred_by",
        "date_joined",
        "last_login",
        "is_active",
        "email_verified_at",
        "referral_over_limit_at",
        "leaderboard_opt_in",  # the person's own choice (account page, API); operators read it
        "leaderboard_name",
    ]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["name", "account_type", "referral_code", "referred_by", "referral_over_limit_at"]}),
        ("Leaderboards", {"fields": ["leaderboard_opt_in", "leaderboard_name"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "last_login", "email_verified_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})]
    inlines = [AccountStatusChangeInline]
    actions = ["deactivate_accounts", "reactivate_accounts"]

    @admin.display(description="Name on leaderboards", boolean=True)
    def leaderboard_name(self, user: User) -> bool:
        """What leaderboards do with the person's name now: their choice, else shown for providers."""
        return user.leaderboard_name_shown

    def get_inlines(self, request: HttpRequest, obj=None):
        return self.inlines if obj is not None else []

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        """An operator's edit of a name or an email shows in the matches and engagements lists of
        everyone on the other side of this person's matches: forget them (`lists_forget_around`)."""
        super().save_model(request, obj, form, change)
        if change and {"name", "email"} & set(form.changed_data):
            lists_forget_around(user_ids=[obj.pk])

    def _account_change(self, request: HttpRequest, queryset, *, title: str, explanation: str, change, done: str):
        """Ask for the reason once, then change each selected account through the service."""
        form = AccountChangeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            changed = 0
            for account in queryset.order_by("pk"):
                try:
                    change(user=account, operator=request.user, reason=form.cleaned_data["reason"])
                    changed += 1
                except DomainError as error:
                    self.message_user(request, f"{account.email}: {error.message}", messages.ERROR)
            if changed:
                self.message_user(request, f"{done} {counted(changed, 'account')}.", messages.SUCCESS)
            return None
        return render(
            request,
            "admin/marketplace/user/account_change.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "explanation": explanation,
                "opts": self.model._meta,
                "accounts": queryset.order_by("pk"),
                "form": form,
                "action": request.POST.get("action"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Deactivate selected accounts", permissions=["change"])
    def deactivate_accounts(self, request: HttpRequest, queryset):
        return self._account_change(
            request,
            queryset,
            title="Deactivate accounts",
            explanation=(
                "Each account below is switched off at once: no login, no API token; its provider profiles "
                "leave the directory and matching, its seeker profiles get no matches, and its suggested "
                "matches and open introductions are closed (their seekers get the next provider)."
            ),
            change=profiles.user_deactivate,
            done="Deactivated",
        )

    @admin.action(description="Reactivate selected accounts", permissions=["change"])
    def reactivate_accounts(self, request: HttpRequest, queryset):
        return self._account_change(
            request,
            queryset,
            title="Reactivate accounts",
            explanation="Each account below can log in again, and its profiles are listed and matched again.",
            change=profiles.user_reactivate,
            done="Reactivated",
        )


def _slugs(specialties: list[Specialty] | None) -> list[str]:
    return [specialty.slug for specialty in specialties or ()]


class SeekerAdminForm(ServiceForm):
    """Operators add and edit seekers through `seeker_create` / `seeker_update`, as the web and the API do."""

    class Meta:
        model = Seeker
        fields = "__all__"

    def save_through_service(self) -> Seeker:
        data = self.cleaned_data
        if self.instance.pk is None:
            fields = {name: data[name] for name in profiles.SEEKER_EDITABLE if name in data}
            return profiles.seeker_create(
                user=data["user"], category=data["category"], specialties=_slugs(data.get("specialties")), **fields
            )
        changes = {name: data[name] for name in self.changed_data if name in profiles.SEEKER_EDITABLE}
        if "specialties" in self.changed_data:
            changes["specialties"] = _slugs(data["specialties"])
        return profiles.seeker_update(seeker=self.instance, changes=changes)


class ProviderAdminForm(ServiceForm):
    """Operators add and edit providers through `provider_create` / `provider_update`, as the web and the API do.

    A new license number clears the verification (in `provider_update`); verifying is
    the "Verify the license" action.
    """

    class Meta:
        model = Provider
        fields = "__all__"

    def save_through_service(self) -> Provider:
        data = self.cleaned_data
        if self.instance.pk is None:
            fields = {name: data[name] for name in profiles.PROVIDER_EDITABLE if name in data}
            return profiles.provider_create(
                user=data["user"], category=data["category"], specialties=_slugs(data.get("specialties")), **fields
            )
        changes = {name: data[name] for name in self.changed_data if name in profiles.PROVIDER_EDITABLE}
        if "specialties" in self.changed_data:
            changes["specialties"] = _slugs(data["specialties"])
        return profiles.provider_update(provider=self.instance, changes=changes)


@admin.register(Seeker)
class SeekerAdmin(ServiceFormAdmin):
    form = SeekerAdminForm
    list_display = ["user", "category", "location", "budget_min", "budget_max", "remote_ok", "created_at"]
    list_filter = ["category", "remote_ok", "state"]
    search_fields = ["user__email", "user__name", "needs_description"]
    list_select_related = ["user", "category"]
    raw_id_fields = ["user"]
    filter_horizontal = ["specialties"]
    readonly_fields = ["location"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [*self.readonly_fields, "user", "category"] if obj is not None else self.readonly_fields


class Phase1AdvisorFilter(admin.SimpleListFilter):
    """The queue of Phase 1 advisors: provisionally verified until their license deadline."""

    title = "Phase 1 advisors"
    parameter_name = "phase1"

    def lookups(self, request, model_admin):
        return [
            ("awaiting", "Phase 1 advisors awaiting a license"),
            ("ready", "… with a license number to verify"),
            ("lapsed", "Deadline passed unverified"),
        ]

    def queryset(self, request, queryset):
        awaiting = queryset.filter(license_provisional=True, license_verified=False)
        if self.value() == "awaiting":
            return awaiting
        if self.value() == "ready":
            return awaiting.exclude(license_number="")
        if self.value() == "lapsed":
            return queryset.filter(provisional_lapsed_at__isnull=False, license_verified=False)
        return queryset


class LicenseQueueFilter(admin.SimpleListFilter):
    """The work queue's licenses to verify (licensed categories, a number given, not verified)."""

    title = "license"
    parameter_name = "license"

    def lookups(self, request, model_admin):
        return [("to_verify", "To verify")]

    def queryset(self, request, queryset):
        if self.value() == "to_verify":
            return queryset.filter(pk__in=selectors.providers_license_to_verify().values("pk"))
        return queryset


class StaleEngagementFilter(admin.SimpleListFilter):
    """The work queue's engagements reported more than 7 days ago and still not confirmed."""

    title = "waiting"
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("stale", "Unconfirmed for over 7 days")]

    def queryset(self, request, queryset):
        if self.value() == "stale":
            before = timezone.now() - selectors.STALE_ENGAGEMENT_AGE
            return queryset.filter(pk__in=selectors.engagements_unconfirmed(reported_before=before).values("pk"))
        return queryset


class ExpiringIntroductionFilter(admin.SimpleListFilter):
    """The work queue's introductions that expire within 24 hours."""

    title = "expiring"
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [("24h", "Introductions expiring within 24 hours")]

    def queryset(self, request, queryset):
        if self.value() == "24h":
            before = timezone.now() - (matches.INTRODUCTION_TIMEOUT - selectors.EXPIRY_WARNING)
            return queryset.filter(pk__in=selectors.introductions_expiring(introduced_before=before).values("pk"))
        return queryset


@admin.register(Provider)
class ProviderAdmin(ServiceFormAdmin):
    form = ProviderAdminForm
    # License first: verifying them is the operators' daily work; the rest fits 1280 px.
    list_display = [
        "business_name",
        "license",
        "phase1_status",
        "category",
        "email",
        "rating_avg",
        "accepting_clients",
    ]
    list_filter = [
        "category",
        LicenseQueueFilter,
        Phase1AdvisorFilter,
        "license_verified",
        "accepting_clients",
        "remote",
        "state",
    ]
    search_fields = ["business_name", "user__email", "user__name", "license_number"]
    list_select_related = ["user", "category"]
    raw_id_fields = ["user"]
    filter_horizontal = ["specialties"]
    readonly_fields = [
        "location",
        "license_verified",
        "license_verified_at",
        "license_verified_by",
        "license_provisional",
        "provisional_source",
        "provisional_since",
        "provisional_until",
        "provisional_lapsed_at",
        "rating_avg",
        "rating_count",
    ]
    actions = ["verify_license", "unverify_license"]

    @admin.display(description="license", ordering="license_verified")
    def license(self, provider: Provider) -> str:
        """The number and whether it is verified, in one column."""
        if not provider.license_number:
            return "—"
        return f"{provider.license_number} ({'verified' if provider.license_verified else 'to verify'})"

    @admin.display(description="email", ordering="user__email")
    def email(self, provider: Provider) -> str:
        return provider.user.email

    @admin.display(description="Phase 1 advisor")
    def phase1_status(self, provider: Provider) -> str:
        """Where a Phase 1 advisor's provisional verification stands (empty for everyone else)."""
        if provider.awaits_license:
            return f"until {provider.provisional_until:%Y-%m-%d}" + (
                "" if provider.license_number else ", no license yet"
            )
        if provider.provisional_lapsed_at and not provider.license_verified:
            return f"lapsed {provider.provisional_lapsed_at:%Y-%m-%d}"
        return ""

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [*self.readonly_fields, "user", "category"] if obj is not None else self.readonly_fields

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
            self.message_user(request, f"Verified {counted(verified, 'provider')}.", messages.SUCCESS)

    @admin.action(description="Withdraw the license verification of selected providers")
    def unverify_license(self, request, queryset):
        for provider in queryset:
            profiles.provider_unverify_license(provider=provider, operator=request.user)
        self.message_user(request, f"Withdrew the verification of {len(queryset)} providers.", messages.SUCCESS)


# --- The core loop ---------------------------------------------------------------------


@admin.register(Match)
class MatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "seeker", "provider", "category", "status", "score", "rank", "featured", "created_at"]
    list_filter = ["status", ExpiringIntroductionFilter, "category", "featured"]
    search_fields = ["seeker__user__email", "provider__user__email", "provider__business_name"]
    list_select_related = ["seeker__user", "seeker__category", "provider__category", "category"]
    readonly_fields = [field.name for field in Match._meta.fields]
    date_hierarchy = "created_at"


@admin.register(Engagement)
class EngagementAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "category_name",
        "seeker_name",
        "provider_name",
        "status",
        "deal_value",
        "commission",
        "billing_status",
        "reported",
    ]
    list_filter = ["status", StaleEngagementFilter, "billing_status", "bonus_status", "category"]
    search_fields = ["seeker__user__email", "provider__user__email", "provider__business_name"]
    list_select_related = ["seeker__user", "seeker__category", "provider__category", "category"]
    readonly_fields = [*(field.name for field in Engagement._meta.fields), "rate"]
    date_hierarchy = "created_at"
    actions = [
        "confirm",
        "review_approve",
        "review_reject",
        "dispute_cancel",
        "dispute_keep",
        "mark_invoiced",
        "mark_paid",
    ]
    change_list_template = "admin/marketplace/engagement/change_list.html"

    @admin.display(description="seeker", ordering="seeker__user__name")
    def seeker_name(self, engagement: Engagement) -> str:
        return engagement.seeker.user.name

    @admin.display(description="provider", ordering="provider__business_name")
    def provider_name(self, engagement: Engagement) -> str:
        return engagement.provider.business_name

    @admin.display(description="deal value", ordering="deal_value_usd")
    def deal_value(self, engagement: Engagement) -> str:
        return formatting.usd(engagement.deal_value_usd)

    @admin.display(description="reported", ordering="created_at")
    def reported(self, engagement: Engagement) -> str:
        return f"{timezone.localtime(engagement.created_at):%Y-%m-%d}"

    @admin.display(description="commission rate", ordering="commission_rate")
    def rate(self, engagement: Engagement) -> str:
        return formatting.percent(engagement.commission_rate)

    @admin.display(description="commission", ordering="commission_usd")
    def commission(self, engagement: Engagement) -> str:
        return formatting.usd(engagement.commission_usd)

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
            self.message_user(request, f"{done} {counted(succeeded, 'engagement')}.", messages.SUCCESS)

    @admin.action(description="Confirm selected engagements (as operator)")
    def confirm(self, request, queryset):
        self._run(
            request, queryset, lambda e: engagements.engagement_confirm(engagement=e, user=request.user), "Confirmed"
        )

    @admin.action(description="Approve selected engagements under review (the confirmation counts)")
    def review_approve(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda e: engagements.engagement_review_approve(engagement=e, operator=request.user),
            "Approved",
        )

    @admin.action(description="Reject selected engagements under review (cancelled, nothing owed)")
    def review_reject(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda e: engagements.engagement_review_reject(engagement=e, operator=request.user),
            "Rejected",
        )

    @admin.action(description="Decide selected disputes: cancel the engagement")
    def dispute_cancel(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda e: engagements.engagement_dispute_resolve(engagement=e, operator=request.user, cancel=True),
            "Cancelled",
        )

    @admin.action(description="Decide selected disputes: keep the engagement (confirmed)")
    def dispute_keep(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda e: engagements.engagement_dispute_resolve(engagement=e, operator=request.user, cancel=False),
            "Kept",
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


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    """Every referred person: how far they got and the referrer's award rows (written only by the services)."""

    list_display = ["id", "referrer", "referred", "status", "signed_up_at", "activation_pot", "engagement_pot"]
    list_filter = ["status", "signed_up_at"]
    search_fields = ["referrer__email", "referred__email", "code"]
    readonly_fields = [field.name for field in Referral._meta.fields]

    def get_queryset(self, request: HttpRequest):
        return selectors.referrals_with_pot()

    @admin.display(description="Activation POT", ordering="activation_pot")
    def activation_pot(self, referral: Referral) -> int:
        return referral.activation_pot

    @admin.display(description="Engagement POT", ordering="engagement_pot")
    def engagement_pot(self, referral: Referral) -> int:
        return referral.engagement_pot


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


@admin.register(Referrer)
class ReferrerAdmin(ReadOnlyAdmin):
    """Referrers by number of referred people, with their activation and engagement rates, to spot farms.

    A farm shows as many sign-ups that never create a profile (a low activation rate) or
    never do business (a low engagement rate).
    """

    list_display = [
        "email",
        "name",
        "referred_count",
        "activated_count",
        "activation_rate",
        "engaged_count",
        "engagement_rate",
        "is_active",
    ]
    list_display_links = ["email"]
    search_fields = ["email", "name", "referral_code"]
    fields = ["email", "name", "referral_code", "is_active", "date_joined"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        return selectors.referrers_by_count()

    @admin.display(description="Referred", ordering="referred_count")
    def referred_count(self, referrer: Referrer) -> int:
        return referrer.referred_count

    @admin.display(description="Activated", ordering="activated_count")
    def activated_count(self, referrer: Referrer) -> int:
        return referrer.activated_count

    @admin.display(description="Engaged", ordering="engaged_count")
    def engaged_count(self, referrer: Referrer) -> int:
        return referrer.engaged_count

    @admin.display(description="Activation rate")
    def activation_rate(self, referrer: Referrer) -> str:
        return _rate(referrer.activated_count, referrer.referred_count)

    @admin.display(description="Engagement rate")
    def engagement_rate(self, referrer: Referrer) -> str:
        return _rate(referrer.engaged_count, referrer.referred_count)


@admin.register(MatchingWeightFit)
class MatchingWeightFitAdmin(ReadOnlyAdmin):
    """Fits stored by `fit_matching_weights`; an operator applies one to its category."""

    list_display = ["id", "category", "created_at", "outcomes", "ndcg_old", "ndcg_new", "weights", "applied_at"]
    list_filter = ["category", "applied_at"]
    list_select_related = ["category"]
    readonly_fields = [field.name for field in MatchingWeightFit._meta.fields]
    actions = ["apply_weights"]

    @admin.display(description="NDCG, old weights")
    def ndcg_old(self, fit: MatchingWeightFit):
        return fit.metrics.get("ndcg_old")

    @admin.display(description="NDCG, fitted")
    def ndcg_new(self, fit: MatchingWeightFit):
        return fit.metrics.get("ndcg_new")

    @admin.action(description="Apply these weights")
    def apply_weights(self, request, queryset):
        if len(queryset) != 1:
            self.message_user(request, "Select one fit to apply.", messages.ERROR)
            return
        fit = queryset[0]
        try:
            category = weight_fits.weights_fit_apply(fit=fit, operator=request.user)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, f"{category} now matches with the weights of fit #{fit.pk}.", messages.SUCCESS)
