"""The posting function: the only code that writes wallets and POT transactions.

`ledger_post` runs inside the caller's transaction. For each posting it locks the wallet
row (`SELECT … FOR UPDATE`, several wallets in id order so two postings never wait on each
other crosswise), checks the new balance, inserts the row with its `balance_after` and
updates the cached balance. The row's unique `idempotency_key` is claimed by the INSERT
itself, inside a savepoint: a second posting for the same cause fails on the unique index
and raises `IdempotencyKeyTaken` — there is no read-then-insert window.

`ledger_atomic` is the `transaction.atomic` for services that post: when it opens the
outermost transaction it retries the whole block on PostgreSQL serialization failures and
deadlocks (SQLSTATE 40001, 40P01) and on SQLite's "database is locked".
"""

import functools
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from currency.errors import InsufficientPot
from currency.models import PotTransaction, TransactionType, Wallet

P = ParamSpec("P")
R = TypeVar("R")

RETRY_ATTEMPTS = 5
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
AWARD_REVERSAL = "award_reversal"


def award_key(cause: str) -> str:
    """The idempotency key of an award: one row per cause, claimed by the INSERT."""
    return f"award:{cause}"


class IdempotencyKeyTaken(Exception):
    """A row with this idempotency key exists: the cause was already posted."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Posting:
    """One change of one wallet, as a service asks for it."""

    user_id: int
    amount: int
    transaction_type: str
    category: str
    idempotency_key: str = ""
    reference_type: str = ""
    reference_id: int | None = None
    actor_id: int | None = None
    note: str = ""
    request_fingerprint: str = ""

    def __post_init__(self):
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount == 0:
            raise ValueError(f"A posting's amount is a non-zero whole number of POT, not {self.amount!r}.")
        if self.transaction_type not in TransactionType.values:
            raise ValueError(f"Unknown transaction type {self.transaction_type!r}.")


def new_key(prefix: str) -> str:
    """A key for a posting without a natural cause (still unique, so every row has one)."""
    return f"{prefix}:{uuid.uuid4().hex}"


def lifetime_earned_delta(posting: Posting) -> int:
    """How a posting moves the POT earned over time (levels): awards, less reversed awards."""
    if posting.transaction_type == TransactionType.EARN or posting.category == AWARD_REVERSAL:
        return posting.amount
    return 0


def _is_retryable(error: DatabaseError) -> bool:
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error)


def in_transaction() -> bool:
    return transaction.get_connection().in_atomic_block


def ledger_atomic(func: Callable[P, R]) -> Callable[P, R]:
    """`transaction.atomic`, retried as a whole on serialization failure or deadlock when outermost.

    Inside a caller's transaction it joins it (a savepoint): the caller owns the retry.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if in_transaction():
            with transaction.atomic():
                return func(*args, **kwargs)
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except DatabaseError as error:
                if attempt == RETRY_ATTEMPTS or not _is_retryable(error):
                    raise
                time.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise AssertionError("unreachable")

    return wrapper


# The hot path below is three plain SQL statements: building them with the ORM cost more
# CPU than the database spent running them (see bench/ledger.py). Table and column names
# come from the models, values are always parameters.
WALLETS = Wallet._meta.db_table
TRANSACTIONS = PotTransaction._meta.db_table
INSERT_COLUMNS = [
    "user_id",
    "transaction_type",
    "category",
    "amount",
    "balance_after",
    "reference_type",
    "reference_id",
    "actor_id",
    "note",
    "idempotency_key",
    "request_fingerprint",
    "created_at",
]
INSERT_SQL = (
    f"INSERT INTO {TRANSACTIONS} ({', '.join(INSERT_COLUMNS)}) "  # noqa: S608 - names from the models
    f"VALUES ({', '.join(['%s'] * len(INSERT_COLUMNS))})"
)
UPDATE_SQL = (
    f"UPDATE {WALLETS} SET balance = %s, lifetime_earned = %s, updated_at = %s "  # noqa: S608 - names from the models
    "WHERE id = %s AND balance = %s"
)


@dataclass
class LockedWallet:
    """A wallet row locked by this transaction (no other posting can change it until commit)."""

    id: int
    user_id: int
    balance: int
    lifetime_earned: int


def _select_wallets(user_ids: list[int]) -> dict[int, LockedWallet]:
    connection = transaction.get_connection()
    placeholders = ", ".join(["%s"] * len(user_ids))
    sql = f"SELECT id, user_id, balance, lifetime_earned FROM {WALLETS} WHERE user_id IN ({placeholders}) ORDER BY id"  # noqa: S608
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"  # SQLite: the IMMEDIATE transaction already holds the write lock
    with connection.cursor() as cursor:
        cursor.execute(sql, user_ids)
        return {row[1]: LockedWallet(*row) for row in cursor.fetchall()}


def wallets_lock(user_ids: Sequence[int]) -> dict[int, LockedWallet]:
    """Lock the users' wallets (creating missing ones) in id order; keyed by user id."""
    wanted = sorted(set(user_ids))
    wallets = _select_wallets(wanted)
    missing = [user_id for user_id in wanted if user_id not in wallets]
    if missing:
        # ON CONFLICT DO NOTHING: a concurrent first posting may create the same wallet.
        Wallet.objects.bulk_create([Wallet(user_id=user_id) for user_id in missing], ignore_conflicts=True)
        wallets.update(_select_wallets(missing))
    return wallets


def _insert(posting: Posting, balance_after: int, now) -> PotTransaction:
    """Insert the row; its unique idempotency key is claimed right here, inside a savepoint."""
    connection = transaction.get_connection()
    row = PotTransaction(
        user_id=posting.user_id,
        transaction_type=posting.transaction_type,
        category=posting.category,
        amount=posting.amount,
        balance_after=balance_after,
        reference_type=posting.reference_type,
        reference_id=posting.reference_id,
        actor_id=posting.actor_id,
        note=posting.note[:500],
        idempotency_key=posting.idempotency_key or new_key(posting.transaction_type),
        request_fingerprint=posting.request_fingerprint,
        created_at=now,
    )
    values = [getattr(row, column) for column in INSERT_COLUMNS]
    values[-1] = connection.ops.adapt_datetimefield_value(now)
    returning = connection.features.can_return_columns_from_insert
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(INSERT_SQL + " RETURNING id" if returning else INSERT_SQL, values)
            row.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    except IntegrityError:
        if posting.idempotency_key and PotTransaction.objects.filter(idempotency_key=posting.idempotency_key).exists():
            raise IdempotencyKeyTaken(posting.idempotency_key) from None
        raise
    row._state.adding = False
    row._state.db = connection.alias
    return row


def _update_wallet(wallet: LockedWallet, *, locked_balance: int, now) -> None:
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        # The lock makes the balance guard always true; it is there so a lost update can never pass silently.
        cursor.execute(
            UPDATE_SQL,
            [
                wallet.balance,
                wallet.lifetime_earned,
                connection.ops.adapt_datetimefield_value(now),
                wallet.id,
                locked_balance,
            ],
        )
        if cursor.rowcount != 1:
            raise DatabaseError(f"Wallet {wallet.id} changed while locked; the posting is rolled back.")


def ledger_post_many(postings: Sequence[Posting]) -> list[PotTransaction]:
    """Post several changes at once (all or nothing), locking their wallets in id order."""
    if not in_transaction():
        raise RuntimeError("ledger_post runs inside a transaction: call it from a @ledger_atomic service.")
    wallets = wallets_lock([p.user_id for p in postings])
    now = timezone.now()
    locked_balances = {user_id: wallet.balance for user_id, wallet in wallets.items()}
    rows = []
    for posting in postings:
        wallet = wallets[posting.user_id]
        balance_after = wallet.balance + posting.amount
        if balance_after < 0:
            # A retried request whose first run succeeded (and spent the POT) is a replay,
            # not a refusal. (Only this refusal path reads the key; the insert claims it.)
            key = posting.idempotency_key
            if key and PotTransaction.objects.filter(idempotency_key=key).exists():
                raise IdempotencyKeyTaken(key)
            raise InsufficientPot(
                f"Not enough POT: the balance is {wallet.balance} POT and this needs {-posting.amount} POT.",
                field="amount",
            )
        rows.append(_insert(posting, balance_after, now))
        wallet.balance = balance_after
        wallet.lifetime_earned += lifetime_earned_delta(posting)
    for user_id in sorted({p.user_id for p in postings}):
        _update_wallet(wallets[user_id], locked_balance=locked_balances[user_id], now=now)
    return rows


def ledger_post(**fields) -> PotTransaction:
    """Post one change of one wallet (see `Posting` for the fields); returns the new row."""
    return ledger_post_many([Posting(**fields)])[0]
