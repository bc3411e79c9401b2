"""The plan's daily check of the POT economy, without an HTTP client."""

import json

from django.core.management.base import BaseCommand

from currency import selectors


class Command(BaseCommand):
    help = (
        "Print the POT economy statistics of GET /api/v1/pot/economy/ (marketplace users, participation "
        "rate, POT in circulation, earned, spent and burned all time, burn rate, transactions in the last "
        "7 days) and the outstanding POT liability in USD. --json prints the API's JSON body instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="The same JSON as the API (rates between 0 and 1).")

    def handle(self, *args, **options):
        statistics = selectors.economy_statistics()
        if options["json"]:
            body = {key: float(value) if key.endswith("_rate") else value for key, value in statistics.items()}
            self.stdout.write(json.dumps(body, indent=2))
            return
        pending = selectors.redemptions_pending_summary()
        liability = selectors.pot_liability_usd(
            in_circulation=statistics["total_pot_in_circulation"], held_usd=pending["usd"]
        )
        lines = selectors.economy_lines(statistics)
        width = max(len(line.label) for line in lines)
        for line in lines:
            self.stdout.write(f"{line.label.ljust(width)}  {line.display}")
        self.stdout.write(f"{'Outstanding POT liability'.ljust(width)}  ${liability:,.2f}")
