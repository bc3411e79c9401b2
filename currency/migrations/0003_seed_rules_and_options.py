"""Seed the earning rules and spend options of fixtures/ (missing ones only)."""

from django.db import migrations


def seed(apps, schema_editor):
    from currency.seed import seed_missing

    seed_missing(
        earning_rule_model=apps.get_model("currency", "EarningRule"),
        spend_option_model=apps.get_model("currency", "SpendOption"),
    )


class Migration(migrations.Migration):
    dependencies = [("currency", "0002_immutable_transactions")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
