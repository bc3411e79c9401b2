"""Proof that the ledger holds: balances equal their rows, rows chain, redemptions match their rows.

Each wallet's three numbers are proved from its rows: the balance (sum of amounts, and the last
`balance_after`), the promotional part (sum of `promotional_amount`, never below 0 nor above the
balance along the way) and the debt (debts recorded minus settlements, never below 0).

Used by `manage.py verify_ledger` (and the benchmark). Streams the rows in (user, id) order,
so memory stays flat however long the ledger is.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F

from currency import triggers
from currency.ledger import lifetime_earned_delta
from currency.models import PotTransaction, Purchase, Redemption, RedemptionStatus, TransactionType, Wallet


@dataclass
class LedgerReport:
    wallets: int = 0
    transactions: int = 0
    total_balance: int = 0
    total_promotional: int = 0
    total_debt: int = 0
    redemptions: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        state = "OK" if self.ok else f"{len(self.problems)} PROBLEMS"
        return (
            f"Ledger {state}: {self.transactions} transactions, {self.wallets} wallets holding "
            f"{self.total_balance} POT ({self.total_promotional} promotional), {self.total_debt} POT owed, "
            f"{self.redemptions} redemptions checked."
        )


CHAIN_COLUMNS = (
    "user_id",
    "id",
    "transaction_type",
    "category",
    "amount",
    "balance_after",
    "promotional_amount",
    "debt_change",
)


@dataclass
class _Running:
    """One user's rows summed so far."""

    total: int = 0
    previous: int = 0
    earned: int = 0
    promotional: int = 0
    debt: int = 0


def _check_chains(report: LedgerReport, wallets: dict[int, tuple[int, int, int, int]]) -> None:
    """Each user's rows, in id order, chain: balance_after = previous balance_after + amount;
    the promotional part and the debt they add up to match the wallet and never leave their bounds."""
    rows = PotTransaction.objects.order_by("user_id", "id").values_list(*CHAIN_COLUMNS).iterator(chunk_size=5000)
    current_user, run = None, _Running()

    def close(user_id: int) -> None:
        balance, lifetime, promotional, debt = wallets.get(user_id, (None, None, None, None))
        if balance is None:
            report.problems.append(f"user {user_id}: has transactions but no wallet (rows sum to {run.total} POT)")
            return
        if balance != run.total:
            report.problems.append(f"user {user_id}: wallet balance {balance} != sum of rows {run.total}")
        elif balance != run.previous:
            report.problems.append(f"user {user_id}: wallet balance {balance} != last balance_after {run.previous}")
        if lifetime != run.earned:
            report.problems.append(f"user {user_id}: wallet lifetime_earned {lifetime} != earned in rows {run.earned}")
        if promotional != run.promotional:
            report.problems.append(
                f"user {user_id}: wallet promotional_balance {promotional} != promotional POT in rows {run.promotional}"
            )
        if debt != run.debt:
            report.problems.append(f"user {user_id}: wallet debt {debt} != debts recorded less settled {run.debt}")

    seen_users = set()
    for user_id, row_id, tx_type, category, amount, balance_after, promotional, debt_change in rows:
        if user_id != current_user:
            if current_user is not None:
                close(current_user)
            current_user, run = user_id, _Running()
            seen_users.add(user_id)
        report.transactions += 1
        run.total += amount
        run.earned += lifetime_earned_delta(transaction_type=tx_type, category=category, amount=amount)
        run.promotional += promotional
        run.debt += debt_change
        if balance_after != run.previous + amount:
            report.problems.append(
                f"transaction {row_id} (user {user_id}): balance_after {balance_after}, "
                f"expected {run.previous + amount} (previous {run.previous} {amount:+d})"
            )
        if balance_after < 0 or run.total < 0:
            report.problems.append(f"transaction {row_id} (user {user_id}): balance below zero")
        if not 0 <= run.promotional <= run.total:
            report.problems.append(
                f"transaction {row_id} (user {user_id}): promotional POT {run.promotional} outside 0..{run.total}"
            )
        if run.debt < 0:
            report.problems.append(f"transaction {row_id} (user {user_id}): settles more debt than was owed")
        run.previous = balance_after
    if current_user is not None:
        close(current_user)
    for user_id, (balance, lifetime, promotional, debt) in wallets.items():
        if user_id not in seen_users and (balance or lifetime or promotional or debt):
            report.problems.append(f"user {user_id}: wallet holds {balance} POT but has no transactions")


def _check_redemptions(report: LedgerReport) -> None:
    """Each redemption has one `redeem` row of its amount, and one `refund` row exactly when rejected."""
    rows = defaultdict(lambda: {TransactionType.REDEEM: [], TransactionType.REFUND: []})
    for ref_id, tx_type, amount in PotTransaction.objects.filter(
        reference_type="redemption", transaction_type__in=[TransactionType.REDEEM, TransactionType.REFUND]
    ).values_list("reference_id", "transaction_type", "amount"):
        rows[ref_id][tx_type].append(amount)
    redemption_ids = set()
    for redemption_id, pot, status in Redemption.objects.values_list("id", "pot_amount", "status"):
        redemption_ids.add(redemption_id)
        report.redemptions += 1
        held, refunded = rows[redemption_id][TransactionType.REDEEM], rows[redemption_id][TransactionType.REFUND]
        if held != [-pot]:
            report.problems.append(f"redemption {redemption_id}: redeem rows {held}, expected [{-pot}]")
        expected_refund = [pot] if status == RedemptionStatus.REJECTED else []
        if refunded != expected_refund:
            report.problems.append(
                f"redemption {redemption_id} ({status}): refund rows {refunded}, expected {expected_refund}"
            )
    for orphan in sorted(set(rows) - redemption_ids):
        report.problems.append(f"transactions point at redemption {orphan}, which does not exist")


def _check_purchases(report: LedgerReport) -> None:
    """Every spend row bought exactly one purchase of its cost."""
    spends = PotTransaction.objects.filter(transaction_type=TransactionType.SPEND)
    missing = spends.filter(purchase__isnull=True).values_list("id", flat=True)[:20]
    for row_id in missing:
        report.problems.append(f"spend transaction {row_id}: no purchase recorded")
    mismatched = (
        Purchase.objects.exclude(transaction__amount=-1 * F("cost"))
        .values_list("id", "cost", "transaction__amount")
        .order_by("id")[:20]
    )
    for purchase_id, cost, amount in mismatched:
        report.problems.append(f"purchase {purchase_id}: cost {cost} but its transaction moved {amount}")


def verify_ledger() -> LedgerReport:
    """Check the whole ledger; the report lists every mismatch by name."""
    report = LedgerReport()
    wallets = {}
    for user_id, balance, lifetime, promotional, debt in Wallet.objects.values_list(
        "user_id", "balance", "lifetime_earned", "promotional_balance", "debt"
    ):
        wallets[user_id] = (balance, lifetime, promotional, debt)
        report.wallets += 1
        report.total_balance += balance
        report.total_promotional += promotional
        report.total_debt += debt
        if balance < 0:
            report.problems.append(f"user {user_id}: negative balance {balance}")
    _check_chains(report, wallets)
    _check_redemptions(report)
    _check_purchases(report)
    duplicates = (
        PotTransaction.objects.values("idempotency_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("idempotency_key", flat=True)[:20]
    )
    for key in duplicates:
        report.problems.append(f"idempotency key {key!r} used more than once")
    if not triggers.installed(connection):
        report.problems.append("pot_transactions immutability triggers are missing (run migrations / triggers.install)")
    return report
