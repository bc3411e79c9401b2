"""The economy page's daily and weekly figures: flows, circulation at each day's end, participation at
each week's end, earning sources and spending patterns per reason, checked against hand-computed
values, in a pinned number of queries."""

import zoneinfo
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from currency.ledger import ledger_atomic, ledger_post
from currency.selectors import economy_daily, economy_statistics, economy_weekly
from currency.services import pot_spend, redemption_request
from marketplace.models import User
from tests.currency.factories import pot_fund
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


@contextmanager
def at(moment):
    """Everything written inside happens at `moment` (ledger rows and the people's sign-up alike)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _joined(moment, **fields):
    user = UserFactory(verified=True, **fields)
    User.objects.filter(pk=user.pk).update(date_joined=moment)  # the default is the unpatched clock
    return user


@pytest.fixture
def market(settings):
    settings.POT_MIN_REDEMPTION = 10
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115
    now = timezone.now()
    old, recent = _joined(now - timedelta(days=20)), _joined(now - timedelta(days=9), account_type="provider")
    operator = UserFactory(is_staff=True)
    with at(now - timedelta(days=20)):  # before the two weeks shown
        pot_fund(old, 300)
    with at(now - timedelta(days=10)):  # week 1 (8-14 days ago)
        pot_spend(user=old, option_key="extra_matches")  # 100 spent and burned
    with at(now - timedelta(days=9)):
        pot_fund(recent, 50)
    with at(now - timedelta(days=2)):  # week 0 (the last 7 days)
        redemption_request(user=recent, pot_amount=50, payment_method="PayPal me@example.com")
    with at(now - timedelta(days=1)):
        pot_spend(user=old, option_key="extra_matches")  # 100 spent...
        # ...of which a premium article's unlock would pass 30 on to its author: spent, not burned.
        ledger_atomic(ledger_post)(user_id=old.pk, amount=30, transaction_type="earn", category="content_author_share")
        pot_fund(operator, 500)  # staff: in no participation figure
    return now


def test_weekly_figures_match_hand_computed_values(market, django_assert_num_queries):
    with django_assert_num_queries(3):
        weekly = economy_weekly(weeks=2, now=market)
    last_week, this_week = weekly["weeks"]
    assert (last_week["earned"], last_week["burned"], last_week["redeemed"]) == (0, 100, 0)
    assert (this_week["earned"], this_week["burned"], this_week["redeemed"]) == (30, 70, 50)
    # Week 1's end: old holds 200, recent 50 -> 2 of 2; week 0's end: old 130, recent 0 (held) -> 1 of 2.
    assert (last_week["users_with_pot"], last_week["users"], last_week["participation_rate_display"]) == (
        2,
        2,
        "100.0%",
    )
    assert (this_week["users_with_pot"], this_week["users"], this_week["participation_rate_display"]) == (1, 2, "50.0%")
    assert [(row["label"], row["pot"]) for row in weekly["earning"]] == [("Content author share", [0, 30])]
    assert [(row["label"], row["pot"]) for row in weekly["spending"]] == [("Extra matches", [100, 100])]
    assert this_week["participation_rate"] == economy_statistics()["participation_rate"]


def test_a_week_before_anyone_joined_reads_zero():
    weekly = economy_weekly(weeks=3)
    assert len(weekly["weeks"]) == 3 and weekly["earning"] == weekly["spending"] == []
    assert [week["participation_rate_display"] for week in weekly["weeks"]] == ["0.0%"] * 3


def test_daily_figures_follow_the_ledger_day_by_day(market, django_assert_num_queries):
    with django_assert_num_queries(2):
        days = economy_daily(days=30, now=market)
    assert len(days) == 30 and days[-1]["day"] == market.date().isoformat()
    by_day = {day["day"]: day for day in days}

    def on(days_ago: int) -> tuple[int, int, int, int]:
        day = by_day[(market - timedelta(days=days_ago)).date().isoformat()]
        return day["earned"], day["burned"], day["redeemed"], day["circulation"]

    assert on(21) == (0, 0, 0, 0)
    assert on(20) == (0, 0, 0, 300)  # an operator's adjustment: in circulation, not earned
    assert on(10) == (0, 100, 0, 200)
    assert on(9) == (0, 0, 0, 250)
    assert on(2) == (0, 0, 50, 200)  # a held redemption leaves circulation
    assert on(1) == (30, 70, 0, 630)  # 100 spent, 30 of it passed on; the operator's 500 count in circulation
    assert on(0)[3] == economy_statistics()["total_pot_in_circulation"] == 630
    assert sum(day["burned"] for day in days) == economy_statistics()["total_pot_burned_all_time"] == 170


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])  # +14, -11: at any hour, one moves a day
def test_daily_figures_are_the_servers_days_whatever_zone_the_operator_reads_in(market, zone):
    """The admin's economy page runs in the operator's zone (imatch.time_zones); its days stay the server's."""
    in_utc = economy_daily(days=30, now=market)
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        assert economy_daily(days=30, now=market) == in_utc
    assert in_utc[-1]["day"] == market.date().isoformat()


def test_daily_circulation_starts_from_the_rows_before_the_window(market):
    days = economy_daily(days=5, now=market)
    assert days[0]["circulation"] == 250 and days[-1]["circulation"] == 630  # 4 days ago: the rows before it
