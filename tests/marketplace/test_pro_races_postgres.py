"""Pro under real parallel connections (PostgreSQL): periods never overlap, the saving cap holds.

Each thread has its own connection and transaction; a barrier releases them together.
Marked `postgres`: skipped on SQLite, whose writers are serialized anyway.
"""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from currency.audit import verify_ledger
from currency.models import Purchase, SpendEffect
from currency.services import pro_saving_take
from marketplace.services.pro import pro_buy
from tests.concurrency import outcome_kinds, race
from tests.currency.factories import balance_of, pot_fund
from tests.marketplace.test_pro import PRICE, _provider_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalog():
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - flushed by earlier transactional tests


def _periods(user) -> list[Purchase]:
    return list(Purchase.objects.filter(user=user, effect=SpendEffect.PRO_TIER).order_by("starts_at"))


def test_two_parallel_purchases_with_enough_pot_make_two_periods_back_to_back():
    user = _provider_user(pot=2 * PRICE)
    before = balance_of(user)  # the price twice, and the profile's own award
    results = race(2, lambda i: pro_buy(user=user, confirmed_cost=PRICE))
    assert outcome_kinds(results) == {"SpendResult": 2}, results
    first, second = _periods(user)
    assert second.starts_at == first.ends_at  # the second waits for the first: never two periods at once
    assert before - balance_of(user) == 2 * PRICE
    assert verify_ledger().ok


def test_parallel_purchases_with_pot_for_one_period_sell_exactly_one():
    user = _provider_user(pot=0)
    pot_fund(user, PRICE - balance_of(user))  # exactly one period's price
    results = race(5, lambda i: pro_buy(user=user, confirmed_cost=PRICE))
    assert outcome_kinds(results) == {"SpendResult": 1, "InsufficientPot": 4}, results
    assert len(_periods(user)) == 1 and balance_of(user) == 0
    assert verify_ledger().ok


def test_parallel_double_clicks_with_one_key_charge_once():
    user = _provider_user(pot=3 * PRICE)
    before = balance_of(user)
    results = race(5, lambda i: pro_buy(user=user, idempotency_key="renew-click", confirmed_cost=PRICE))
    assert not any(isinstance(result, Exception) for result in results), results
    assert sum(not result.replayed for result in results) == 1
    assert len(_periods(user)) == 1 and before - balance_of(user) == PRICE


def test_parallel_confirmations_never_save_more_than_the_period_cap():
    user = _provider_user()
    [period] = [pro_buy(user=user, confirmed_cost=PRICE).purchase]
    cap = period.credit_usd  # 500 POT x $0.80 = $400
    results = race(10, lambda i: pro_saving_take(user_id=user.pk, at=timezone.now(), saving_usd=Decimal("60.00")))
    assert not any(isinstance(result, Exception) for result in results), results
    assert sum(results) == cap  # six full takes and one of $40, then nothing
    assert sorted(results, reverse=True)[:7] == [Decimal("60.00")] * 6 + [Decimal("40.00")]
    period.refresh_from_db()
    assert period.credit_used_usd == cap
