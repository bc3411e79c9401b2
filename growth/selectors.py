"""Reads for growth: the facts behind badges, for a page of people in a fixed number of queries."""

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count, F

from community.selectors import accepted_answer_counts
from currency.selectors import pro_user_ids
from growth.badges import (
    EARLY_ADOPTER_DAYS,
    RISING_STAR_DAYS,
    Badge,
    PersonFacts,
    ProviderRating,
    badges_earned,
)
from library import selectors as library_selectors
from marketplace.models import Engagement, EngagementStatus, Provider, Referral, ReferralStatus, Seeker

# Engagements that count: confirmed (or past it), and not cancelled.
COUNTED_ENGAGEMENT_STATUSES = (
    EngagementStatus.CONFIRMED,
    EngagementStatus.CANCEL_REQUESTED,
    EngagementStatus.DISPUTED,
    EngagementStatus.COMPLETED,
)


def _profile_fact(person: PersonFacts, row: dict, *, provider: bool) -> None:
    """Add what one seeker or provider profile (a row of its fields) says to the person's facts."""
    person.categories.add(row["category_id"])
    launched = row["category__launched_at"]
    if launched is not None and row["created_at"] - launched <= timedelta(days=EARLY_ADOPTER_DAYS):
        person.early_adopter = True
    if provider:
        person.license_verified |= row["license_verified_at"] is not None
        person.ratings.append(ProviderRating(float(row["rating_avg"]), row["rating_count"]))


def people_facts(*, user_ids: Iterable[int]) -> dict[int, PersonFacts]:
    """The badge facts of these people (five queries however many people)."""
    ids = sorted(set(user_ids))
    facts = {user_id: PersonFacts() for user_id in ids}
    if not ids:
        return facts
    for model in (Seeker, Provider):
        fields = ["user_id", "category_id", "created_at", "category__launched_at"]
        if model is Provider:
            fields += ["license_verified_at", "rating_avg", "rating_count"]
        for row in model.objects.filter(user_id__in=ids).values(*fields):
            _profile_fact(facts[row["user_id"]], row, provider=model is Provider)
    _provider_facts(facts, ids)
    activated = (
        Referral.objects.filter(referrer_id__in=ids, status__in=(ReferralStatus.ACTIVATED, ReferralStatus.ENGAGED))
        .values("referrer_id")
        .annotate(count=Count("id"))
        .values_list("referrer_id", "count")
    )
    for user_id, count in activated:
        facts[user_id].activated_referrals = count
    for user_id in pro_user_ids(user_ids=ids):
        facts[user_id].pro = True
    return facts


def _provider_facts(facts: dict[int, PersonFacts], ids: list[int]) -> None:
    """What the people did as providers: early engagements, accepted answers, published articles (three queries)."""
    early_engagements = (
        Engagement.objects.filter(
            provider__user_id__in=ids,
            status__in=COUNTED_ENGAGEMENT_STATUSES,
            confirmed_at__lt=F("provider__user__date_joined") + timedelta(days=RISING_STAR_DAYS),
        )
        .values("provider__user_id")
        .annotate(count=Count("id"))
        .values_list("provider__user_id", "count")
    )
    for user_id, count in early_engagements:
        facts[user_id].early_engagements = count
    for user_id, count in accepted_answer_counts(user_ids=ids).items():
        facts[user_id].accepted_answers = count
    for user_id, count in library_selectors.published_counts_by_author(user_ids=ids).items():
        facts[user_id].published_articles = count


def person_badges_of(*, user, activated_referrals: int) -> list[Badge]:
    """One person's badges for a page that already read their profiles and referrals (the dashboard).

    `user` as `marketplace.selectors.user_for_dashboard` gives it (seekers and providers with
    their categories, not read again); `activated_referrals` as `referral_summary` counts them
    (the same rows `people_facts` counts). The rest as `people_facts` reads it: the provider
    facts (skipped for someone without a provider profile: each counts rows of one) and Pro.
    """
    person = PersonFacts(activated_referrals=activated_referrals)
    for many, provider in ((user.seekers, False), (user.providers, True)):
        for profile in many.all():
            row = {
                "category_id": profile.category_id,
                "created_at": profile.created_at,
                "category__launched_at": profile.category.launched_at,
            }
            if provider:
                row.update(
                    license_verified_at=profile.license_verified_at,
                    rating_avg=profile.rating_avg,
                    rating_count=profile.rating_count,
                )
            _profile_fact(person, row, provider=provider)
    if user.providers.all():
        _provider_facts({user.pk: person}, [user.pk])
    person.pro = bool(pro_user_ids(user_ids=[user.pk]))
    return badges_earned(person)


def badges_of_people(*, user_ids: Iterable[int]) -> dict[int, list[Badge]]:
    """Each person's badges, computed now from the facts (five queries however many people)."""
    return {user_id: badges_earned(person) for user_id, person in people_facts(user_ids=user_ids).items()}
