"""Reads on people and profiles, with their related rows loaded up front."""

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Concat, TruncWeek
from django.urls import reverse
from django.utils import timezone

from categories.models import Category, Specialty
from categories.selectors import (
    CATALOG_SECONDS,
    DIRECTORY_COUNTS_KEY,
    PROVIDER_COUNTS_KEY,
    catalog_forget,
    catalog_memo,
    category_list,
    category_list_public,
)
from currency.models import PotTransaction, Purchase, RedemptionStatus, SpendEffect, SpendOption
from currency.selectors import award_weeks, commission_credit_available_usd, pot_rules, redemptions_in_progress
from imatch.errors import NotFound
from imatch.weeks import calendar_week, calendar_week_start
from marketplace.matching.learning import Outcome, factors_of, grade
from marketplace.models import (
    ENGAGEMENT_RATEABLE_STATUSES,
    INTRODUCTION_TIMEOUT,
    PHASE1_CATEGORY,
    AccountType,
    BillingStatus,
    Engagement,
    EngagementStatus,
    Match,
    MatchStatus,
    Provider,
    RatedRole,
    Rating,
    Referral,
    ReferralStatus,
    Referrer,
    Seeker,
    User,
    directory_rank,
    match_live_q,
    provider_listed_q,
)
from marketplace.streaks import NextBonus, Streak, streak_of


def referrer_for_code(*, code: str) -> User | None:
    """The active person whose referral code this is (any case, spaces trimmed), or None."""
    code = (code or "").strip().upper()
    if not code:
        return None
    return User.objects.filter(referral_code=code, is_active=True).first()


def category_list_with_provider_counts() -> list[Category]:
    """Active categories (specialties loaded), each with `provider_count`: its providers listed publicly.

    Both halves come from the shared cache (the home page is the busiest page): the
    categories as `category_list_public` keeps them, the counts under PROVIDER_COUNTS_KEY,
    which `directory_changed` clears whenever a provider is listed or unlisted. Each process
    keeps the result until then (`catalog_memo`).
    """
    return catalog_memo("catalog:categories-with-counts", _categories_with_counts)


def _categories_with_counts() -> list[Category]:
    counts = cache.get(PROVIDER_COUNTS_KEY)
    if counts is None:
        listed = Provider.objects.listed().order_by().values_list("category_id").annotate(count=Count("id"))
        counts = dict(listed)
        cache.set(PROVIDER_COUNTS_KEY, counts, CATALOG_SECONDS)
    categories = category_list_public()
    for category in categories:
        category.provider_count = counts.get(category.pk, 0)
    return categories


def directory_changed() -> None:
    """A provider was listed or unlisted (created, verified, lapsed, account switched): recount at once."""
    catalog_forget()


def directory_memo(key, build):
    """What `build()` answers about the public directory, kept in this process until `directory_changed`."""
    return catalog_memo(key, build)


def directory_category(*, name: str) -> Category | None:
    """The public category of this machine name, from the cached catalogue (None: unknown or not public)."""
    return next((category for category in category_list_public() if category.name == name), None)


def provider_directory(*, category: Category | None = None) -> QuerySet[Provider]:
    """Providers anyone may see: active category, and verified where a license is required.

    Given the category (the directory of one category, the usual case), the rule is
    `listed_in`'s: only the providers' own columns, which the partial indexes
    `provider_directory_*` serve in the directory's order without a sort.
    """
    providers = Provider.objects.listed_in(category) if category is not None else Provider.objects.listed()
    return (
        providers.select_related("user", "category")
        .prefetch_related("specialties")
        .order_by("-rating_avg", "-rating_count", "id")
    )


DIRECTORY_SORTS = ("best", "rating", "price")
DIRECTORY_KEYWORDS_MAX = 8
# "Best match" ranks by a Bayesian rating (`directory_rank`, which an index serves); keywords
# found in the business name come first.


def provider_directory_search(
    providers: QuerySet[Provider], *, keywords: str = "", sort: str = "best"
) -> QuerySet[Provider]:
    """The directory narrowed to providers whose business name, bio or specialties hold every keyword, in order.

    `sort`: "best" (keywords in the name first, then the Bayesian rating), "rating"
    (average, then count) or "price" (lowest starting price first, no price last).
    """
    words = keywords.split()[:DIRECTORY_KEYWORDS_MAX]
    for word in words:
        in_specialties = Specialty.objects.filter(providers=OuterRef("pk"), name__icontains=word)
        providers = providers.filter(Q(business_name__icontains=word) | Q(bio__icontains=word) | Exists(in_specialties))
    if sort == "rating":
        return providers.order_by("-rating_avg", "-rating_count", "id")
    if sort == "price":
        return providers.order_by(F("pricing_min").asc(nulls_last=True), "-rating_avg", "id")
    bayesian = directory_rank()
    order = [F("directory_rank").desc(), "-rating_count", "id"]
    if words:
        name_hit = Case(When(business_name__icontains=words[0], then=Value(1)), default=Value(0))
        providers = providers.annotate(directory_name_hit=name_hit)
        order.insert(0, "-directory_name_hit")
    return providers.annotate(directory_rank=bayesian).order_by(*order)


DIRECTORY_COUNTS_KEPT = 500  # distinct directory queries whose totals are kept at once


def provider_directory_count(providers: QuerySet[Provider]) -> int:
    """How many providers a directory query finds, kept in the shared cache.

    Counting every listed provider of a category on each page view costs more than the
    page itself; the totals are kept per query (its SQL) until `directory_changed` (a
    provider listed, unlisted or edited) or the catalogue's expiry.
    """
    try:
        sql = str(providers.order_by().query)
    except EmptyResultSet:  # .none(): nothing to count
        return 0
    key = hashlib.sha256(sql.encode()).hexdigest()
    counts = cache.get(DIRECTORY_COUNTS_KEY) or {}
    if key not in counts:
        if len(counts) >= DIRECTORY_COUNTS_KEPT:
            counts = {}
        counts[key] = providers.count()
        cache.set(DIRECTORY_COUNTS_KEY, counts, CATALOG_SECONDS)
    return counts[key]


def provider_public_get(*, provider_id: int) -> Provider:
    """One listed provider, or NotFound (also for unlisted ones: never say they exist)."""
    provider = provider_directory().filter(pk=provider_id).first()
    if provider is None:
        raise NotFound("No such provider.")
    return provider


def _seekers() -> QuerySet[Seeker]:
    return Seeker.objects.select_related("user", "category").prefetch_related("specialties").order_by("id")


def _providers() -> QuerySet[Provider]:
    return Provider.objects.select_related("user", "category").prefetch_related("specialties").order_by("id")


def seekers_owned_by(*, user: User) -> QuerySet[Seeker]:
    """The user's own seeker profiles (also for staff)."""
    return _seekers().filter(user=user)


def seekers_visible_to(*, user: User) -> QuerySet[Seeker]:
    """The seeker profiles a user may see: their own; staff see all."""
    return _seekers() if user.is_staff else seekers_owned_by(user=user)


def providers_owned_by(*, user: User) -> QuerySet[Provider]:
    """The user's own provider profiles, listed or not (also for staff)."""
    return _providers().filter(user=user)


def seeker_for_user(*, user: User, seeker_id: int) -> Seeker:
    """A seeker profile the user owns (staff: any), else NotFound."""
    seeker = seekers_visible_to(user=user).filter(pk=seeker_id).first()
    if seeker is None:
        raise NotFound("No such seeker profile.")
    return seeker


def provider_for_user(*, user: User, provider_id: int) -> Provider:
    """A provider profile the user owns (staff: any), else NotFound."""
    providers = _providers() if user.is_staff else providers_owned_by(user=user)
    provider = providers.filter(pk=provider_id).first()
    if provider is None:
        raise NotFound("No such provider profile.")
    return provider


def providers_visible_to(*, user: User) -> QuerySet[Provider]:
    """Listed providers plus the user's own (staff: all) — what GET /providers/{id}/ may show."""
    if user.is_authenticated and user.is_staff:
        return _providers()
    listed = provider_listed_q()
    visible = listed | Q(user=user) if user.is_authenticated else listed
    return Provider.objects.filter(visible).select_related("user", "category").prefetch_related("specialties")


def account_for_operator(*, operator: User, user_id: int) -> User:
    """A person's account with its status history, for an operator; NotFound for anyone else, or no such person."""
    account = User.objects.filter(pk=user_id).prefetch_related("status_changes").first() if operator.is_staff else None
    if account is None:
        raise NotFound("No such user.")
    return account


def user_with_profiles(*, user: User) -> User:
    """The user with their seeker and provider profiles (and categories) loaded onto it (not read again)."""
    prefetch_related_objects(
        [user],
        Prefetch("seekers", queryset=Seeker.objects.select_related("category").order_by("id")),
        Prefetch("providers", queryset=Provider.objects.select_related("category").order_by("id")),
    )
    return user


def user_for_dashboard(*, user: User) -> User:
    """`user_with_profiles`, and what the dashboard's "Action needed" reads of each provider profile.

    The providers carry their category, their specialties and (set by the prefetch) the same
    user instance: `provider_strength` reads nothing more, and a person without provider
    profiles is known to have no leads, answered or not (see `actions_needed`, `streak_summary`).
    """
    prefetch_related_objects(
        [user],
        Prefetch("seekers", queryset=Seeker.objects.select_related("category").order_by("id")),
        Prefetch(
            "providers",
            queryset=Provider.objects.select_related("category").prefetch_related("specialties").order_by("id"),
        ),
    )
    return user


# --- The core loop: matches, engagements, ratings ------------------------------------


def seekers_with_free_slots(*, category: Category) -> QuerySet[Seeker]:
    """The category's seekers of active accounts with fewer live matches than it gives per request, by id."""
    return (
        Seeker.objects.filter(category=category, user__is_active=True)
        .annotate(live=Count("matches", filter=match_live_q("matches__")))
        .filter(live__lt=F("category__matches_per_request"))
        .select_related("category", "user")
        .prefetch_related("specialties")
        .order_by("id")
    )


def matches_visible_to(*, user: User) -> QuerySet[Match]:
    """Matches a person may see: as the seeker, all of theirs; as the provider, once introduced.

    A suggested match is the seeker's private shortlist: the provider learns of it (and of
    the seeker's needs) only with the introduction. Staff see all.
    """
    matches = Match.objects.select_related("seeker__user", "provider__user", "category").order_by("-created_at", "-id")
    if user.is_staff:
        return matches
    return matches.filter(_sides_q(Match, user, provider_introduced_only=True))


def match_visible(match: Match, *, user: User) -> bool:
    """Whether the person may see this loaded match: `matches_visible_to`'s rule, checked on one row."""
    if user.is_staff or user.pk == match.seeker.user_id:
        return True
    return user.pk == match.provider.user_id and match.introduced_at is not None


def _sides_q(model, user: User, *, provider_introduced_only: bool = False) -> Q:
    """`model`'s rows of the person's seeker profiles, or of their provider profiles (introduced ones only if asked).

    The same rows as `Q(seeker__user=user) | Q(provider__user=user)`, written as
    `id IN (rows by seeker UNION rows by provider)`: PostgreSQL estimates each half from its
    index and joins a handful of rows, where the OR across two joins made it hash every
    seeker, provider and user on each list (17 ms, against under 1 ms). Written in SQL: built
    with querysets, the union cost Django ~4 ms of CPU per list (compiled for the count and
    again for the page), more than the query itself.
    """
    table, seekers, providers = model._meta.db_table, Seeker._meta.db_table, Provider._meta.db_table
    introduced = " AND introduced_at IS NOT NULL" if provider_introduced_only else ""
    # Table names from the models; the user's id is a parameter.
    sql = (
        f"SELECT id FROM {table} WHERE seeker_id IN (SELECT id FROM {seekers} WHERE user_id = %s) UNION "  # noqa: S608
        f"SELECT id FROM {table} WHERE provider_id IN (SELECT id FROM {providers} WHERE user_id = %s){introduced}"
    )
    return Q(pk__in=RawSQL(sql, (user.pk, user.pk)))  # noqa: S611


def _category_key() -> Subquery:
    """The row's category name as a scalar subquery: planned on its own, not in the join order."""
    return Subquery(Category.objects.filter(pk=OuterRef("category_id")).values("name")[:1])


def list_annotations() -> dict:
    """What the lists of matches and engagements read besides their columns (`imatch.db.page_values`):
    the category's name as a scalar subquery (`category_key`). With the categories joined instead,
    PostgreSQL took 6-14 ms to plan the matches list and ~20 ms the engagements list, against 1-2 ms."""
    return {"category_key": _category_key()}


def match_list_for(*, user: User) -> QuerySet[Match]:
    """`matches_visible_to` as a list's pages are cut from it: filtered and ordered, nothing joined
    or annotated. The API reads a page's columns with `imatch.db.page_values` (both sides' names,
    `list_annotations`), which compiles only the page's ids from this queryset: joins and the
    annotation built here would cost CPU (~0.2 ms a request) for nothing."""
    return matches_visible_to(user=user).select_related(None)


def match_for_user(*, user: User, match_id: int) -> Match:
    """A match the person is a side of (staff: any), else NotFound."""
    match = matches_visible_to(user=user).filter(pk=match_id).first()
    if match is None:
        raise NotFound("No such match.")
    return match


def matches_of_seeker(*, seeker: Seeker) -> QuerySet[Match]:
    """A seeker's matches for the matches page: live ones first by score, then the closed ones."""
    return (
        Match.objects.filter(seeker=seeker)
        .select_related("provider__user", "category", "engagement")
        .prefetch_related("provider__specialties")
        .order_by("-score", "id")
    )


def leads_of_user(*, user: User) -> QuerySet[Match]:
    """The introductions a provider received, newest first, with the seeker's needs."""
    return (
        Match.objects.filter(provider__user=user, introduced_at__isnull=False)
        .select_related("seeker__user", "provider", "category", "engagement")
        .prefetch_related("seeker__specialties")
        .order_by("-introduced_at", "-id")
    )


def engagements_visible_to(*, user: User) -> QuerySet[Engagement]:
    """Engagements a person is a side of, newest first; staff see all."""
    engagements = Engagement.objects.select_related(
        "seeker__user", "provider__user", "category", "reported_by", "cancel_requested_by", "match"
    ).order_by("-created_at", "-id")
    if user.is_staff:
        return engagements
    return engagements.filter(_sides_q(Engagement, user))


def engagement_list_for(*, user: User) -> QuerySet[Engagement]:
    """`engagements_visible_to` as a list's pages are cut from it: filtered and ordered, nothing
    joined or annotated (`match_list_for` says why)."""
    return engagements_visible_to(user=user).select_related(None)


def engagement_for_user(*, user: User, engagement_id: int) -> Engagement:
    """An engagement the person is a side of (staff: any), else NotFound."""
    engagement = engagements_visible_to(user=user).filter(pk=engagement_id).first()
    if engagement is None:
        raise NotFound("No such engagement.")
    return engagement


def engagements_with_my_ratings(*, user: User) -> QuerySet[Engagement]:
    """The person's engagements, each annotated with whether they rated it (`rated_by_me`)."""
    mine = Rating.objects.filter(engagement=OuterRef("pk"), rater=user)
    engagements = engagements_visible_to(user=user)
    if user.is_staff:  # staff may see every engagement; this list is only their own
        engagements = engagements.filter(_sides_q(Engagement, user))
    return engagements.annotate(rated_by_me=Exists(mine))


def ratings_visible_to(*, user: User) -> QuerySet[Rating]:
    """Ratings a person gave or received; staff see all."""
    ratings = Rating.objects.select_related("rater", "rated", "engagement", "provider").order_by("-created_at", "-id")
    if user.is_staff:
        return ratings
    return ratings.filter(Q(rater=user) | Q(rated=user))


def provider_reviews(*, provider: Provider) -> QuerySet[Rating]:
    """What seekers said about a provider (public page), newest first."""
    return (
        Rating.objects.filter(provider=provider, rated_role=RatedRole.PROVIDER)
        .select_related("rater")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class CommissionStatement:
    """What a provider owes, engagement by engagement, and the POT credit left to pay with."""

    engagements: list[Engagement]
    total_commission_usd: Decimal
    total_credit_usd: Decimal
    total_due_usd: Decimal
    total_paid_usd: Decimal
    outstanding_usd: Decimal
    credit_available_usd: Decimal


def commission_statement(*, user: User) -> CommissionStatement:
    """The commission statement of a provider (all their provider profiles): three queries."""
    engagements = list(
        Engagement.objects.filter(
            provider__user=user, status__in=(EngagementStatus.CONFIRMED, EngagementStatus.COMPLETED)
        )
        .select_related("seeker__user", "category")
        .order_by("-confirmed_at", "-id")
    )
    zero = Decimal("0.00")
    commission = sum((e.commission_usd for e in engagements), zero)
    credit = sum((e.commission_credit_usd for e in engagements), zero)
    paid = sum((e.amount_due_usd for e in engagements if e.billing_status == BillingStatus.PAID), zero)
    return CommissionStatement(
        engagements=engagements,
        total_commission_usd=commission,
        total_credit_usd=credit,
        total_due_usd=commission - credit,
        total_paid_usd=paid,
        outstanding_usd=commission - credit - paid,
        credit_available_usd=commission_credit_available_usd(user=user),
    )


def commission_totals_by_category() -> QuerySet:
    """Deal value and commission of confirmed and completed engagements, per category (admin)."""
    return (
        Engagement.objects.filter(status__in=(EngagementStatus.CONFIRMED, EngagementStatus.COMPLETED))
        .values("category__display_name")
        .annotate(
            engagements=Count("id"),
            deal_value=Sum("deal_value_usd"),
            commission=Sum("commission_usd"),
            credit=Sum("commission_credit_usd"),
            paid=Sum("commission_usd", filter=Q(billing_status=BillingStatus.PAID)),
        )
        .order_by("category__display_name")
    )


@dataclass(frozen=True)
class ProStatus:
    """What the Pro page and `GET /api/v1/pot/pro/` show: offer, price, and the person's Pro."""

    is_provider: bool
    categories: list[Category]  # the person's provider categories that offer Pro (with both rates)
    option: SpendOption | None  # the `pro_monthly` spend option (None: Pro is switched off)
    active: bool
    ends_at: datetime | None  # the end of the last back-to-back period (None: not Pro)
    saving_left_usd: Decimal  # what the running period's Pro rate may still save

    @property
    def can_buy(self) -> bool:
        return self.is_provider and bool(self.categories) and self.option is not None

    @property
    def saving_cap_usd(self) -> Decimal:
        return self.option.credit_usd() if self.option else Decimal("0.00")


def pro_status(*, user: User, now: datetime | None = None) -> ProStatus:
    """The person's Pro: whether it runs, until when, and what it gives in their categories (3 queries)."""
    now = now or timezone.now()
    categories = list(Category.objects.filter(providers__user=user).distinct().order_by("display_name"))
    running = list(
        Purchase.objects.filter(user=user, effect=SpendEffect.PRO_TIER, ends_at__gt=now).order_by("starts_at")
    )
    current = next((p for p in running if p.starts_at <= now), None)
    option = SpendOption.objects.filter(key="pro_monthly", active=True).first()
    return ProStatus(
        is_provider=bool(categories),
        categories=[category for category in categories if category.pro_commission_rate is not None],
        option=option,
        active=current is not None,
        ends_at=running[-1].ends_at if current else None,
        saving_left_usd=current.credit_remaining_usd if current else Decimal("0.00"),
    )


def matches_of_user_as_seeker(*, user: User) -> QuerySet[Match]:
    """Every match of the person's seeker profiles (the matches page), best first per profile."""
    return (
        Match.objects.filter(seeker__user=user)
        .select_related("provider__user", "provider__category", "category", "engagement")
        .order_by("seeker_id", "-score", "id")
    )


# --- Phase 1 people: invitations and their first step ---------------------------------


def imported_people_to_invite(*, resend: bool = False) -> QuerySet[User]:
    """Active people the Phase 1 import created who were never invited (by id).

    With `resend`, also those invited before who have never logged in since.
    """
    people = User.objects.filter(imported_at__isnull=False, is_active=True)
    waiting = Q(invited_at__isnull=True)
    if resend:
        waiting |= Q(last_login__isnull=True)
    return people.filter(waiting).order_by("id")


@dataclass(frozen=True)
class NextStep:
    """What a person should do first, in words, and the page where they do it."""

    path: str
    label: str
    why: str


def person_next_step(*, user: User) -> NextStep:
    """An advisor without a license adds one; someone without a profile states a need; a seeker sees matches."""
    providers = list(user.providers.select_related("category").order_by("id"))
    for provider in providers:
        if provider.category.requires_license and not provider.license_number:
            return NextStep(
                path=reverse("provider-edit", args=[provider.pk]),
                label="Add your license number",
                why=f"{provider.category.display_name} are matched only with a license number an operator verified."
                + (
                    f" As a Phase 1 advisor you are listed and matched until {provider.provisional_until:%B %d, %Y}:"
                    " add it before then."
                    if provider.awaits_license
                    else ""
                ),
            )
    if user.seekers.exists():
        return NextStep(
            path=reverse("matches"),
            label="See your matches",
            why="Your request is saved: see the providers we matched you with.",
        )
    if not providers:
        return NextStep(
            path=reverse("seeker-create") + f"?category={PHASE1_CATEGORY}",
            label="Tell us what you need",
            why="Say what you are looking for, and we match you with providers.",
        )
    return NextStep(path=reverse("dashboard"), label="Open your dashboard", why="Your profile is ready.")


# --- First steps: the home search, a person's profile in a category, profile strength ---


def category_for_search(*, text: str) -> Category | None:
    """The open category whose name, description or specialties share the most words with `text`, or None."""
    words = {word.strip(".,;:!?()\"'").lower() for word in text.split()}
    words = {word.rstrip("s") for word in words if len(word) > 2}
    if not words:
        return None
    best, best_hits = None, 0
    for category in category_list():  # a few dozen categories, specialties prefetched
        vocabulary = " ".join(
            [category.display_name, category.name.replace("_", " "), category.description]
            + [specialty.name for specialty in category.specialties.all()]
        ).lower()
        known = {word.strip(".,;:()").rstrip("s") for word in vocabulary.split()}
        hits = len(words & known)
        if hits > best_hits:
            best, best_hits = category, hits
    return best


def seeker_of_user_in(*, user: User, category: Category) -> Seeker | None:
    """The person's seeker profile in the category, if they have one."""
    return Seeker.objects.filter(user=user, category=category).first()


def provider_of_user_in(*, user: User, category: Category) -> Provider | None:
    """The person's provider profile in the category, if they have one."""
    return Provider.objects.filter(user=user, category=category).first()


PROFILE_BIO_MIN_CHARS = 200
LICENSE_VERIFIED = "A verified license"


@dataclass(frozen=True)
class ProfileStrength:
    """How complete a provider's profile is: what is done, and what is missing, in words.

    The one rule of a complete profile: the strength meter shows it, and the dashboard's
    "Action needed" list asks for what is missing (`actions_needed`).
    """

    done: list[str]
    missing: list[str]

    @property
    def percent(self) -> int:
        total = len(self.done) + len(self.missing)
        return round(100 * len(self.done) / total) if total else 100

    @property
    def to_add(self) -> list[str]:
        """What the provider can add themselves (a license waiting for an operator is not theirs to do)."""
        return [label for label in self.missing if label != LICENSE_VERIFIED]


def provider_strength(*, provider: Provider) -> ProfileStrength:
    """What seekers choose by, checked on the provider's own profile.

    Needs `provider.user` and `provider.category`; specialties are read with `.all()`, so a
    list of providers prefetches them (no query per provider).
    """
    checks = [
        ("A profile photo", bool(provider.user.photo)),
        (f"A bio of at least {PROFILE_BIO_MIN_CHARS} characters", len(provider.bio.strip()) >= PROFILE_BIO_MIN_CHARS),
        ("Your specialties", bool(provider.specialties.all())),
        ("Your prices", provider.pricing_min is not None and provider.pricing_max is not None),
        ("Your years of experience", provider.years_experience is not None),
        ("Your city and state, or remote work", bool(provider.location) or provider.remote),
    ]
    if provider.category.requires_license:
        if provider.license_number:
            checks.append((LICENSE_VERIFIED, provider.license_verified))
        else:
            checks.append(("Your license number", False))
    return ProfileStrength(
        done=[label for label, ok in checks if ok],
        missing=[label for label, ok in checks if not ok],
    )


# --- Referrals ---------------------------------------------------------------------------

REFERRAL_REACHED_ACTIVATION = (ReferralStatus.ACTIVATED, ReferralStatus.ENGAGED)


# The keys of the rows `currency.services.pot_award_reverse` writes for an award's cause.
REFERRAL_AWARD_REVERSAL_PREFIXES = ("award-reversal:", "award-reversal-debt:")


def _referral_award_kept(rule_key: str, award_field: str):
    """The POT of a referral's award for `rule_key`, 0 when none was paid or it was reversed since.

    A reversal (`currency.services.pot_award_reverse`) writes a row keyed by the award's cause
    (`<rule>:user:<referred id>`, see `marketplace.services.referrals.referral_cause`).
    """
    cause = Concat(Value(f"{rule_key}:user:"), Cast(OuterRef("referred_id"), output_field=CharField()))
    reversal_key, debt_key = REFERRAL_AWARD_REVERSAL_PREFIXES
    reversal = PotTransaction.objects.filter(
        Q(idempotency_key=Concat(Value(reversal_key), cause)) | Q(idempotency_key=Concat(Value(debt_key), cause))
    )
    kept = Coalesce(f"{award_field}__amount", Value(0), output_field=BigIntegerField())
    return Case(When(Exists(reversal), then=Value(0)), default=kept, output_field=BigIntegerField())


def referrals_with_pot() -> QuerySet[Referral]:
    """Referrals with their people, and the POT each step earned the referrer (`activation_pot`, `engagement_pot`)."""
    return _referrals_pot_annotated().select_related("referrer", "referred", "activation_award", "engagement_award")


def _referrals_pot_annotated() -> QuerySet[Referral]:
    # Without select_related: aggregating over these annotations then stays one plain query.
    return Referral.objects.annotate(
        activation_pot=_referral_award_kept("referral_profile_created", "activation_award"),
        engagement_pot=_referral_award_kept("referral_first_engagement", "engagement_award"),
    )


def referrals_visible_to(*, user: User) -> QuerySet[Referral]:
    """The people `user` referred, newest first (staff: everyone's referrals)."""
    referrals = referrals_with_pot().order_by("-signed_up_at", "-id")
    return referrals if user.is_staff else referrals.filter(referrer=user)


@dataclass(frozen=True)
class ReferralSummary:
    """What a person's referrals came to: people per step and the POT they earned the referrer."""

    signed_up: int
    activated: int
    engaged: int
    activation_pot: int
    engagement_pot: int

    @property
    def pot_earned(self) -> int:
        return self.activation_pot + self.engagement_pot


def referral_summary(*, user: User) -> ReferralSummary:
    """The dashboard's referral figures for `user`: one query (one row per person they referred),
    and one more for the awards those referrals earned, if any (what `_referral_award_kept` says
    of each: its amount, 0 once reversed). Built from plain rows: the annotated query of
    `referrals_with_pot` cost ~2 ms of CPU to compile on every dashboard."""
    rows = list(
        Referral.objects.filter(referrer=user).values_list(
            "status", "referred_id", "activation_award_id", "engagement_award_id"
        )
    )
    statuses = [status for status, _, _, _ in rows]
    awards = [
        (award_id, f"{rule_key}:user:{referred_id}", step)
        for _, referred_id, activation_id, engagement_id in rows
        for award_id, rule_key, step in (
            (activation_id, "referral_profile_created", "activation"),
            (engagement_id, "referral_first_engagement", "engagement"),
        )
        if award_id is not None
    ]
    pot = {"activation": 0, "engagement": 0}
    if awards:
        reversals = {f"{prefix}{cause}" for _, cause, _ in awards for prefix in REFERRAL_AWARD_REVERSAL_PREFIXES}
        amounts, reversed_keys = {}, set()
        for pk, amount, key in PotTransaction.objects.filter(
            Q(pk__in=[award_id for award_id, _, _ in awards]) | Q(idempotency_key__in=reversals)
        ).values_list("pk", "amount", "idempotency_key"):
            amounts[pk] = amount
            reversed_keys.add(key)
        for award_id, cause, step in awards:
            if not any(f"{prefix}{cause}" in reversed_keys for prefix in REFERRAL_AWARD_REVERSAL_PREFIXES):
                pot[step] += amounts.get(award_id, 0)
    return ReferralSummary(
        signed_up=len(statuses),
        activated=sum(status in REFERRAL_REACHED_ACTIVATION for status in statuses),
        engaged=statuses.count(ReferralStatus.ENGAGED),
        activation_pot=pot["activation"],
        engagement_pot=pot["engagement"],
    )


def referrers_by_count() -> QuerySet[Referrer]:
    """People who referred anyone, most referred people first, with how many activated and engaged.

    For the admin: a referrer with many sign-ups and few activations is what a farm looks like.
    """
    return (
        Referrer.objects.annotate(
            referred_count=Count("referrals_made"),
            activated_count=Count("referrals_made", filter=Q(referrals_made__status__in=REFERRAL_REACHED_ACTIVATION)),
            engaged_count=Count("referrals_made", filter=Q(referrals_made__status=ReferralStatus.ENGAGED)),
        )
        .filter(referred_count__gt=0)
        .order_by("-referred_count", "id")
    )


# --- The dashboard's "Action needed" list ------------------------------------------------


@dataclass(frozen=True)
class ActionItem:
    """One thing the person should do now: what, where, and for a lead the hours left to answer."""

    kind: str  # lead, confirm, cancel_request, rate, profile, license, redemption (and message: conversations adds it)
    text: str
    link: str
    action: str  # the button's words
    hours_left: int | None = None
    changes_at: datetime | None = None  # a lead: when `hours_left` (in the text) drops next


def actions_needed(*, user: User, now=None, providers: list[Provider] | None = None) -> list[ActionItem]:
    """What waits for the person, computed from facts: most urgent first (leads by time left).

    Leads waiting for an answer (with the hours left before the 72-hour expiry), engagements
    waiting for their confirmation or their answer to a cancellation, ratings they can give,
    provider profiles that are incomplete or wait for a license verification, redemptions in
    progress. A fixed number of queries, whatever the number of rows. `providers`: the person's
    provider profiles already read as `user_for_dashboard` reads them (not read again; none:
    no leads to read either).
    """
    now = now or timezone.now()
    items: list[ActionItem] = []
    # Only the columns shown are read (values, not instances of every joined row).
    leads = (
        Match.objects.filter(provider__user=user, status=MatchStatus.INTRODUCED)
        .order_by("introduced_at", "id")
        .values_list("introduced_at", "seeker__user__name", "category__display_name")
    )
    if providers is not None and not providers:
        leads = []  # a lead is a match of one of the person's provider profiles
    for introduced_at, seeker_name, category_name in leads:
        expires_at = introduced_at + INTRODUCTION_TIMEOUT
        hours = max(0, math.ceil((expires_at - now).total_seconds() / 3600))
        items.append(
            ActionItem(
                "lead",
                f"{seeker_name} asked to be introduced ({category_name}): "
                f"answer within {hours} hour{'' if hours == 1 else 's'}.",
                reverse("leads"),
                "Answer",
                hours_left=hours,
                changes_at=expires_at - timedelta(hours=hours - 1) if hours else None,
            )
        )
    # Only the two sides' names are shown: the nine-table join of the engagements page took
    # PostgreSQL ~8 ms to plan.
    engagements = (
        engagements_with_my_ratings(user=user)
        .filter(
            Q(status=EngagementStatus.REPORTED, reported_by__isnull=False) & ~Q(reported_by=user)
            | Q(status=EngagementStatus.CANCEL_REQUESTED) & ~Q(cancel_requested_by=user)
            | Q(status__in=ENGAGEMENT_RATEABLE_STATUSES, rated_by_me=False)
        )
        .values_list(
            "pk",
            "status",
            "category_name",
            "deal_value_usd",
            "seeker__user_id",
            "seeker__user__name",
            "provider__user__name",
        )
    )
    for pk, status, category_name, deal_value_usd, seeker_user_id, seeker_name, provider_name in engagements:
        other_name = provider_name if user.pk == seeker_user_id else seeker_name
        if status == EngagementStatus.REPORTED:
            items.append(
                ActionItem(
                    "confirm",
                    f"{other_name} reported engagement #{pk} ({category_name}, ${deal_value_usd:,}): confirm it.",
                    reverse("engagements"),
                    "Confirm",
                )
            )
        elif status == EngagementStatus.CANCEL_REQUESTED:
            items.append(
                ActionItem(
                    "cancel_request",
                    f"{other_name} asked to cancel engagement #{pk}: agree or dispute.",
                    reverse("engagements"),
                    "Answer",
                )
            )
        else:
            items.append(
                ActionItem(
                    "rate",
                    f"Rate {other_name} for engagement #{pk} ({category_name}).",
                    reverse("engagement-rate", args=[pk]),
                    "Rate",
                )
            )
    if providers is None:
        providers = (
            Provider.objects.filter(user=user)
            .select_related("category", "user")
            .prefetch_related("specialties")
            .order_by("id")
        )
    for provider in providers:
        strength = provider_strength(provider=provider)
        edit = reverse("provider-edit", args=[provider.pk])
        if strength.to_add:
            missing = ", ".join(label[0].lower() + label[1:] for label in strength.to_add)
            items.append(
                ActionItem(
                    "profile",
                    f"Complete {provider.business_name} ({provider.category.display_name}, "
                    f"{strength.percent}% complete): add {missing}.",
                    edit,
                    "Complete",
                )
            )
        elif LICENSE_VERIFIED in strength.missing:
            items.append(
                ActionItem(
                    "license",
                    f"{provider.business_name}: your license number waits for an operator's verification; "
                    "you are matched once it is verified.",
                    edit,
                    "Check",
                )
            )
    for redemption in redemptions_in_progress(user=user):
        waiting = (
            "waits for an operator's approval"
            if redemption.status == RedemptionStatus.PENDING
            else f"was approved (payout reference {redemption.payout_reference}); it is marked paid once it arrives"
        )
        items.append(
            ActionItem(
                "redemption",
                f"Redemption #{redemption.pk} ({redemption.pot_amount:,} POT → ${redemption.usd_amount:,}) {waiting}.",
                reverse("wallet"),
                "See",
            )
        )
    return items


# --- Operators' work queue (the admin index counts them, the admin list filters show them) ----


def providers_license_to_verify() -> QuerySet[Provider]:
    """Providers of licensed categories with a license number to check: they are not matched until verified."""
    return Provider.objects.filter(
        category__requires_license=True, license_verified=False, user__is_active=True
    ).exclude(license_number="")


# An engagement reported this long ago and still not confirmed needs an operator's nudge.
STALE_ENGAGEMENT_AGE = timedelta(days=7)
# Introductions this close to expiring are shown so an operator can prod the provider.
EXPIRY_WARNING = timedelta(hours=24)
ENGAGEMENT_WAITING_STATUSES = (EngagementStatus.REPORTED, EngagementStatus.UNDER_REVIEW)


def engagements_unconfirmed(*, reported_before: datetime) -> QuerySet[Engagement]:
    """Engagements reported before this time and still not confirmed (or approved)."""
    return Engagement.objects.filter(status__in=ENGAGEMENT_WAITING_STATUSES, created_at__lt=reported_before)


def introductions_expiring(*, introduced_before: datetime) -> QuerySet[Match]:
    """Introductions still unanswered that were made before this time (they expire 72 hours after)."""
    return Match.objects.filter(status=MatchStatus.INTRODUCED, introduced_at__lt=introduced_before)


# --- Outcomes of matches, for fitting the weights (fit_matching_weights) -------------------

# A suggestion the seeker has not acted on for this long counts as skipped (grade 0).
SUGGESTION_SKIPPED_AFTER = timedelta(days=14)


def match_outcomes(*, category: Category, now: datetime) -> list[Outcome]:
    """Every shown match of the category whose outcome is known, as the fitter sees it (two queries).

    Grades (`learning.grade`): skipped, declined or expired 0; introduction asked 1 (and an
    engagement later cancelled); accepted 2; engagement 3; rated 4 or 5 stars by the seeker 4.
    Matches recorded before the breakdown held all six factors are left out.
    """
    rows = Match.objects.filter(category=category).values_list(
        "seeker_id", "rank", "breakdown", "status", "created_at", "engagement__id", "engagement__status"
    )
    stars = dict(
        Rating.objects.filter(engagement__match__category=category, rated_role=RatedRole.PROVIDER).values_list(
            "engagement_id", "stars"
        )
    )
    outcomes = []
    for seeker_id, rank, breakdown, status, created_at, engagement_id, engagement_status in rows:
        factors = factors_of(breakdown or {})
        value = grade(
            status=status,
            engagement_status=engagement_status,
            seeker_stars=stars.get(engagement_id),
            skipped=created_at <= now - SUGGESTION_SKIPPED_AFTER,
        )
        if factors is not None and value is not None:
            outcomes.append(Outcome(seeker_id=seeker_id, factors=factors, rank=rank, grade=value))
    return outcomes


# --- Streaks --------------------------------------------------------------------------

LEAD_ANSWER_WINDOW = timedelta(hours=24)  # a lead answered (accepted or declined) this soon counts for a streak
ANSWER_ACCEPTED_RULE = "answer_accepted"  # community's earning rule: its unreversed awards count for a streak


def _weeks_by_person(rows, weeks: dict[int, set[date]]) -> None:
    for user_id, week in rows:
        weeks[user_id].add(week.date())


def streak_action_weeks(
    *, user_ids: Iterable[int], provider_user_ids: Iterable[int] | None = None
) -> dict[int, set[date]]:
    """The calendar weeks (Mondays, UTC) in which each person did something that counts for a streak.

    What counts: as a provider, answering (accepting or declining) an introduction within
    LEAD_ANSWER_WINDOW of it being made; rating the other side of an engagement that was not
    cancelled; a community answer the asker accepted with an `answer_accepted` award that was
    not taken back (the award's own limits against farming apply). Three queries, one row per
    person and week, however many people; one when `provider_user_ids` (those of them known to
    hold provider profiles) is given and empty: only a provider profile's matches are leads, and
    only a provider answers in the community (`community.services.answer_accept` awards the
    answer's provider).
    """
    ids = sorted(set(user_ids))
    weeks: dict[int, set[date]] = {user_id: set() for user_id in ids}
    if not ids:
        return weeks
    answered_by_provider = Q(status__in=(MatchStatus.ACCEPTED, MatchStatus.ENGAGED)) | Q(
        status=MatchStatus.DECLINED, declined_by_id=F("provider__user_id")
    )
    # Leads and accepted answers are a provider's: looked for among those who hold a provider profile.
    lead_ids = ids if provider_user_ids is None else sorted(set(provider_user_ids) & set(ids))
    leads = (
        Match.objects.filter(
            answered_by_provider,
            provider__user_id__in=lead_ids,
            introduced_at__isnull=False,
            responded_at__lte=F("introduced_at") + LEAD_ANSWER_WINDOW,
        )
        .order_by()
        .values_list("provider__user_id", TruncWeek("responded_at", tzinfo=UTC))
        .distinct()
    )
    if lead_ids:
        _weeks_by_person(leads, weeks)
    ratings = (
        Rating.objects.filter(rater_id__in=ids)
        .exclude(engagement__status=EngagementStatus.CANCELLED)
        .order_by()
        .values_list("rater_id", TruncWeek("created_at", tzinfo=UTC))
        .distinct()
    )
    _weeks_by_person(ratings, weeks)
    answered = award_weeks(user_ids=lead_ids, rule_key=ANSWER_ACCEPTED_RULE) if lead_ids else {}
    for user_id, answer_weeks in answered.items():
        weeks[user_id] |= answer_weeks
    return weeks


def streaks_of_people(
    *, user_ids: Iterable[int], now: datetime | None = None, provider_user_ids: Iterable[int] | None = None
) -> dict[int, Streak]:
    """Each person's current streak (three queries however many people; see `streak_action_weeks`)."""
    this_week = calendar_week(now or timezone.now())
    weeks = streak_action_weeks(user_ids=user_ids, provider_user_ids=provider_user_ids)
    return {user_id: streak_of(action_weeks=days, this_week=this_week) for user_id, days in weeks.items()}


@dataclass(frozen=True)
class StreakSummary:
    """What the dashboard and the API show of a person's streak: how long, what keeps it going, what comes next."""

    streak: Streak
    ways: list[str]  # what counts this week, in the person's roles
    next_bonus: NextBonus | None
    next_bonus_pot: int  # 0: the rule is inactive (or not seeded)
    next_bonus_starts: datetime | None  # when the week of the next bonus begins
    week_ends_at: datetime


def streak_ways(*, user: User) -> list[str]:
    """The actions that keep a streak going, for the roles the person holds."""
    ways = []
    if user.account_type in (AccountType.PROVIDER, AccountType.BOTH):
        ways.append("Answer a lead (accept or decline) within 24 hours of the introduction")
    ways.append("Rate the other side of an engagement")
    if user.account_type in (AccountType.PROVIDER, AccountType.BOTH):
        ways.append("Have a community answer accepted")
    return ways


def streak_summary(*, user: User, now: datetime | None = None, holds_provider: bool | None = None) -> StreakSummary:
    """The person's streak and its next bonus (three queries, and the earning rules when their copy expired).

    `holds_provider`: whether the person has a provider profile, when the caller knows (False:
    their answered leads are not looked for, there are none).
    """
    providers = None if holds_provider is None else ([user.pk] if holds_provider else [])
    streak = streaks_of_people(user_ids=[user.pk], now=now, provider_user_ids=providers)[user.pk]
    upcoming = streak.next_bonus
    rule = pot_rules().earning_rules.get(upcoming.rule_key) if upcoming else None
    return StreakSummary(
        streak=streak,
        ways=streak_ways(user=user),
        next_bonus=upcoming,
        next_bonus_pot=rule.pot_for() if rule is not None and rule.active else 0,
        next_bonus_starts=calendar_week_start(upcoming.week) if upcoming else None,
        week_ends_at=calendar_week_start(streak.week_ends),
    )
