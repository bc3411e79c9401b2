"""The posting function: the only code that writes wallets and POT transactions.

`ledger_post` runs inside the caller's transaction. For each posting it locks the wallet
row (`SELECT … FOR UPDATE`, several wallets in id order so two postings never wait on each
other crosswise), checks the new balance, inserts the row with its `balance_after` and
updates the cached balance. The wallet's two other numbers move with it:
- its promotional part: a credit says how much of it is promotional; a debit takes promotional
  POT first (`Draw.PROMOTIONAL_FIRST`, spending) or earned POT first (`Draw.EARNED_FIRST`: a
  redemption, the reversal of an earned award); each row records its promotional part; a
  `release` row (amount 0) turns promotional POT into earned POT;
- its debt: an `earn` or `refund` credit to a wallet that owes POT is followed at once by a
  `burn` row (reason `debt_settlement`) that pays the debt back from it, as far as it goes.
The row's unique `idempotency_key` is claimed by the INSERT
itself (`INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`): a second posting
for the same cause inserts nothing and raises `IdempotencyKeyTaken` — there is no
read-then-insert window, and no savepoint (two round trips fewer per posting).

On PostgreSQL a lone posting claims its key and moves its wallet in one statement
(`CLAIM_AND_MOVE_SQL`), and a lone posting with the row it goes with (an award and its
notification, a spend and its purchase) is one statement of its own (`ledger_post_recorded`);
whatever such a statement does not post goes the general way.

`ledger_atomic` is the `transaction.atomic` for services that post: when it opens the
outermost transaction it retries the whole block on PostgreSQL serialization failures and
deadlocks (SQLSTATE 40001, 40P01) and on SQLite's "database is locked".
"""

import contextlib
import functools
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from currency.errors import InsufficientPot
from currency.models import PotTransaction, TransactionType, Wallet
from imatch.db import insert_fields, insert_values, prepared_cursor
from imatch.person_cache import Scope, person_forget

P = ParamSpec("P")
R = TypeVar("R")

RETRY_ATTEMPTS = 5
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
AWARD_REVERSAL = "award_reversal"
DEBT_SETTLEMENT = "debt_settlement"
PROMOTIONAL_RELEASE = "promotional_release"  # the reason of `release` rows
TRANSACTION_TYPES = frozenset(TransactionType.values)  # (`.values` builds its list on every call)
# Credits that pay back an open debt before the person can use them.
SETTLING_TYPES = (TransactionType.EARN, TransactionType.REFUND)


class Draw(StrEnum):
    """Which POT a debit takes first from a balance that holds promotional and earned POT."""

    PROMOTIONAL_FIRST = "promotional_first"  # spending, burns, settlements: keep what is redeemable
    EARNED_FIRST = "earned_first"  # redemptions, reversal of an earned award


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
    promotional: int = 0  # a credit: the part of it that is promotional POT
    draw: Draw = Draw.PROMOTIONAL_FIRST  # a debit: which POT goes first
    debt: int = 0  # a `debt` row: the POT owed (its amount is 0)

    def __post_init__(self):
        if self.transaction_type not in TRANSACTION_TYPES:
            raise ValueError(f"Unknown transaction type {self.transaction_type!r}.")
        if self.transaction_type == TransactionType.RELEASE:
            if self.amount != 0 or self.debt or not _whole(self.promotional) or self.promotional >= 0:
                raise ValueError("A release row moves no POT (amount 0); its promotional part is negative.")
            return
        if self.transaction_type == TransactionType.DEBT:
            if self.amount != 0 or not _whole(self.debt) or self.debt <= 0:
                raise ValueError("A debt row moves no POT (amount 0) and records a positive debt.")
        elif not _whole(self.amount) or self.amount == 0:
            raise ValueError(f"A posting's amount is a non-zero whole number of POT, not {self.amount!r}.")
        elif self.debt:
            raise ValueError("Only a debt row records a debt; settlements are the ledger's.")
        if not _whole(self.promotional) or not 0 <= self.promotional <= max(self.amount, 0):
            raise ValueError("The promotional part of a credit is between 0 and its amount (debits: 0).")


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def new_key(prefix: str) -> str:
    """A key for a posting without a natural cause (still unique, so every row has one)."""
    return f"{prefix}:{uuid.uuid4().hex}"


def lifetime_earned_delta(*, transaction_type: str, category: str, amount: int) -> int:
    """How a row moves the POT earned over time (levels): awards, less reversed awards and settled debts."""
    if transaction_type == TransactionType.EARN or category in (AWARD_REVERSAL, DEBT_SETTLEMENT):
        return amount
    return 0


def promotional_part(*, amount: int, promotional: int, draw: str, balance: int, promotional_balance: int) -> int:
    """The signed promotional part of a change: a credit's is given; a debit's follows `draw`."""
    if amount >= 0:
        return promotional
    take = -amount
    earned = balance - promotional_balance
    from_promotional = max(take - earned, 0) if draw == Draw.EARNED_FIRST else min(take, promotional_balance)
    return -min(from_promotional, promotional_balance)


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
    "promotional_amount",
    "debt_change",
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
    f"VALUES ({', '.join(['%s'] * len(INSERT_COLUMNS))}) "
    # Both databases (PostgreSQL, SQLite >= 3.35): a taken key inserts nothing and returns no row.
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
UPDATE_SQL = (
    f"UPDATE {WALLETS} SET balance = %s, promotional_balance = %s, debt = %s, lifetime_earned = %s, "  # noqa: S608
    "updated_at = %s WHERE id = %s AND balance = %s"
)

# PostgreSQL: a lone posting (nearly all of them: an award, a spend) claims its key and moves
# its wallet in one round trip instead of two. The wallet's numbers are the ones the general
# path would write (worked out by the same Python); the UPDATE runs only if the INSERT claimed
# the key, so a taken key moves nothing, as on the general path.
CLAIM_AND_MOVE_SQL = (
    f"WITH claimed AS ({INSERT_SQL}), "  # noqa: S608 - the statements above, values are parameters
    f"moved AS ({UPDATE_SQL} AND EXISTS (SELECT 1 FROM claimed) RETURNING id) "
    "SELECT (SELECT id FROM claimed), (SELECT count(*) FROM moved)"
)
# The tests switch it off to run the general path on PostgreSQL and compare the two.
ONE_STATEMENT_POSTINGS = True


@dataclass
class LockedWallet:
    """A wallet row locked by this transaction (no other posting can change it until commit)."""

    id: int
    user_id: int
    balance: int
    promotional_balance: int
    debt: int
    lifetime_earned: int
    paid_engagement_at: object = None

    @property
    def earned_balance(self) -> int:
        """The part of the balance that is not promotional."""
        return self.balance - self.promotional_balance


def _select_wallets(user_ids: list[int]) -> dict[int, LockedWallet]:
    connection = transaction.get_connection()
    placeholders = ", ".join(["%s"] * len(user_ids))
    sql = (
        "SELECT id, user_id, balance, promotional_balance, debt, lifetime_earned, paid_engagement_at "  # noqa: S608
        f"FROM {WALLETS} WHERE user_id IN ({placeholders}) ORDER BY id"
    )
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


def _new_row(posting: Posting, balance_after: int, now, *, promotional_amount: int, debt_change: int) -> PotTransaction:
    """The row of a posting, not saved yet."""
    return PotTransaction(
        user_id=posting.user_id,
        transaction_type=posting.transaction_type,
        category=posting.category,
        amount=posting.amount,
        balance_after=balance_after,
        promotional_amount=promotional_amount,
        debt_change=debt_change,
        reference_type=posting.reference_type,
        reference_id=posting.reference_id,
        actor_id=posting.actor_id,
        note=posting.note[:500],
        idempotency_key=posting.idempotency_key or new_key(posting.transaction_type),
        request_fingerprint=posting.request_fingerprint,
        created_at=now,
    )


def _insert_values(row: PotTransaction, connection) -> list:
    values = [getattr(row, column) for column in INSERT_COLUMNS]
    values[-1] = connection.ops.adapt_datetimefield_value(row.created_at)
    return values


def _saved(row: PotTransaction, inserted_id, connection) -> PotTransaction:
    if inserted_id is None:
        # Nothing else raised: the key was taken (a random key of `new_key` never is).
        raise IdempotencyKeyTaken(row.idempotency_key)
    row.pk = inserted_id
    row._state.adding = False
    row._state.db = connection.alias
    return row


def _insert(posting: Posting, balance_after: int, now, *, promotional_amount: int, debt_change: int) -> PotTransaction:
    """Insert the row; its unique idempotency key is claimed right here (ON CONFLICT DO NOTHING)."""
    connection = transaction.get_connection()
    row = _new_row(posting, balance_after, now, promotional_amount=promotional_amount, debt_change=debt_change)
    with connection.cursor() as cursor:
        cursor.execute(INSERT_SQL, _insert_values(row, connection))
        inserted = cursor.fetchone()
    return _saved(row, inserted[0] if inserted else None, connection)


def _update_values(wallet: LockedWallet, *, locked_balance: int, now, connection) -> list:
    return [
        wallet.balance,
        wallet.promotional_balance,
        wallet.debt,
        wallet.lifetime_earned,
        connection.ops.adapt_datetimefield_value(now),
        wallet.id,
        locked_balance,
    ]


def _wallet_changed_while_locked(wallet: LockedWallet) -> DatabaseError:
    return DatabaseError(f"Wallet {wallet.id} changed while locked; the posting is rolled back.")


def _update_wallet(wallet: LockedWallet, *, locked_balance: int, now) -> None:
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        # The lock makes the balance guard always true; it is there so a lost update can never pass silently.
        values = _update_values(wallet, locked_balance=locked_balance, now=now, connection=connection)
        cursor.execute(UPDATE_SQL, values)
        if cursor.rowcount != 1:
            raise _wallet_changed_while_locked(wallet)


def _change(wallet: LockedWallet, posting: Posting) -> tuple[int, int]:
    """The balance after `posting` and its signed promotional part; refuses what the balance cannot pay."""
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
    promotional = promotional_part(
        amount=posting.amount,
        promotional=posting.promotional,
        draw=posting.draw,
        balance=wallet.balance,
        promotional_balance=wallet.promotional_balance,
    )
    return balance_after, promotional


def _move(wallet: LockedWallet, posting: Posting, *, promotional: int, debt_change: int) -> None:
    """Move the locked wallet's numbers (in memory) by a posting whose row was written."""
    wallet.balance += posting.amount
    wallet.promotional_balance += promotional
    wallet.debt += debt_change
    wallet.lifetime_earned += lifetime_earned_delta(
        transaction_type=posting.transaction_type, category=posting.category, amount=posting.amount
    )


def _apply(wallet: LockedWallet, posting: Posting, now) -> PotTransaction:
    """Insert one posting's row and move the locked wallet's numbers with it."""
    balance_after, promotional = _change(wallet, posting)
    row = _insert(posting, balance_after, now, promotional_amount=promotional, debt_change=posting.debt)
    _move(wallet, posting, promotional=promotional, debt_change=posting.debt)
    return row


def _apply_in_one_statement(wallet: LockedWallet, posting: Posting, now) -> PotTransaction:
    """`_apply` and `_update_wallet` of a lone posting as one statement (PostgreSQL; see `CLAIM_AND_MOVE_SQL`).

    The wallet's new numbers are worked out here by the same functions as `_apply`'s; the
    statement only writes them, and moves the wallet only if the row's key was claimed.
    """
    connection = transaction.get_connection()
    balance_after, promotional = _change(wallet, posting)
    row = _new_row(posting, balance_after, now, promotional_amount=promotional, debt_change=posting.debt)
    moved = replace(wallet)
    _move(moved, posting, promotional=promotional, debt_change=posting.debt)
    update_values = _update_values(moved, locked_balance=wallet.balance, now=now, connection=connection)
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_AND_MOVE_SQL, [*_insert_values(row, connection), *update_values])
        inserted_id, wallets_moved = cursor.fetchone()
    row = _saved(row, inserted_id, connection)  # a taken key: raised, and the wallet did not move
    if wallets_moved != 1:
        raise _wallet_changed_while_locked(wallet)
    _move(wallet, posting, promotional=promotional, debt_change=posting.debt)
    return row


def _settle_debt(wallet: LockedWallet, credit: PotTransaction, now) -> None:
    """Pay an open debt back from a credit that just arrived, as far as it goes (promotional POT first)."""
    settle = min(wallet.debt, credit.amount, wallet.balance)
    if settle <= 0:
        return
    posting = Posting(
        user_id=wallet.user_id,
        amount=-settle,
        transaction_type=TransactionType.BURN,
        category=DEBT_SETTLEMENT,
        idempotency_key=f"debt-settlement:{credit.pk}",
        reference_type="pot_transaction",
        reference_id=credit.pk,
        note=f"{settle} POT of this credit paid back what you owed ({wallet.debt - settle} POT still owed)",
    )
    promotional = promotional_part(
        amount=-settle,
        promotional=0,
        draw=Draw.PROMOTIONAL_FIRST,
        balance=wallet.balance,
        promotional_balance=wallet.promotional_balance,
    )
    _insert(posting, wallet.balance - settle, now, promotional_amount=promotional, debt_change=-settle)
    _move(wallet, posting, promotional=promotional, debt_change=-settle)


def ledger_post_many(postings: Sequence[Posting], *, skip_taken: bool = False) -> list[PotTransaction | None]:
    """Post several changes at once (all or nothing), locking their wallets in id order.

    Returns the rows of `postings`, in order (debt settlements they caused are not in it).
    A posting whose idempotency key is taken raises `IdempotencyKeyTaken`; with `skip_taken`
    it is left out instead (None in its place) and the others are posted.
    """
    if not in_transaction():
        raise RuntimeError("ledger_post runs inside a transaction: call it from a @ledger_atomic service.")
    if not postings:
        return []
    wallets = wallets_lock([p.user_id for p in postings])
    now = timezone.now()
    if len(postings) == 1 and _in_one_statement(wallets[postings[0].user_id], postings[0]):
        try:
            row = _apply_in_one_statement(wallets[postings[0].user_id], postings[0], now)
        except IdempotencyKeyTaken:
            if not skip_taken:
                raise
            return [None]
        person_forget(wallets, Scope.LEDGER)
        return [row]
    locked_balances = {user_id: wallet.balance for user_id, wallet in wallets.items()}
    rows = []
    for posting in postings:
        wallet = wallets[posting.user_id]
        try:
            row = _apply(wallet, posting, now)
        except IdempotencyKeyTaken:
            if not skip_taken:
                raise
            rows.append(None)  # nothing was written: the wallet's numbers did not move
            continue
        if posting.transaction_type in SETTLING_TYPES and wallet.debt > 0:
            _settle_debt(wallet, row, now)
        rows.append(row)
    for user_id in sorted({p.user_id for p in postings}):
        _update_wallet(wallets[user_id], locked_balance=locked_balances[user_id], now=now)
    person_forget(wallets, Scope.LEDGER)
    return rows


def _in_one_statement(wallet: LockedWallet, posting: Posting) -> bool:
    """Whether this lone posting can claim its key and move its wallet in one statement.

    PostgreSQL only (SQLite has no data-modifying CTE), and only when no debt settlement follows
    it (a settlement is a second row, posted by the general path).
    """
    if not ONE_STATEMENT_POSTINGS or transaction.get_connection().vendor != "postgresql":
        return False
    return posting.transaction_type not in SETTLING_TYPES or wallet.debt == 0


# --- A lone posting and the row it goes with, in one statement (PostgreSQL) ---------------
# An award is a credit and its notification; a spend is a debit and the purchase it paid for.
# Posted the general way that is five round trips (BEGIN, the wallet's lock, the row and the
# wallet, the other row, COMMIT), with the wallet locked through all of them. Here it is one
# statement, atomic by itself:
# - `wallet` locks the wallet's row (FOR UPDATE: under read committed it waits for a posting in
#   flight, then reads its result);
# - `change` works out the new balance and the promotional part from that row (a credit's is
#   given; a debit takes promotional POT first, as `promotional_part` does), only where the
#   balance pays for it and no debt waits for a settling credit;
# - `posted` claims the key and inserts the row (ON CONFLICT DO NOTHING: a taken key inserts
#   nothing), and only then `moved` writes the wallet and `recorded` inserts the other row.


@functools.cache
def _post_and_record_statement(record: type[Model], link: str | None) -> tuple[str, list[int], list]:
    """The SQL of `ledger_post_recorded` for a record model and its link to the row (or None); which
    of the row's INSERT_COLUMNS are parameters, and which fields of the record (all but the link)."""
    meta = record._meta
    fields = insert_fields(record)
    linked = meta.get_field(link) if link else None
    from_change = {"balance_after": "change.balance", "promotional_amount": "change.promotional", "debt_change": "0"}
    posted_sent = [index for index, column in enumerate(INSERT_COLUMNS) if column not in from_change]
    sql = (
        "WITH wallet AS (SELECT id, balance, promotional_balance, debt, lifetime_earned "  # noqa: S608 - names from the models
        f"FROM {WALLETS} WHERE user_id = %s FOR UPDATE), "
        # amount, the credit's promotional part, the debit's take, amount, whether it settles debts
        "change AS (SELECT id, balance + %s AS balance, %s - LEAST(%s, promotional_balance) AS promotional "
        "FROM wallet WHERE balance + %s >= 0 AND (debt = 0 OR NOT %s)), "
        f"posted AS (INSERT INTO {TRANSACTIONS} ({', '.join(INSERT_COLUMNS)}) "
        f"SELECT {', '.join(from_change.get(column, '%s') for column in INSERT_COLUMNS)} FROM change "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id), "
        # the POT earned over time's change, the time
        f"moved AS (UPDATE {WALLETS} AS moving SET balance = change.balance, "
        "promotional_balance = wallet.promotional_balance + change.promotional, "
        "lifetime_earned = wallet.lifetime_earned + %s, updated_at = %s "
        "FROM change, wallet WHERE moving.id = wallet.id AND EXISTS (SELECT 1 FROM posted) RETURNING moving.id), "
        f"recorded AS (INSERT INTO {meta.db_table} ({', '.join(field.column for field in fields)}) "
        f"SELECT {', '.join('posted.id' if field is linked else '%s' for field in fields)} FROM posted "
        f"RETURNING {meta.pk.column}) "
        "SELECT (SELECT id FROM change), (SELECT id FROM posted), (SELECT balance FROM change), "
        "(SELECT promotional FROM change), (SELECT count(*) FROM moved), (SELECT id FROM recorded)"
    )
    return sql, posted_sent, [field for field in fields if field is not linked]


def _posted_in_one_statement(posting: Posting, record: Model) -> bool:
    """Whether the statement posts `posting` as the general path would: a credit, or a debit drawing
    promotional POT first, of the balance alone (no debt row), and a record no receiver listens to."""
    return (
        ONE_STATEMENT_POSTINGS
        and transaction.get_connection().vendor == "postgresql"
        and posting.amount != 0
        and not posting.debt
        and (posting.amount > 0 or posting.draw == Draw.PROMOTIONAL_FIRST)
        and not (pre_save.has_listeners(type(record)) or post_save.has_listeners(type(record)))
    )


def ledger_post_recorded(
    posting: Posting, record: Model, *, link: str | None = None, now, also_forget: tuple[Scope, ...] = ()
) -> PotTransaction | None:
    """Post one posting and insert `record` (new; its `link` foreign key, if any, then holds the
    posting's row) as one statement (PostgreSQL): returns the row, `record` saved.

    For an award and its notification, a spend and its purchase; `now` is the row's time (the
    record's own times are the caller's; `also_forget`, the person's scopes the record changes,
    forgotten with the ledger's). Raises `IdempotencyKeyTaken` as `ledger_post` does.
    Returns None, with nothing written, when the statement cannot post it as the general path
    would (`_posted_in_one_statement`) or did not: the wallet is missing, the balance short, or a
    debt waits for this credit to settle it. The caller then posts the general way
    (`ledger_post`), which creates the wallet, refuses or settles: each of those has one home.
    Inside a caller's transaction the statement runs in a savepoint.
    """
    if not _posted_in_one_statement(posting, record):
        return None
    connection = transaction.get_connection()
    sql, posted_sent, record_sent = _post_and_record_statement(type(record), link)
    row = _new_row(posting, 0, now, promotional_amount=0, debt_change=0)  # the statement works the numbers out
    row_values = _insert_values(row, connection)
    lifetime = lifetime_earned_delta(
        transaction_type=posting.transaction_type, category=posting.category, amount=posting.amount
    )
    values = [
        posting.user_id,
        *(posting.amount, posting.promotional, max(-posting.amount, 0), posting.amount),
        posting.transaction_type in SETTLING_TYPES,
        *(row_values[index] for index in posted_sent),
        *(lifetime, connection.ops.adapt_datetimefield_value(now)),
        *insert_values(record, record_sent, connection),
    ]
    try:
        savepoint = transaction.atomic() if in_transaction() else contextlib.nullcontext()
        with savepoint, prepared_cursor(connection) as cursor:
            cursor.execute(sql, values)  # planned once per session
            changed, row_id, balance_after, promotional, moved, record_id = cursor.fetchone()
    except DatabaseError as error:
        if isinstance(error, IntegrityError) or _is_retryable(error):
            return None  # nothing was written: the general path runs it again and says why
        raise
    if changed is None:
        return None  # no wallet, a short balance or a debt to settle: the general path's
    if row_id is None:
        raise IdempotencyKeyTaken(row.idempotency_key)  # nothing was written
    if moved != 1:  # cannot happen (the wallet is locked by the statement): say so loudly, verify_ledger will too
        raise DatabaseError(f"Wallet {changed} did not move with its row {row_id}: run verify_ledger.")
    row.balance_after, row.promotional_amount = balance_after, promotional
    _saved(row, row_id, connection)
    if link:
        setattr(record, link, row)
    record.pk = record_id
    record._state.adding, record._state.db = False, connection.alias
    person_forget([posting.user_id], Scope.LEDGER, *also_forget)
    return row


def wallet_paid_engagement_record(*, user_id: int, at) -> bool:
    """Record on the wallet that a commission of one of the person's engagements was paid (the first time counts).

    Returns whether this changed the wallet. Runs inside the caller's transaction.
    """
    if not in_transaction():
        raise RuntimeError("wallet_paid_engagement_record runs inside a transaction.")
    wallet = wallets_lock([user_id])[user_id]
    if wallet.paid_engagement_at is not None:
        return False
    person_forget([user_id], Scope.LEDGER)
    return bool(Wallet.objects.filter(pk=wallet.id, paid_engagement_at__isnull=True).update(paid_engagement_at=at))


def ledger_post(**fields) -> PotTransaction:
    """Post one change of one wallet (see `Posting` for the fields); returns the new row."""
    return ledger_post_many([Posting(**fields)])[0]
