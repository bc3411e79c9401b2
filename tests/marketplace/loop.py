"""Builders for the core loop's tests: a category, seekers and providers made through the services."""

from decimal import Decimal

from django.utils import timezone

from categories.models import Category, Specialty
from marketplace.models import Match, Provider, Seeker
from marketplace.services import engagements, matches, profiles
from tests.categories.factories import CategoryFactory, SpecialtyFactory
from tests.marketplace.factories import UserFactory


def make_category(**fields) -> Category:
    defaults = {
        "name": "planners",
        "display_name": "Planners",
        "requires_license": False,
        "commission_rate": Decimal("0.20"),
        "matches_per_request": 3,
    }
    category = CategoryFactory(**{**defaults, **fields})
    for slug, name in (("retirement", "Retirement planning"), ("tax", "Tax planning"), ("estate", "Estate planning")):
        SpecialtyFactory(category=category, slug=slug, name=name)
    return category


def make_seeker(category: Category, user=None, **fields) -> Seeker:
    defaults = {
        "specialties": ["retirement"],
        "needs_description": "I want to retire at 60 with a steady income.",
        "budget_min": Decimal("100"),
        "budget_max": Decimal("300"),
        "city": "Austin",
        "state": "TX",
        "remote_ok": True,
    }
    return profiles.seeker_create(user=user or UserFactory(), category=category, **{**defaults, **fields})


def make_provider(category: Category, user=None, *, verified: bool = False, **fields) -> Provider:
    user = user or UserFactory()
    defaults = {
        "business_name": f"{user.name} Planning",
        "specialties": ["retirement"],
        "bio": "Fee-only planner: retirement income for families.",
        "years_experience": 10,
        "pricing_min": Decimal("150"),
        "pricing_max": Decimal("250"),
        "city": "Austin",
        "state": "TX",
        "license_number": "LIC-1" if verified else "",
    }
    provider = profiles.provider_create(user=user, category=category, **{**defaults, **fields})
    if verified:
        operator = UserFactory(is_staff=True)
        provider = profiles.provider_verify_license(provider=provider, operator=operator)
    return provider


def specialty(category: Category, slug: str) -> Specialty:
    return Specialty.objects.get(category=category, slug=slug)


def suggested_match() -> Match:
    """A seeker of "Retirement Planners" and the one provider matched to them, Reyes Planning: suggested."""
    category = make_category(display_name="Retirement Planners")
    seeker = make_seeker(category)
    make_provider(category, business_name="Reyes Planning")
    [match] = matches.match_run_for_seeker(seeker=seeker)
    return match


def accepted_match(category: Category | None = None, **provider_fields) -> Match:
    """A seeker and one provider, introduced and accepted."""
    category = category or make_category()
    seeker = make_seeker(category)
    provider = make_provider(category, **provider_fields)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    assert match.provider_id == provider.pk
    matches.match_introduce(match=match, user=seeker.user)
    return matches.match_accept(match=match, user=provider.user)


def confirmed_engagement(deal_value: str = "1000.00", category: Category | None = None):
    match = accepted_match(category)
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd=deal_value)
    return engagements.engagement_confirm(engagement=engagement, user=match.provider.user)


def hours_ago(hours: float):
    return timezone.now() - timezone.timedelta(hours=hours)


def paid_engagement(deal_value: str = "1000.00", category: Category | None = None, *, operator=None):
    """A confirmed engagement whose commission an operator invoiced and marked paid (bonuses paid)."""
    engagement = confirmed_engagement(deal_value, category)
    operator = operator or UserFactory(is_staff=True)
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    return engagements.engagement_mark_paid(engagement=engagement, operator=operator)
