"""Insert the earning rules and spend options of the fixtures that are not in the database yet."""

from django.core.management.base import BaseCommand
from django.db import transaction

from currency.models import EarningRule, SpendOption
from currency.seed import seed_missing


class Command(BaseCommand):
    help = "Insert missing earning rules and spend options (fixtures/); existing ones are left as operators set them."

    @transaction.atomic
    def handle(self, *args, **options):
        created = seed_missing(earning_rule_model=EarningRule, spend_option_model=SpendOption)
        self.stdout.write(
            f"Seeded {created['currency.earningrule']} new earning rules and "
            f"{created['currency.spendoption']} new spend options; existing ones left as they are."
        )
