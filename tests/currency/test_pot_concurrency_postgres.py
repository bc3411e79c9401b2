"""Real parallel connections against PostgreSQL: row locks keep the ledger exact under races.

Each thread has its own database connection and transaction; a barrier releases them
together. Marked `postgres`: skipped on SQLite (whose writers are serialized anyway; see
test_pot_concurrency_sqlite.py for the API under several gunicorn workers).
"""

import pytest
from django.core.management import call_command

from currency import services
from currency.audit import verify_ledger
from currency.ledger import Posting, ledger_atomic, ledger_post_many
from currency.models import PotTransaction, Wallet
from tests.concurrency import outcome_kinds, race
from tests.currency.factories import balance_of, pot_fund
from tests.marketplace.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalog():
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - flushed by earlier transactional tests


def test_twenty_concurrent_spends_of_100_from_1000_exactly_ten_succeed():
    seeker = UserFactory()
    pot_fund(seeker, 1000)
    results = race(20, lambda i: services.pot_spend(user=seeker, option_key="extra_matches"))
    kinds = outcome_kinds(results)
    assert kinds == {"SpendResult": 10, "InsufficientPot": 10}, kinds
    assert balance_of(seeker) == 0
    assert PotTransaction.objects.filter(user=seeker, transaction_type="spend").count() == 10
    assert verify_ledger().ok


def test_spends_racing_credits_draw_promotional_pot_first_and_the_ledger_chains():
    """Spends (one statement each) and promotional awards (the general path) on one wallet at once: every
    spend takes promotional POT first from the balance it found, and the rows chain."""
    person = UserFactory(account_type="both")
    ledger_atomic(ledger_post_many)(
        [Posting(user_id=person.pk, amount=2000, transaction_type="adjust", category="x", promotional=350)]
    )

    def act(i: int):
        if i % 4 == 3:
            return services.pot_award(user=person, rule_key="profile_creation_seeker", cause=f"race:{i}")
        return services.pot_spend(user=person, option_key="extra_matches", idempotency_key=f"race-{i}")

    results = race(24, act)
    assert not any(isinstance(result, Exception) for result in results), results
    assert verify_ledger().ok  # balances are the sums of their rows, and each row's balance_after chains
    wallet = Wallet.objects.get(user=person)
    rows = list(PotTransaction.objects.filter(user=person).order_by("id"))
    assert wallet.promotional_balance == sum(row.promotional_amount for row in rows) >= 0
    spends = [row for row in rows if row.transaction_type == "spend"]
    assert len(spends) == 18 and all(-row.promotional_amount <= 100 for row in spends)
    promotional_before = 0
    for row in rows:  # each spend took min(cost, the promotional POT the wallet held then)
        if row.transaction_type == "spend":
            assert -row.promotional_amount == min(100, promotional_before), row
        promotional_before += row.promotional_amount


def test_twenty_concurrent_awards_with_the_same_cause_make_exactly_one_row():
    person = UserFactory()
    results = race(
        20, lambda i: services.pot_award(user=person, rule_key="rating_given", cause="rating_given:rating:77")
    )
    assert sum(result is not None and not isinstance(result, Exception) for result in results) == 1, results
    assert not any(isinstance(result, Exception) for result in results), results
    assert PotTransaction.objects.filter(idempotency_key="award:rating_given:rating:77").count() == 1
    assert balance_of(person) == 10
    assert Wallet.objects.filter(user=person).count() == 1


def test_concurrent_first_postings_share_one_new_wallet():
    person = UserFactory()
    results = race(20, lambda i: services.pot_award(user=person, rule_key="rating_given", cause=f"rating:{i}"))
    assert not any(isinstance(result, Exception) for result in results), results
    assert Wallet.objects.filter(user=person).count() == 1
    assert balance_of(person) == 200
    assert verify_ledger().ok


def test_concurrent_retries_with_one_idempotency_key_charge_once():
    seeker = UserFactory()
    pot_fund(seeker, 1000)
    results = race(
        10, lambda i: services.pot_spend(user=seeker, option_key="extra_matches", idempotency_key="double-click")
    )
    assert not any(isinstance(result, Exception) for result in results), results
    assert len({result.transaction.pk for result in results}) == 1
    assert sum(not result.replayed for result in results) == 1
    assert balance_of(seeker) == 900


def test_two_concurrent_approvals_of_one_redemption_one_wins():
    person = UserFactory(verified=True)
    operators = [UserFactory(is_staff=True) for _ in range(2)]
    pot_fund(person, 500)
    redemption = services.redemption_request(user=person, pot_amount=500, payment_method="x").redemption
    results = race(
        2,
        lambda i: services.redemption_approve(
            redemption_id=redemption.pk, operator=operators[i], payout_reference=f"PP-{i}"
        ),
    )
    kinds = outcome_kinds(results)
    assert kinds == {"Redemption": 1, "AlreadyDecided": 1}, results
    redemption.refresh_from_db()
    assert redemption.status == "approved"
    assert redemption.decided_by_id in {op.pk for op in operators}


def test_approve_racing_reject_one_wins_and_the_pot_is_right():
    person = UserFactory(verified=True)
    operator = UserFactory(is_staff=True)
    pot_fund(person, 500)
    redemption = services.redemption_request(user=person, pot_amount=500, payment_method="x").redemption

    def decide(i: int):
        if i % 2:
            return services.redemption_reject(redemption_id=redemption.pk, operator=operator, reason="no")
        return services.redemption_approve(redemption_id=redemption.pk, operator=operator, payout_reference="PP")

    results = race(8, decide)
    assert outcome_kinds(results) == {"Redemption": 1, "AlreadyDecided": 7}, results
    redemption.refresh_from_db()
    assert balance_of(person) == (500 if redemption.status == "rejected" else 0)
    assert PotTransaction.objects.filter(transaction_type="refund").count() == (redemption.status == "rejected")
    assert verify_ledger().ok


def test_crossing_multi_wallet_postings_do_not_deadlock():
    alice, bob = UserFactory(), UserFactory()
    pot_fund(alice, 1000)
    pot_fund(bob, 1000)

    @ledger_atomic
    def transfer(source, target):
        return ledger_post_many(
            [
                Posting(user_id=source.pk, amount=-1, transaction_type="adjust", category="transfer"),
                Posting(user_id=target.pk, amount=1, transaction_type="adjust", category="transfer"),
            ]
        )

    results = race(20, lambda i: transfer(alice, bob) if i % 2 else transfer(bob, alice))
    assert not any(isinstance(result, Exception) for result in results), results
    assert balance_of(alice) + balance_of(bob) == 2000
    assert verify_ledger().ok


def test_concurrent_reversals_of_one_award_take_it_back_once():
    person = UserFactory()
    services.pot_award(user=person, rule_key="engagement_bonus_seeker", cause="engagement_bonus:seeker:engagement:1")
    pot_fund(person, 1000)
    results = race(10, lambda i: services.pot_award_reverse(cause="engagement_bonus:seeker:engagement:1", reason="x"))
    assert sum(result is not None for result in results) == 1, results
    assert balance_of(person) == 1000
