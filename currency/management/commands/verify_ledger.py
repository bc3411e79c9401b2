"""Prove the POT ledger: balances (and their promotional part and debts) equal their rows, rows chain,
redemptions match; exit 1 otherwise."""

import sys

from django.core.management.base import BaseCommand

from currency.audit import verify_ledger


class Command(BaseCommand):
    help = (
        "Check that every wallet's balance equals the sum of its transactions, that balance_after chains "
        "row by row, that no balance is negative, that each wallet's promotional POT and debt equal what its "
        "rows add up to, and that each redemption's rows match its state. "
        "Prints a summary; exits 1 and names each mismatch when the ledger does not hold."
    )

    def handle(self, *args, **options):
        report = verify_ledger()
        for problem in report.problems:
            self.stderr.write(f"MISMATCH {problem}")
        self.stdout.write(report.summary())
        if not report.ok:
            sys.exit(1)
