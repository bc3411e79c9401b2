"""Operators' list of Pro subscribers (admin → Pro periods): who is Pro, who is about to lapse, what Pro saved."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from currency.models import Purchase
from marketplace.services.pro import pro_buy
from tests.marketplace.test_pro import PRICE, _provider_user

pytestmark = pytest.mark.django_db
LIST = "admin:currency_properiod_changelist"


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


def _period(*, starts_in_days: int, pot: int = PRICE, user=None):
    """A Pro period bought now and moved in time: it starts `starts_in_days` from now (negative: in the past)."""
    user = user or _provider_user(pot=pot)
    purchase = pro_buy(user=user, confirmed_cost=PRICE).purchase
    starts_at = timezone.now() + timedelta(days=starts_in_days)
    Purchase.objects.filter(pk=purchase.pk).update(starts_at=starts_at, ends_at=starts_at + timedelta(days=30))
    purchase.refresh_from_db()
    return purchase


@pytest.fixture
def periods():
    """Active for weeks; ending in 2 days; ending in 2 days but renewed; ended."""
    active = _period(starts_in_days=-3)
    ending = _period(starts_in_days=-28)
    renewed = _period(starts_in_days=-28, pot=2 * PRICE)
    renewal = _period(starts_in_days=0, user=renewed.user)
    Purchase.objects.filter(pk=renewal.pk).update(starts_at=renewed.ends_at, ends_at=renewed.ends_at + timedelta(30))
    ended = _period(starts_in_days=-40)
    Purchase.objects.filter(pk=ended.pk).update(credit_used_usd=Decimal("123.45"))
    return {"active": active, "ending": ending, "renewed": renewed, "renewal": renewal, "ended": ended}


def _listed(response) -> set[int]:
    return {period.pk for period in response.context["cl"].result_list}


def test_the_list_shows_every_pro_period_with_its_state_and_saving(admin_client, periods):
    page = admin_client.get(reverse(LIST))
    assert page.status_code == 200
    assert _listed(page) == {period.pk for period in periods.values()}
    text = page.content.decode()
    assert "3 providers Pro now." in text  # active, ending and renewed (the renewal is the same person)
    assert "$123.45 of $400.00" in text and "Not started" in text and "Ended" in text


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("active", {"active", "ending", "renewed"}),
        ("ending", {"ending"}),  # the renewed one is not lapsing: its renewal follows on
        ("upcoming", {"renewal"}),
        ("ended", {"ended"}),
    ],
)
def test_operators_filter_pro_periods_by_state(admin_client, periods, state, expected):
    page = admin_client.get(reverse(LIST), {"state": state})
    assert _listed(page) == {periods[name].pk for name in expected}


def test_the_list_costs_the_same_queries_for_one_period_or_many(admin_client, periods, django_assert_num_queries):
    with django_assert_num_queries(5):  # user, Pro-now count, filtered count, total count, page (the session is cached)
        admin_client.get(reverse(LIST))
    for _ in range(5):
        _period(starts_in_days=-1)
    with django_assert_num_queries(5):
        admin_client.get(reverse(LIST))


def test_pro_periods_are_read_only_even_for_superusers(admin_client, periods):
    period = periods["active"]
    assert admin_client.get(reverse("admin:currency_properiod_add")).status_code == 403
    assert admin_client.post(reverse("admin:currency_properiod_delete", args=[period.pk])).status_code == 403
    change = admin_client.post(reverse("admin:currency_properiod_change", args=[period.pk]), {"cost": 1})
    assert change.status_code in (200, 403)
    period.refresh_from_db()
    assert period.cost == PRICE


def test_only_operators_see_pro_periods(client, periods):
    client.force_login(periods["active"].user)
    assert client.get(reverse(LIST)).status_code == 302  # to the admin login
