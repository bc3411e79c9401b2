"""People and their profiles: one User per person, a Seeker or Provider per category."""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, Q, Value
from django.db.models.functions import Lower
from django.utils import timezone

from categories.matching_weights import MAX_RADIUS_KM, MIN_RADIUS_KM
from categories.models import Category, Specialty

REFERRAL_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I look-alikes


def new_referral_code() -> str:
    """Eight letters of the alphabet, each equally likely.

    One draw of 40 random bits, 5 per letter (the alphabet has exactly 32 letters, so no
    letter is favoured): eight `secrets.choice` calls cost ten times more, which the
    legacy import of 50,000 people noticed.
    """
    bits = secrets.randbits(40)
    return "".join(REFERRAL_CODE_ALPHABET[(bits >> shift) & 31] for shift in range(0, 40, 5))


class AccountType(models.TextChoices):
    """Which roles a person holds; kept true by the profile services."""

    SEEKER = "seeker", "Seeker"
    PROVIDER = "provider", "Provider"
    BOTH = "both", "Seeker and provider"

    @classmethod
    def for_roles(cls, *, is_seeker: bool, is_provider: bool) -> "AccountType":
        """The account type of a person holding these roles (seeker while they hold none yet)."""
        if is_seeker and is_provider:
            return cls.BOTH
        return cls.PROVIDER if is_provider else cls.SEEKER


# Whose name leaderboards show when the person made no choice: providers' names are public already
# (their provider page shows them); a seeker appears as "Anonymous" until they opt in.
LEADERBOARD_NAMED_BY_DEFAULT = (AccountType.PROVIDER, AccountType.BOTH)
LEADERBOARD_OPT_IN_CHOICES = [
    (None, "Not chosen: shown if a provider, else Anonymous"),
    (True, "Shown by name"),
    (False, "Anonymous"),
]


def leaderboard_name_shown(*, opt_in: bool | None, account_type: str) -> bool:
    """Whether leaderboards show the person by name: their choice, else yes for providers only."""
    if opt_in is not None:
        return opt_in
    return account_type in LEADERBOARD_NAMED_BY_DEFAULT


# The category Phase 1's people are imported into (`import_v1`).
PHASE1_CATEGORY = "financial_advisors"


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """Emails are compared case-insensitively: store them trimmed and lower-cased."""
        return (email or "").strip().lower()

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(email=self.normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: logs in with their email; may be a seeker and a provider."""

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150)
    account_type = models.CharField(max_length=16, choices=AccountType.choices, default=AccountType.SEEKER)
    referral_code = models.CharField(max_length=16, unique=True, default=new_referral_code, editable=False)
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="referred_users"
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Operators: may log into the admin.")
    date_joined = models.DateTimeField(default=timezone.now)
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person opened the verification link we emailed them."
    )
    imported_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When `import_v1` created this account from Phase 1."
    )
    invited_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When `invite_v1` last emailed the set-a-password link."
    )
    referral_over_limit_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When this person's referral came over the referrer's monthly limit: it pays no referral award.",
    )
    photo = models.ImageField(
        upload_to="photos/",
        blank=True,
        editable=False,
        help_text="Profile photo, re-encoded by the server (services/photos.py); none: initials are shown.",
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        help_text="IANA name (e.g. America/Chicago): dates and times are shown in it. Set from the browser at sign-up.",
    )
    leaderboard_opt_in = models.BooleanField(
        null=True,
        blank=True,
        default=None,
        choices=LEADERBOARD_OPT_IN_CHOICES,
        help_text="The person's choice to appear by name on leaderboards (account page, PATCH /api/v1/me/); "
        "not chosen: providers by name, seekers as Anonymous.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        db_table = "users"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(condition=~Q(referred_by=F("id")), name="user_no_self_referral"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def has_usable_password(self) -> bool:
        """Django's answer; a user kept for a session (imatch.session_auth) carries it, not the hash."""
        if "password" not in self.__dict__ and hasattr(self, "kept_password_usable"):
            return self.kept_password_usable
        return super().has_usable_password()

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email

    @property
    def leaderboard_name_shown(self) -> bool:
        """Whether leaderboards show this person by name (their choice, else yes for providers)."""
        return leaderboard_name_shown(opt_in=self.leaderboard_opt_in, account_type=self.account_type)

    @property
    def initials(self) -> str:
        """Up to two letters for the avatar shown when there is no photo."""
        words = [word for word in self.name.split() if word[:1].isalpha()]
        letters = "".join(word[0] for word in words[:1] + words[1:][-1:]) if words else self.email[:1]
        return letters.upper()


class AccountAction(models.TextChoices):
    """What an operator did to a person's account."""

    DEACTIVATED = "deactivated", "Deactivated"
    """The account was switched off: no login, no API token, gone from the marketplace."""
    REACTIVATED = "reactivated", "Reactivated"
    """The account was switched back on."""


class AccountStatusChange(models.Model):
    """An operator deactivated or reactivated a person's account: who, when and why (never edited)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="status_changes")
    action = models.CharField(max_length=16, choices=AccountAction.choices)
    operator = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "account_status_changes"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} user {self.user_id} by {self.operator_id}"


class Profile(models.Model):
    """What seekers and providers share: where the person is, and when they joined."""

    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True, help_text="Two-letter state code, e.g. CA.")
    location = models.CharField(max_length=120, blank=True, editable=False, help_text="'City, ST'.")
    # From the gazetteer (`marketplace.gazetteer`) whenever the city or state is saved; empty: place unknown.
    latitude = models.FloatField(null=True, blank=True, editable=False)
    longitude = models.FloatField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @staticmethod
    def format_location(city: str, state: str) -> str:
        return ", ".join(part for part in (city.strip(), state.strip().upper()) if part)


class Seeker(Profile):
    """Someone looking for a provider in one category."""

    # No index of its own: `seeker_one_per_user_category` begins with it (an index less to write with every row).
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="seekers", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="seekers")
    specialties = models.ManyToManyField(Specialty, blank=True, related_name="seekers", db_table="seeker_specialties")
    needs_description = models.TextField(blank=True)
    budget_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    budget_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    remote_ok = models.BooleanField(default=True, help_text="Happy to work with a remote provider.")
    radius_km = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_RADIUS_KM), MaxValueValidator(MAX_RADIUS_KM)],
        help_text="Providers within this many km fit best. Empty: the category's default.",
    )

    class Meta:
        db_table = "seekers"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "category"], name="seeker_one_per_user_category"),
            models.CheckConstraint(
                condition=Q(budget_min__isnull=True) | Q(budget_min__gte=0), name="seeker_budget_min_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(budget_max__isnull=True) | Q(budget_max__gte=0), name="seeker_budget_max_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(budget_min__isnull=True) | Q(budget_max__isnull=True) | Q(budget_min__lte=F("budget_max")),
                name="seeker_budget_min_le_max",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.name} seeking {self.category}"


# --- Which providers are public (listed, and so matchable) --------------------------
# The rule is written here twice, side by side: as a Python predicate for one provider
# in memory and as a filter for the database; `listed_in` derives from the predicate.
# The matching engine, which imports no models, reads it on plain data
# (`marketplace.matching.factors.provider_listed`). tests/marketplace/
# test_provider_listing.py proves all of them agree on every case: a new condition goes
# into each, and into that test.


def provider_is_listed(
    *,
    user_active: bool,
    category_active: bool,
    requires_license: bool,
    license_verified: bool,
    license_provisional: bool = False,
) -> bool:
    """Whether a provider is listed publicly: an active account in an active category,
    license verified where the category requires one (or provisionally accepted: a Phase 1
    advisor before their license deadline, see `Provider.license_provisional`)."""
    return user_active and category_active and (license_verified or license_provisional or not requires_license)


def provider_listed_q(*, prefix: str = "") -> Q:
    """`provider_is_listed` as a filter on providers (joins their user and category).

    `prefix` is the path to the providers from another model, e.g. "providers__" from Category.
    """
    return (
        Q(**{f"{prefix}user__is_active": True})
        & Q(**{f"{prefix}category__active": True})
        & (
            Q(**{f"{prefix}category__requires_license": False})
            | Q(**{f"{prefix}license_verified": True})
            | Q(**{f"{prefix}license_provisional": True})
        )
    )


class ProviderQuerySet(models.QuerySet):
    def listed(self) -> "ProviderQuerySet":
        """Providers listed publicly, in any category."""
        return self.filter(provider_listed_q())

    def listed_in(self, category: Category) -> "ProviderQuerySet":
        """`listed()` for one category already loaded: the category's half of the rule is decided here.

        What is left filters the provider's own columns (`category_id`, and
        `license_verified` where the category requires a license) and their user's
        `is_active` (a join on the user's primary key), a shape the PostgreSQL planner
        estimates well, unlike a join on the category; an inactive category gives an
        empty queryset without a query.
        """

        def listed(*, license_verified: bool) -> bool:
            return provider_is_listed(
                user_active=True,
                category_active=category.active,
                requires_license=category.requires_license,
                license_verified=license_verified,
            )

        if not listed(license_verified=True):
            return self.none()
        providers = self.filter(category_id=category.pk, user__is_active=True)
        if listed(license_verified=False):
            return providers
        return providers.filter(Q(license_verified=True) | Q(license_provisional=True))


# "Best match" in the directory ranks by a Bayesian rating (as the matcher does): a few 5-star
# reviews do not outrank many 4.8s. One expression for the selector's order and its index.
DIRECTORY_RATING_PRIOR = Decimal("3.5")
DIRECTORY_RATING_PRIOR_WEIGHT = 5


def directory_rank() -> ExpressionWrapper:
    """(average x count + prior x weight) / (count + weight): the directory's "best match" rank."""
    return ExpressionWrapper(
        (F("rating_avg") * F("rating_count") + Value(DIRECTORY_RATING_PRIOR * DIRECTORY_RATING_PRIOR_WEIGHT))
        / (F("rating_count") + Value(DIRECTORY_RATING_PRIOR_WEIGHT)),
        output_field=models.DecimalField(max_digits=6, decimal_places=4),
    )


class Provider(Profile):
    """Someone offering a service in one category."""

    # No index of their own: `provider_one_per_user_category` begins with the user and the
    # `provider_category_*`/`provider_directory_order` indexes with the category. A rating or
    # profile change moves the directory indexes, so every index of the row: one less each.
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="providers", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="providers", db_index=False)
    specialties = models.ManyToManyField(
        Specialty, blank=True, related_name="providers", db_table="provider_specialties"
    )
    business_name = models.CharField(max_length=200)
    bio = models.TextField(blank=True)
    years_experience = models.PositiveSmallIntegerField(null=True, blank=True)
    certifications = models.TextField(blank=True, help_text="Free text, e.g. 'CFP, CFA'.")
    license_number = models.CharField(max_length=64, blank=True)
    license_verified = models.BooleanField(default=False)
    license_verified_at = models.DateTimeField(null=True, blank=True)
    license_verified_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # A provisional verification ("Phase 1 advisor"): only `import_v1` gives it (no form,
    # serializer or service sets these fields), so that the advisors Phase 1 brought keep
    # being listed and matched while they add a license number, until `provisional_until`.
    # `providers_provisional_lapse` (hourly, and `run_matching`) ends it past the deadline.
    license_provisional = models.BooleanField(
        default=False, editable=False, help_text="Listed as if verified until the license deadline (Phase 1 advisor)."
    )
    provisional_since = models.DateTimeField(null=True, blank=True, editable=False)
    provisional_source = models.CharField(max_length=200, blank=True, editable=False)
    provisional_until = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="The license deadline of a Phase 1 advisor."
    )
    provisional_lapsed_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the deadline passed unverified (the notice was sent)."
    )
    pricing_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    pricing_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    remote = models.BooleanField(default=False, help_text="Works with clients remotely.")
    accepting_clients = models.BooleanField(default=True)
    max_active_clients = models.PositiveIntegerField(default=10)
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    rating_count = models.PositiveIntegerField(default=0)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        db_table = "providers"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "category"], name="provider_one_per_user_category"),
            models.CheckConstraint(
                condition=Q(pricing_min__isnull=True) | Q(pricing_min__gte=0), name="provider_pricing_min_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(pricing_max__isnull=True) | Q(pricing_max__gte=0), name="provider_pricing_max_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(pricing_min__isnull=True)
                | Q(pricing_max__isnull=True)
                | Q(pricing_min__lte=F("pricing_max")),
                name="provider_pricing_min_le_max",
            ),
            models.CheckConstraint(
                condition=Q(years_experience__isnull=True) | Q(years_experience__gte=0),
                name="provider_years_experience_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(rating_avg__gte=0) & Q(rating_avg__lte=5), name="provider_rating_avg_0_5"
            ),
        ]
        indexes = [
            models.Index(fields=["category", "state", "city"], name="provider_category_location"),
            # Matching checks whether a category's providers changed since it indexed them.
            models.Index(fields=["category", "updated_at"], name="provider_category_updated"),
            # The directory of one category in its order (`provider_directory`): an index scan
            # that stops after the page, no sort. The partial one is for categories that
            # require a license (`listed_in` filters on exactly this condition).
            models.Index(fields=["category", "-rating_avg", "-rating_count", "id"], name="provider_directory_order"),
            models.Index(
                fields=["category", "-rating_avg", "-rating_count", "id"],
                condition=Q(license_verified=True) | Q(license_provisional=True),
                name="provider_directory_licensed",
            ),
            # The same in the category page's default order, "best match" (the Bayesian rank,
            # `directory_rank`): the page is read from the index instead of sorting every
            # listed provider of the category (49 ms -> under 1 ms at 10,000 providers).
            models.Index(
                F("category"),
                directory_rank().desc(),
                F("rating_count").desc(),
                F("id"),
                name="provider_directory_best",
            ),
            models.Index(
                F("category"),
                directory_rank().desc(),
                F("rating_count").desc(),
                F("id"),
                condition=Q(license_verified=True) | Q(license_provisional=True),
                name="provider_directory_best_lic",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_name} ({self.category})"

    @property
    def is_listed(self) -> bool:
        """Visible to the public (the rule of `Provider.objects.listed()`)."""
        return provider_is_listed(
            user_active=self.user.is_active,
            category_active=self.category.active,
            requires_license=self.category.requires_license,
            license_verified=self.license_verified,
            license_provisional=self.license_provisional,
        )

    @property
    def awaits_license(self) -> bool:
        """A Phase 1 advisor still on their provisional verification (not verified yet)."""
        return self.license_provisional and not self.license_verified


# --- The core loop: match → introduction → engagement → rating --------------------------


class MatchStatus(models.TextChoices):
    """Where a match stands; `marketplace.services.matches` enforces MATCH_TRANSITIONS."""

    SUGGESTED = "suggested", "Suggested"
    """The engine proposed this provider; the seeker has not acted yet."""
    INTRODUCED = "introduced", "Introduced"
    """The seeker asked for an introduction; both have the other's contact; the provider must answer."""
    ACCEPTED = "accepted", "Accepted"
    """The provider accepted the introduction; an engagement can be reported."""
    DECLINED = "declined", "Declined"
    """One side declined; the pair is never matched again."""
    EXPIRED = "expired", "Expired"
    """The provider left the introduction unanswered for 72 hours; the seeker got the next-best provider."""
    ENGAGED = "engaged", "Engaged"
    """An engagement was reported on this match."""


# An introduction the provider leaves unanswered this long expires (`match_expire_stale`).
INTRODUCTION_TIMEOUT = timedelta(hours=72)

MATCH_TRANSITIONS: dict[str, frozenset[str]] = {
    MatchStatus.SUGGESTED: frozenset({MatchStatus.INTRODUCED, MatchStatus.DECLINED}),
    MatchStatus.INTRODUCED: frozenset({MatchStatus.ACCEPTED, MatchStatus.DECLINED, MatchStatus.EXPIRED}),
    MatchStatus.ACCEPTED: frozenset({MatchStatus.ENGAGED, MatchStatus.DECLINED}),
    MatchStatus.DECLINED: frozenset(),
    MatchStatus.EXPIRED: frozenset(),
    MatchStatus.ENGAGED: frozenset(),
}
# A match in one of these statuses holds one of the seeker's slots (matches_per_request),
# except an engaged match whose engagement was cancelled: see `match_live_q`.
MATCH_LIVE_STATUSES = (MatchStatus.SUGGESTED, MatchStatus.INTRODUCED, MatchStatus.ACCEPTED, MatchStatus.ENGAGED)


def match_live_q(prefix: str = "") -> Q:
    """Matches that hold one of the seeker's slots: live, and not engaged in a cancelled engagement.

    A cancelled engagement frees the seeker's slot (the next run fills it with another
    provider; the pair is not matched again). `prefix` is the path to the match, e.g.
    "matches__" from a seeker. Written without a negation so that it stays one LEFT JOIN
    (the engagement is a one-to-one: no extra rows) also behind a multi-valued prefix.
    """
    not_cancelled = [value for value in EngagementStatus.values if value != EngagementStatus.CANCELLED]
    waiting = [status for status in MATCH_LIVE_STATUSES if status != MatchStatus.ENGAGED]
    return Q(**{f"{prefix}status__in": waiting}) | Q(
        **{f"{prefix}status": MatchStatus.ENGAGED, f"{prefix}engagement__status__in": not_cancelled}
    )


class Match(models.Model):
    """A provider proposed to a seeker by the engine, with the score and reasons at that time."""

    # No index of their own: `match_once_per_seeker_provider` starts with the seeker and
    # `match_provider_status_created` with the provider, and serve lookups by either alone. A
    # status change moves every index of the row (PostgreSQL cannot update it in place), so
    # each index less is work less on every introduction, acceptance and decline.
    seeker = models.ForeignKey(Seeker, on_delete=models.PROTECT, related_name="matches", db_index=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="matches", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="matches")
    status = models.CharField(max_length=16, choices=MatchStatus.choices, default=MatchStatus.SUGGESTED)
    score = models.DecimalField(max_digits=5, decimal_places=4, help_text="0 to 1, from the matching engine.")
    rank = models.PositiveSmallIntegerField(help_text="Position among the seeker's matches when suggested.")
    breakdown = models.JSONField(default=dict, blank=True, help_text="Factor → value in [0, 1].")
    reasons = models.JSONField(default=list, blank=True, help_text="Plain-language reasons, most telling first.")
    featured = models.BooleanField(default=False, help_text="The provider had a POT profile boost when matched.")
    introduced_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True, help_text="Accepted, declined or expired.")
    # Empty on all but declined matches: indexed only where set (`match_declined_by`), so the status
    # changes of the others (introduce, accept) write no index entry for it.
    declined_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    decline_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "matches"
        ordering = ["seeker_id", "-score", "id"]
        verbose_name_plural = "matches"
        constraints = [
            models.UniqueConstraint(fields=["seeker", "provider"], name="match_once_per_seeker_provider"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="match_score_0_1"),
        ]
        indexes = [
            models.Index(fields=["status", "introduced_at"], name="match_status_introduced"),
            models.Index(fields=["provider", "status", "created_at"], name="match_provider_status_created"),
            models.Index(fields=["declined_by"], condition=Q(declined_by__isnull=False), name="match_declined_by"),
        ]

    def __str__(self) -> str:
        return f"Match #{self.pk}: {self.seeker_id} ↔ {self.provider_id} ({self.status})"

    @property
    def contact_shared(self) -> bool:
        """Each side sees the other's email only once the provider accepted (before, they talk in the thread)."""
        return contact_shared(self.status)


def contact_shared(match_status: str) -> bool:
    """Whether a match in this status shows each side the other's email (`Match.contact_shared`)."""
    return match_status in (MatchStatus.ACCEPTED, MatchStatus.ENGAGED)


class EngagementStatus(models.TextChoices):
    """Where an engagement stands; `marketplace.services.engagements` enforces ENGAGEMENT_TRANSITIONS."""

    REPORTED = "reported", "Reported"
    """One side reported the deal; the other side (or an operator) must confirm it."""
    UNDER_REVIEW = "under_review", "Under review"
    """Confirmed, but the deal is above the category's review threshold: an operator approves or rejects it."""
    CONFIRMED = "confirmed", "Confirmed"
    """Both sides agree; the commission is owed; the engagement bonuses wait until it is paid."""
    CANCEL_REQUESTED = "cancel_requested", "Cancellation requested"
    """One side asked to cancel a confirmed engagement; the other side agrees or disputes it."""
    DISPUTED = "disputed", "Disputed"
    """The other side disagreed with the cancellation; an operator cancels or keeps the engagement."""
    COMPLETED = "completed", "Completed"
    """The work is done; the commission is still owed."""
    CANCELLED = "cancelled", "Cancelled"
    """Called off: no commission is owed, POT bonuses and rating awards are reversed, ratings stop counting."""


ENGAGEMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    EngagementStatus.REPORTED: frozenset(
        {EngagementStatus.CONFIRMED, EngagementStatus.UNDER_REVIEW, EngagementStatus.CANCELLED}
    ),
    EngagementStatus.UNDER_REVIEW: frozenset({EngagementStatus.CONFIRMED, EngagementStatus.CANCELLED}),
    EngagementStatus.CONFIRMED: frozenset(
        {EngagementStatus.COMPLETED, EngagementStatus.CANCEL_REQUESTED, EngagementStatus.CANCELLED}
    ),
    EngagementStatus.CANCEL_REQUESTED: frozenset(
        {EngagementStatus.CANCELLED, EngagementStatus.DISPUTED, EngagementStatus.CONFIRMED}
    ),
    EngagementStatus.DISPUTED: frozenset({EngagementStatus.CANCELLED, EngagementStatus.CONFIRMED}),
    EngagementStatus.COMPLETED: frozenset(),
    EngagementStatus.CANCELLED: frozenset(),
}
# A provider's active clients: engagements in these statuses count against max_active_clients.
ENGAGEMENT_OPEN_STATUSES = (
    EngagementStatus.REPORTED,
    EngagementStatus.UNDER_REVIEW,
    EngagementStatus.CONFIRMED,
    EngagementStatus.CANCEL_REQUESTED,
    EngagementStatus.DISPUTED,
)
# Ratings are allowed once the engagement is confirmed (and not while its cancellation is discussed).
ENGAGEMENT_RATEABLE_STATUSES = (EngagementStatus.CONFIRMED, EngagementStatus.COMPLETED)
# A cancellation is being discussed: the other side or an operator answers.
ENGAGEMENT_CANCEL_PENDING_STATUSES = (EngagementStatus.CANCEL_REQUESTED, EngagementStatus.DISPUTED)


class BonusStatus(models.TextChoices):
    """Where the engagement bonuses in POT stand: they are paid when the commission is paid, never before."""

    PENDING = "pending", "Pending"
    """Not paid yet: they are paid when an operator marks the commission paid."""
    PAID = "paid", "Paid"
    """Paid with the commission (capped so their USD value does not exceed the commission paid)."""
    NONE = "none", "None"
    """Nothing is or will be paid: the engagement was cancelled before its commission was paid."""


class BillingStatus(models.TextChoices):
    """Where the commission of an engagement stands with the provider."""

    PENDING = "pending", "Not invoiced"
    """Not invoiced yet (or nothing is owed, for a reported or cancelled engagement)."""
    INVOICED = "invoiced", "Invoiced"
    """An operator invoiced the provider; any POT commission credit was applied then."""
    PAID = "paid", "Paid"
    """The provider paid the invoice."""


class Engagement(models.Model):
    """The deal a seeker and a provider agreed on, with what was agreed snapshotted."""

    match = models.OneToOneField(Match, on_delete=models.PROTECT, related_name="engagement")
    seeker = models.ForeignKey(Seeker, on_delete=models.PROTECT, related_name="engagements")
    # No index of their own: `engagement_provider_status` and `engagement_category_created` begin with them.
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="engagements", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="engagements", db_index=False)
    category_name = models.CharField(max_length=120, help_text="The category's display name when confirmed.")
    status = models.CharField(max_length=16, choices=EngagementStatus.choices, default=EngagementStatus.REPORTED)
    deal_value_usd = models.DecimalField(max_digits=12, decimal_places=2)
    commission_rate = models.DecimalField(
        max_digits=5, decimal_places=4, help_text="The category's rate (its Pro rate for a Pro provider), snapshotted."
    )
    commission_usd = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Deal value x rate; 0 once cancelled (nothing is owed)."
    )
    pro_saving_usd = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text="Commission the provider's Pro saved (within the Pro period's cap), snapshotted at confirmation.",
    )
    commission_credit_usd = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, help_text="Paid with the provider's POT commission credit."
    )
    billing_status = models.CharField(max_length=16, choices=BillingStatus.choices, default=BillingStatus.PENDING)
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancel_reason = models.TextField(blank=True)
    cancel_requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Asked to cancel."
    )
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    dispute_reason = models.TextField(blank=True, help_text="Why the other side disagreed with the cancellation.")
    reviewed_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The operator who approved or rejected a deal above the review threshold, or decided a dispute.",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    bonus_status = models.CharField(max_length=16, choices=BonusStatus.choices, default=BonusStatus.PENDING)
    provider_bonus_pot = models.BigIntegerField(
        default=0, help_text="The provider's engagement bonus: planned at confirmation, final once paid."
    )
    seeker_bonus_pot = models.BigIntegerField(
        default=0, help_text="The seeker's engagement bonus: planned at confirmation, final once paid."
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    invoiced_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "engagements"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(deal_value_usd__gt=0), name="engagement_deal_value_positive"),
            models.CheckConstraint(condition=Q(commission_usd__gte=0), name="engagement_commission_non_negative"),
            models.CheckConstraint(
                condition=Q(commission_credit_usd__gte=0) & Q(commission_credit_usd__lte=F("commission_usd")),
                name="engagement_credit_within_commission",
            ),
            models.CheckConstraint(
                condition=Q(commission_rate__gte=0) & Q(commission_rate__lte=1), name="engagement_rate_0_1"
            ),
            models.CheckConstraint(
                condition=Q(provider_bonus_pot__gte=0) & Q(seeker_bonus_pot__gte=0),
                name="engagement_bonus_non_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["category", "created_at"], name="engagement_category_created"),
            models.Index(fields=["provider", "status"], name="engagement_provider_status"),
        ]

    def __str__(self) -> str:
        return f"Engagement #{self.pk}: {self.category_name or self.category_id}, ${self.deal_value_usd}"

    @property
    def amount_due_usd(self):
        """What the provider owes for this engagement after any POT commission credit."""
        return amount_due_usd(self.commission_usd, self.commission_credit_usd)

    @property
    def pending_bonus_pot(self) -> int:
        """The engagement bonuses (both sides) still waiting for the commission to be paid."""
        return pending_bonus_pot(self.bonus_status, self.provider_bonus_pot, self.seeker_bonus_pot)


def amount_due_usd(commission_usd: Decimal, commission_credit_usd: Decimal) -> Decimal:
    """What a provider owes for an engagement (`Engagement.amount_due_usd`, from its columns)."""
    return commission_usd - commission_credit_usd


def pending_bonus_pot(bonus_status: str, provider_bonus_pot: int, seeker_bonus_pot: int) -> int:
    """An engagement's bonuses still waiting for its commission (`Engagement.pending_bonus_pot`, from its columns)."""
    if bonus_status != BonusStatus.PENDING:
        return 0
    return provider_bonus_pot + seeker_bonus_pot


class RatedRole(models.TextChoices):
    """Who is rated: the seeker rates the provider, the provider rates the seeker."""

    PROVIDER = "provider", "Provider"
    """The seeker rated the provider; counts in the provider's average."""
    SEEKER = "seeker", "Seeker"
    """The provider rated the seeker."""


class Rating(models.Model):
    """One side's stars and review of the other, once per engagement."""

    # No index of its own: `rating_once_per_rater_engagement` begins with it (an index less to write with every row).
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="ratings", db_index=False)
    rater = models.ForeignKey(User, on_delete=models.PROTECT, related_name="ratings_given")
    rated = models.ForeignKey(User, on_delete=models.PROTECT, related_name="ratings_received")
    rated_role = models.CharField(max_length=16, choices=RatedRole.choices)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="ratings")
    stars = models.PositiveSmallIntegerField()
    review = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "ratings"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(stars__gte=1) & Q(stars__lte=5), name="rating_stars_1_5"),
            models.UniqueConstraint(fields=["engagement", "rater"], name="rating_once_per_rater_engagement"),
            models.CheckConstraint(condition=~Q(rater=F("rated")), name="rating_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.stars}★ by {self.rater_id} for {self.rated_id} (engagement {self.engagement_id})"


class ReferralStatus(models.TextChoices):
    """How far a referred person got; each step is recorded once, in this order."""

    SIGNED_UP = "signed_up", "Signed up"
    """The person created an account with the referrer's code."""
    ACTIVATED = "activated", "Activated"
    """The person created their first profile (seeker or provider)."""
    ENGAGED = "engaged", "Engaged"
    """An engagement of the person was confirmed for the first time."""


class Referral(models.Model):
    """One referred person: who referred them, with which code, how far they got and the POT it paid.

    The awards are the referrer's ledger rows (`referral_profile_created` for the activation,
    `referral_first_engagement` for the engagement); both are paid once the referred person's
    first commission is paid (`marketplace.services.referrals`), so a step can be reached long
    before its award is.
    """

    # No index of its own: `referral_referrer_newest` begins with it (an index less to write with every row).
    referrer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="referrals_made", db_index=False)
    referred = models.OneToOneField(User, on_delete=models.PROTECT, related_name="referral")
    code = models.CharField(max_length=16, help_text="The referral code the person signed up with.")
    status = models.CharField(max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.SIGNED_UP)
    signed_up_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    engaged_at = models.DateTimeField(null=True, blank=True)
    activation_award = models.OneToOneField(
        "currency.PotTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The referrer's `referral_profile_created` award for this person.",
    )
    engagement_award = models.OneToOneField(
        "currency.PotTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The referrer's `referral_first_engagement` award for this person.",
    )

    class Meta:
        db_table = "referrals"
        ordering = ["-signed_up_at", "-id"]
        indexes = [models.Index(fields=["referrer", "-signed_up_at"], name="referral_referrer_newest")]
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=F("referred")), name="referral_not_self"),
        ]

    def __str__(self) -> str:
        return f"Referral of user {self.referred_id} by user {self.referrer_id} ({self.status})"


class Referrer(User):
    """A person seen as a referrer: the admin's list of referrers by count, to spot referral farms."""

    class Meta:
        proxy = True
        verbose_name = "referrer"
        ordering = []


class MatchingWeightFit(models.Model):
    """Factor weights fitted from a category's match outcomes (`fit_matching_weights`), applied by an operator."""

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="weight_fits")
    weights = models.JSONField(help_text="Factor → fitted weight (within the bounds of categories.matching_weights).")
    previous_weights = models.JSONField(help_text="The category's weights when the fit ran.")
    metrics = models.JSONField(default=dict, help_text="Offline metrics: held-out NDCG of the old and new weights.")
    outcomes = models.PositiveIntegerField(help_text="Shown matches with a known outcome the fit learnt from.")
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "matching_weight_fits"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Weights fitted for {self.category_id} on {self.created_at:%Y-%m-%d}"
