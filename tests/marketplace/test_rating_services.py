"""Ratings through the services: once per side, after confirmation; averages and POT awards."""

from decimal import Decimal

import pytest
from django.core import mail

from imatch.errors import DomainError
from marketplace.errors import InvalidTransition, WrongSide
from marketplace.models import Provider, Rating
from marketplace.services import engagements, matches, ratings
from tests.currency.factories import balance_of
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import accepted_match, confirmed_engagement, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


@pytest.fixture
def engagement():
    return confirmed_engagement()


def test_the_seeker_rates_the_provider_and_the_average_updates(engagement, django_capture_on_commit_callbacks):
    seeker_user, provider_user = engagement.seeker.user, engagement.provider.user
    before = balance_of(seeker_user), balance_of(provider_user)
    with django_capture_on_commit_callbacks(execute=True):
        rating = ratings.rating_create(engagement=engagement, user=seeker_user, stars=5, review="Clear and kind.")

    assert rating.rated == provider_user and rating.rated_role == "provider"
    provider = Provider.objects.get(pk=engagement.provider_id)
    assert provider.rating_avg == Decimal("5.00") and provider.rating_count == 1
    # The awards wait for the commission (tests/marketplace/test_rating_awards.py).
    assert (balance_of(seeker_user), balance_of(provider_user)) == before
    assert [m.to for m in mail.outbox if "rated you" in m.body] == [[provider_user.email]]


def test_the_provider_rates_the_seeker_without_touching_the_provider_average(engagement):
    provider_user, seeker_user = engagement.provider.user, engagement.seeker.user
    before = balance_of(provider_user), balance_of(seeker_user)
    rating = ratings.rating_create(engagement=engagement, user=provider_user, stars=4)
    assert rating.rated == seeker_user and rating.rated_role == "seeker"
    assert Provider.objects.get(pk=engagement.provider_id).rating_count == 0
    assert (balance_of(provider_user), balance_of(seeker_user)) == before  # awards wait for the commission


def test_the_average_covers_every_engagement_of_the_provider():
    category = make_category()
    provider = make_provider(category)
    for stars in (5, 2):
        seeker = make_seeker(category)
        [match] = matches.match_run_for_seeker(seeker=seeker)
        matches.match_introduce(match=match, user=seeker.user)
        matches.match_accept(match=match, user=provider.user)
        engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="50")
        engagement = engagements.engagement_confirm(engagement=engagement, user=provider.user)
        ratings.rating_create(engagement=engagement, user=seeker.user, stars=stars)
    provider.refresh_from_db()
    assert (provider.rating_avg, provider.rating_count) == (Decimal("3.50"), 2)


def test_nobody_rates_twice(engagement):
    ratings.rating_create(engagement=engagement, user=engagement.seeker.user, stars=3)
    before = balance_of(engagement.seeker.user)
    with pytest.raises(DomainError) as refused:
        ratings.rating_create(engagement=engagement, user=engagement.seeker.user, stars=5)
    assert refused.value.code == "already_rated"
    assert Rating.objects.count() == 1 and balance_of(engagement.seeker.user) == before


def test_nobody_rates_before_confirmation_or_from_outside():
    match = accepted_match()
    reported = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="100")
    with pytest.raises(InvalidTransition):
        ratings.rating_create(engagement=reported, user=match.seeker.user, stars=5)
    engagements.engagement_confirm(engagement=reported, user=match.provider.user)
    with pytest.raises(WrongSide):
        ratings.rating_create(engagement=reported, user=UserFactory(), stars=5)
    assert not Rating.objects.exists()


def test_a_cancelled_engagement_is_not_rated(engagement):
    engagements.engagement_cancel(engagement=engagement, user=engagement.seeker.user, reason="No")
    with pytest.raises(InvalidTransition):
        ratings.rating_create(engagement=engagement, user=engagement.seeker.user, stars=1)


@pytest.mark.parametrize("stars", [0, 6, -1, "5", 4.5, True, None])
def test_stars_are_one_to_five(engagement, stars):
    with pytest.raises(DomainError) as refused:
        ratings.rating_create(engagement=engagement, user=engagement.seeker.user, stars=stars)
    assert refused.value.field == "stars"
    assert not Rating.objects.exists()


def test_the_database_refuses_bad_stars_and_second_ratings(engagement):
    from django.db import IntegrityError, transaction

    fields = {
        "engagement": engagement,
        "rater": engagement.seeker.user,
        "rated": engagement.provider.user,
        "rated_role": "provider",
        "provider": engagement.provider,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(stars=6, **fields)
    Rating.objects.create(stars=4, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(stars=4, **fields)
