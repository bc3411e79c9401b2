"""Streak bonuses on real parallel PostgreSQL connections: concurrent checks and actions pay each bonus once."""

import pytest
from django.core.management import call_command

from currency.audit import verify_ledger
from currency.models import PotTransaction
from marketplace.services import matches
from marketplace.services.streaks import streak_bonuses_pay
from tests.concurrency import race
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker
from tests.marketplace.test_streaks import streak_weeks

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalog():
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - flushed by earlier transactional tests


def _bonuses(user) -> list[int]:
    return sorted(PotTransaction.objects.filter(user=user, category="streak_bonus").values_list("amount", flat=True))


def test_eight_parallel_checks_of_a_12_week_streak_pay_each_bonus_once():
    category = make_category()
    provider = make_provider(category, user=UserFactory())
    # Each of these commits checks the streak too (real commits here): the 4-week bonus is paid
    # while they are made, the 12-week one is left for the race.
    streak_weeks(category, provider, range(12))
    assert _bonuses(provider.user) == [50]
    results = race(8, lambda i: streak_bonuses_pay(user=provider.user))
    assert not any(isinstance(result, Exception) for result in results), results
    assert sorted(row.amount for result in results for row in result) == [150]
    assert _bonuses(provider.user) == [50, 150]
    assert verify_ledger().ok


def test_six_leads_answered_at_once_in_the_fourth_week_pay_the_bonus_once():
    category = make_category()
    provider = make_provider(category, user=UserFactory())
    streak_weeks(category, provider, [1, 2, 3])
    introduced = []
    for _ in range(6):
        seeker = make_seeker(category)
        [match] = [m for m in matches.match_run_for_seeker(seeker=seeker) if m.provider_id == provider.pk]
        introduced.append(matches.match_introduce(match=match, user=seeker.user))
    # Each decline commits, then checks the streak after its commit (as the web and the API do).
    results = race(6, lambda i: matches.match_decline(match=introduced[i], user=provider.user))
    assert not any(isinstance(result, Exception) for result in results), results
    assert _bonuses(provider.user) == [50]
    assert verify_ledger().ok
