"""The streak bonus earning rules (4 and 12 weeks in a row), promotional POT like the other sign-up-time awards.

Seeded from today's fixtures (existing rows are left as operators set them); `seed_pot` inserts
them too where this migration ran before the fixtures had them.
"""

from django.db import migrations


def seed_streak_rules(apps, schema_editor):
    from currency.seed import seed_missing

    EarningRule = apps.get_model("currency", "EarningRule")
    seed_missing(earning_rule_model=EarningRule, spend_option_model=apps.get_model("currency", "SpendOption"))


class Migration(migrations.Migration):
    dependencies = [("currency", "0014_pro_period")]

    operations = [migrations.RunPython(seed_streak_rules, migrations.RunPython.noop)]
