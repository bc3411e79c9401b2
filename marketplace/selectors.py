"""Reads on people and profiles, with their related rows loaded up front."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.urls import reverse

from categories.models import Category
from categories.selectors import category_list
from currency.selectors import commission_credit_available_usd
from imatch.errors import NotFound
from marketplace.models import (
    PHASE1_CATEGORY,
    BillingStatus,
    Engagement,
    EngagementStatus,
    Match,
    MatchStatus,
    Provider,
    RatedRole,
    Rating,
    Seeker,
    User,
    match_live_q,
    provider_listed_q,
)


def category_list_with_provider_counts() -> QuerySet[Category]:
    """Active categories (specialties prefetched), each annotated with the number of providers listed publicly."""
    listed = provider_listed_q(prefix="providers__")
    return category_list().annotate(provider_count=Count("providers", filter=listed, distinct=True))


def provider_directory() -> QuerySet[Provider]:
    """Providers anyone may see: active category, and verified where a license is required."""
    return (
        Provider.objects.listed()
        .select_related("user", "category")
        .prefetch_related("specialties")
        .order_by("-rating_avg", "-rating_count", "id")
    )


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
    """The user with their seeker and provider profiles (and categories) loaded."""
    return User.objects.prefetch_related(
        Prefetch("seekers", queryset=Seeker.objects.select_related("category").order_by("id")),
        Prefetch("providers", queryset=Provider.objects.select_related("category").order_by("id")),
    ).get(pk=user.pk)


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
    return matches.filter(Q(seeker__user=user) | Q(provider__user=user, introduced_at__isnull=False))


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
    return engagements.filter(Q(seeker__user=user) | Q(provider__user=user))


def engagement_for_user(*, user: User, engagement_id: int) -> Engagement:
    """An engagement the person is a side of (staff: any), else NotFound."""
    engagement = engagements_visible_to(user=user).filter(pk=engagement_id).first()
    if engagement is None:
        raise NotFound("No such engagement.")
    return engagement


def engagements_with_my_ratings(*, user: User) -> QuerySet[Engagement]:
    """The person's engagements, each annotated with whether they rated it (`rated_by_me`)."""
    mine = Rating.objects.filter(engagement=OuterRef("pk"), rater=user)
    return (
        engagements_visible_to(user=user)
        .filter(Q(seeker__user=user) | Q(provider__user=user))
        .annotate(rated_by_me=Exists(mine))
    )


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


def matches_of_user_as_seeker(*, user: User) -> QuerySet[Match]:
    """Every match of the person's seeker profiles (the matches page), best first per profile."""
    return (
        Match.objects.filter(seeker__user=user)
        .select_related("provider__user", "category", "engagement")
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
