"""Proof that the ledger holds: balances equal their rows, rows chain, redemptions match their rows.

Used by `manage.py verify_ledger` (and the benchmark). Streams the rows in (user, id) order,
so memory stays flat however long the ledger is.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F

from currency import triggers
from currency.ledger import AWARD_REVERSAL
from currency.models import PotTransaction, Purchase, Redemption, RedemptionStatus, TransactionType, Wallet


@dataclass
class LedgerReport:
    wallets: int = 0
    transactions: int = 0
    total_balance: int = 0
    redemptions: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        state = "OK" if self.ok else f"{len(self.problems)} PROBLEMS"
        return (
            f"Ledger {state}: {self.transactions} transactions, {self.wallets} wallets holding "
            f"{self.total_balance} POT, {self.redemptions} redemptions checked."
        )


def _check_chains(report: LedgerReport, wallets: dict[int, tuple[int, int]]) -> None:
    """Each user's rows, in id order, chain: balance_after = previous balance_after + amount."""
    rows = (
        PotTransaction.objects.order_by("user_id", "id")
        .values_list("user_id", "id", "transaction_type", "category", "amount", "balance_after")
        .iterator(chunk_size=5000)
    )
    current_user, total, previous, earned = None, 0, 0, 0

    def close(user_id: int) -> None:
        balance, lifetime = wallets.get(user_id, (None, None))
        if balance is None:
            report.problems.append(f"user {user_id}: has transactions but no wallet (rows sum to {total} POT)")
            return
        if balance != total:
            report.problems.append(f"user {user_id}: wallet balance {balance} != sum of rows {total}")
        elif balance != previous:
            report.problems.append(f"user {user_id}: wallet balance {balance} != last balance_after {previous}")
        if lifetime != earned:
            report.problems.append(f"user {user_id}: wallet lifetime_earned {lifetime} != earned in rows {earned}")

    seen_users = set()
    for user_id, row_id, tx_type, category, amount, balance_after in rows:
        if user_id != current_user:
            if current_user is not None:
                close(current_user)
            current_user, total, previous, earned = user_id, 0, 0, 0
            seen_users.add(user_id)
        report.transactions += 1
        total += amount
        if tx_type == TransactionType.EARN or category == AWARD_REVERSAL:
            earned += amount
        if balance_after != previous + amount:
            report.problems.append(
                f"transaction {row_id} (user {user_id}): balance_after {balance_after}, "
                f"expected {previous + amount} (previous {previous} {amount:+d})"
            )
        if balance_after < 0 or total < 0:
            report.problems.append(f"transaction {row_id} (user {user_id}): balance below zero")
        previous = balance_after
    if current_user is not None:
        close(current_user)
    for user_id, (balance, lifetime) in wallets.items():
        if user_id not in seen_users and (balance != 0 or lifetime != 0):
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
    for user_id, balance, lifetime in Wallet.objects.values_list("user_id", "balance", "lifetime_earned"):
        wallets[user_id] = (balance, lifetime)
        report.wallets += 1
        report.total_balance += balance
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
