"""The posting function and the database's own guards: immutability, CHECKs, faults, retries."""

import ast
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from currency import ledger, services, triggers
from currency.audit import verify_ledger
from currency.errors import InsufficientPot
from currency.ledger import IdempotencyKeyTaken, Posting, ledger_atomic, ledger_post, ledger_post_many
from currency.models import PotTransaction, Purchase, SpendOption, Wallet
from currency.services import pot_award, pot_award_reverse
from tests.currency.factories import balance_of, pot_fund, rows_of
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


def _post(**fields):
    return ledger_atomic(lambda: ledger_post(**fields))()


def test_posting_writes_row_and_balance_and_creates_the_wallet(user):
    assert not Wallet.objects.filter(user=user).exists()
    row = _post(user_id=user.pk, amount=30, transaction_type="adjust", category="x")
    assert (row.amount, row.balance_after) == (30, 30)
    assert Wallet.objects.get(user=user).balance == 30
    row = _post(user_id=user.pk, amount=-30, transaction_type="adjust", category="x")
    assert row.balance_after == 0 and balance_of(user) == 0


def test_posting_below_zero_is_refused_and_writes_nothing(user):
    pot_fund(user, 10)
    with pytest.raises(InsufficientPot):
        _post(user_id=user.pk, amount=-11, transaction_type="adjust", category="x")
    assert balance_of(user) == 10 and len(rows_of(user)) == 1


def test_posting_needs_a_transaction(user):
    with (
        mock.patch.object(ledger, "in_transaction", return_value=False),
        pytest.raises(RuntimeError, match="inside a transaction"),
    ):
        ledger_post(user_id=user.pk, amount=1, transaction_type="adjust", category="x")


@pytest.mark.parametrize("amount", [0, 1.5, "10", True, None])
def test_amount_must_be_a_non_zero_whole_number(user, amount):
    with pytest.raises(ValueError):
        Posting(user_id=user.pk, amount=amount, transaction_type="adjust", category="x")


def test_unknown_type_is_refused(user):
    with pytest.raises(ValueError):
        Posting(user_id=user.pk, amount=1, transaction_type="gift", category="x")


def test_idempotency_key_is_claimed_by_the_insert(user):
    _post(user_id=user.pk, amount=5, transaction_type="earn", category="x", idempotency_key="award:k")
    with pytest.raises(IdempotencyKeyTaken):
        _post(user_id=user.pk, amount=5, transaction_type="earn", category="x", idempotency_key="award:k")
    assert balance_of(user) == 5


def test_multi_wallet_posting_is_all_or_nothing(user, other_user):
    pot_fund(user, 10)

    @ledger_atomic
    def transfer(amount):
        return ledger_post_many(
            [
                Posting(user_id=other_user.pk, amount=amount, transaction_type="adjust", category="transfer"),
                Posting(user_id=user.pk, amount=-amount, transaction_type="adjust", category="transfer"),
            ]
        )

    with pytest.raises(InsufficientPot):
        transfer(11)
    assert (balance_of(user), balance_of(other_user)) == (10, 0)
    transfer(10)
    assert (balance_of(user), balance_of(other_user)) == (0, 10)


# --- The database refuses what no code path may do ------------------------------------


def test_immutability_triggers_are_installed():
    assert triggers.installed(connection)


@pytest.mark.parametrize("migration", ["0002_immutable_transactions.py", "0004_fewer_transaction_indexes.py"])
def test_trigger_migrations_carry_their_own_sql(migration):
    """Migrations are history: an edit of `currency.triggers` must not change what they did."""
    source = (Path(settings.BASE_DIR) / "currency" / "migrations" / migration).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert {name.split(".")[0] for name in imported} <= {"django"}, imported
    assert "pot_transactions rows are immutable" in source


def test_raw_sql_update_of_a_transaction_fails(user):
    row = pot_fund(user, 10)
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE pot_transactions SET amount = 1000000 WHERE id = %s", [row.pk])
    assert PotTransaction.objects.get(pk=row.pk).amount == 10


def test_raw_sql_delete_of_a_transaction_fails(user):
    row = pot_fund(user, 10)
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM pot_transactions WHERE id = %s", [row.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM pot_transactions")
    assert PotTransaction.objects.filter(pk=row.pk).exists()


def test_orm_update_and_delete_fail_too(user):
    row = pot_fund(user, 10)
    with pytest.raises(DatabaseError), transaction.atomic():
        PotTransaction.objects.filter(pk=row.pk).update(note="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        PotTransaction.objects.filter(pk=row.pk)._raw_delete(using="default")
    with pytest.raises(RuntimeError, match="immutable"):
        row.save()
    with pytest.raises(RuntimeError, match="immutable"):
        row.delete()
    assert PotTransaction.objects.get(pk=row.pk).note == "Test funding"


def test_database_refuses_a_negative_wallet_balance(user):
    pot_fund(user, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(user=user).update(balance=-1)


@pytest.mark.parametrize(
    ("transaction_type", "amount", "balance_after"),
    [("earn", -5, 0), ("spend", 5, 5), ("redeem", 5, 5), ("burn", 5, 5), ("refund", -5, 0), ("adjust", 0, 0)],
)
def test_database_refuses_rows_with_the_wrong_sign(user, transaction_type, amount, balance_after):
    with pytest.raises(IntegrityError), transaction.atomic():
        PotTransaction.objects.create(
            user=user,
            transaction_type=transaction_type,
            category="x",
            amount=amount,
            balance_after=balance_after,
            idempotency_key=f"k-{transaction_type}",
        )


def test_database_refuses_a_negative_balance_after(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        PotTransaction.objects.create(
            user=user, transaction_type="adjust", category="x", amount=-5, balance_after=-5, idempotency_key="k"
        )


# --- A fault in the middle leaves nothing behind ---------------------------------------


def test_fault_after_the_row_is_written_leaves_nothing(user, monkeypatch):
    # The general path writes the row and the balance in two statements (on PostgreSQL a lone
    # posting writes both in one: see the next test).
    monkeypatch.setattr(ledger, "ONE_STATEMENT_POSTINGS", False)
    pot_fund(user, 100)
    written = []
    real_insert = ledger._insert

    def insert_then_crash(*args, **kwargs):
        written.append(real_insert(*args, **kwargs))  # the row is in the table now ...
        raise RuntimeError("power cut between the row and the balance")  # ... and then the fault

    with mock.patch.object(ledger, "_insert", side_effect=insert_then_crash), pytest.raises(RuntimeError):
        _post(user_id=user.pk, amount=-40, transaction_type="adjust", category="x", idempotency_key="spend:fault")
    assert written and written[0].pk
    assert balance_of(user) == 100
    assert [row.amount for row in rows_of(user)] == [100]
    assert not PotTransaction.objects.filter(idempotency_key="spend:fault").exists()
    # The key was never claimed: the retry goes through.
    assert _post(user_id=user.pk, amount=-40, transaction_type="adjust", category="x", idempotency_key="spend:fault")


@pytest.mark.postgres
def test_fault_after_the_one_statement_posting_leaves_nothing(user):
    pot_fund(user, 100)
    real_move = ledger._move
    moves = []

    def crash_after_the_statement(*args, **kwargs):
        moves.append(args)
        if len(moves) == 1:  # the in-memory copy, worked out before the statement: the statement runs next
            return real_move(*args, **kwargs)
        raise RuntimeError("power cut after the statement")

    with mock.patch.object(ledger, "_move", side_effect=crash_after_the_statement), pytest.raises(RuntimeError):
        _post(user_id=user.pk, amount=-40, transaction_type="adjust", category="x", idempotency_key="spend:fault")
    assert balance_of(user) == 100
    assert [row.amount for row in rows_of(user)] == [100]
    assert _post(user_id=user.pk, amount=-40, transaction_type="adjust", category="x", idempotency_key="spend:fault")
    assert balance_of(user) == 60


def test_fault_in_a_service_after_posting_rolls_the_posting_back(user, monkeypatch):
    monkeypatch.setattr(ledger, "ONE_STATEMENT_POSTINGS", False)  # the general path: the row, then the purchase
    pot_fund(user, 1000)
    with (
        mock.patch.object(services, "instance_insert", side_effect=RuntimeError("crash after the row")),
        pytest.raises(RuntimeError),
    ):
        services.pot_spend(user=user, option_key="extra_matches")
    assert balance_of(user) == 1000 and len(rows_of(user)) == 1


@pytest.mark.postgres
def test_a_posting_and_its_record_in_one_statement_are_written_together_or_not_at_all(user):
    ledger_post(user_id=user.pk, amount=1000, transaction_type="adjust", category="x", promotional=300)
    option = SpendOption.objects.get(key="extra_matches")
    now = timezone.now()

    def spend(cost: int, key: str):
        posting = Posting(user_id=user.pk, amount=-100, transaction_type="spend", category="x", idempotency_key=key)
        record = Purchase(user=user, option=option, effect=option.effect, cost=cost, created_at=now)
        return ledger.ledger_post_recorded(posting, record, link="transaction", now=now), record

    row, purchase = spend(100, "one")
    assert (row.amount, row.balance_after, row.promotional_amount) == (-100, 900, -100)  # promotional POT first
    assert Purchase.objects.get(transaction=row) == purchase and purchase.transaction_id == row.pk
    # The purchase's insert fails (its cost must be positive): the wallet and the row stay as they were.
    assert spend(0, "two") == (None, mock.ANY)
    # A taken key: nothing is written either, and the caller hears it as from `ledger_post`.
    with pytest.raises(IdempotencyKeyTaken):
        spend(100, "one")
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.promotional_balance) == (900, 200)
    assert [r.amount for r in rows_of(user)] == [1000, -100] and Purchase.objects.filter(user=user).count() == 1
    assert verify_ledger().ok


# --- Retries ----------------------------------------------------------------------------


class _DriverError(Exception):
    sqlstate = "40001"  # what psycopg puts on a serialization failure


def _serialization_failure() -> OperationalError:
    error = OperationalError("could not serialize access")
    error.__cause__ = _DriverError()
    return error


def test_outermost_block_is_retried_on_serialization_failure(user, monkeypatch):
    calls = []

    def body():
        calls.append(1)
        if len(calls) < 3:
            raise _serialization_failure()
        return ledger_post(user_id=user.pk, amount=7, transaction_type="adjust", category="x")

    monkeypatch.setattr(ledger.time, "sleep", lambda seconds: None)
    wrapped = ledger_atomic(body)
    # pytest-django wraps each test in a transaction: make the block believe it is outermost.
    # The wrapper asks first (outermost: no); ledger_post then asks from inside the block (yes).
    with mock.patch.object(ledger, "in_transaction", side_effect=[False] + [True] * 10):
        row = wrapped()
    assert len(calls) == 3 and row.amount == 7


def test_retries_give_up_and_other_errors_are_not_retried(user, monkeypatch):
    monkeypatch.setattr(ledger.time, "sleep", lambda seconds: None)
    attempts = []

    def always_conflicts():
        attempts.append(1)
        raise _serialization_failure()

    def fails_otherwise():
        attempts.append(1)
        raise OperationalError("disk full")

    with mock.patch.object(ledger, "in_transaction", return_value=False):
        with pytest.raises(OperationalError):
            ledger_atomic(always_conflicts)()
        assert len(attempts) == ledger.RETRY_ATTEMPTS
        attempts.clear()
        with pytest.raises(OperationalError):
            ledger_atomic(fails_otherwise)()
        assert len(attempts) == 1


def test_inside_a_callers_transaction_the_caller_owns_the_retry(user):
    attempts = []

    def conflicts():
        attempts.append(1)
        raise _serialization_failure()

    with pytest.raises(OperationalError):
        ledger_atomic(conflicts)()
    assert len(attempts) == 1


def test_lifetime_earned_counts_awards_less_reversals_only():
    user = UserFactory()
    pot_award(user=user, rule_key="rating_given", cause="c")
    pot_fund(user, 1000)
    pot_award_reverse(cause="c", reason="r")
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.lifetime_earned) == (1000, 0)
