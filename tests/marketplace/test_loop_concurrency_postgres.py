"""Races on real parallel PostgreSQL connections: a confirmation, a payment, a rating and a match run happen once."""

import pytest
from django.core.management import call_command

from currency.models import PotTransaction
from marketplace.errors import InvalidTransition
from marketplace.models import Engagement, EngagementStatus, Match, Rating
from marketplace.services import engagements, matches, ratings
from tests.concurrency import outcome_kinds, race
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import accepted_match, confirmed_engagement, make_category, make_provider, make_seeker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalog():
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - flushed by earlier transactional tests


def test_eight_parallel_confirmations_confirm_once_and_pay_nothing_yet():
    match = accepted_match()
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="1000")
    results = race(8, lambda i: engagements.engagement_confirm(engagement=engagement, user=match.provider.user))
    assert outcome_kinds(results) == {"Engagement": 1, "InvalidTransition": 7}
    assert all(isinstance(r, Engagement | InvalidTransition) for r in results)
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.CONFIRMED
    assert not PotTransaction.objects.filter(reference_type="engagement", reference_id=engagement.pk).exists()


def test_parallel_payments_of_a_commission_pay_the_bonuses_once():
    engagement = confirmed_engagement("1000")
    operator = UserFactory(is_staff=True)
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    results = race(6, lambda i: engagements.engagement_mark_paid(engagement=engagement, operator=operator))
    assert outcome_kinds(results) == {"Engagement": 1, "InvalidTransition": 5}
    rows = PotTransaction.objects.filter(
        reference_type="engagement", reference_id=engagement.pk, category="engagement_bonus"
    )
    assert sorted(row.amount for row in rows) == [50, 100]


def test_a_cancel_request_and_its_answer_race_to_one_outcome():
    engagement = confirmed_engagement("1000")
    engagements.engagement_cancel(engagement=engagement, user=engagement.seeker.user, reason="Moved")
    provider_user = engagement.provider.user
    results = race(
        4,
        lambda i: (
            engagements.engagement_cancel(engagement=engagement, user=provider_user)
            if i % 2
            else engagements.engagement_cancel_dispute(engagement=engagement, user=provider_user, reason="No")
        ),
    )
    assert outcome_kinds(results)["Engagement"] in (1, 2)  # agree, or dispute then agree
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.CANCELLED  # agreeing ends it


def test_parallel_ratings_by_one_person_save_one():
    engagement = confirmed_engagement("5000")  # its paid commission's budget holds both rating awards
    operator = UserFactory(is_staff=True)
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    engagement = engagements.engagement_mark_paid(engagement=engagement, operator=operator)  # ratings pay at once
    results = race(6, lambda i: ratings.rating_create(engagement=engagement, user=engagement.seeker.user, stars=5))
    assert outcome_kinds(results) == {"Rating": 1, "AlreadyRated": 5}
    assert Rating.objects.count() == 1
    assert PotTransaction.objects.filter(reference_type="rating").count() == 2  # given + five stars received


def test_parallel_match_runs_for_one_seeker_fill_the_slots_once():
    category = make_category()
    seeker = make_seeker(category)
    for _ in range(6):
        make_provider(category)
    results = race(4, lambda i: matches.match_run_for_seeker(seeker=seeker))
    assert sorted(len(r) for r in results) == [0, 0, 0, 3]
    assert Match.objects.filter(seeker=seeker).count() == 3
