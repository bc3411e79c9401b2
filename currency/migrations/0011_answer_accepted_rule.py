"""The `answer_accepted` earning rule (community answers) exists and is promotional POT.

Migration 0003 seeds from today's fixtures with the historical model (no `promotional` field
then), so a database migrated from scratch has the rule already, not promotional; one migrated
before gets it here.
"""

from django.db import migrations


def seed_answer_accepted(apps, schema_editor):
    from currency.seed import seed_missing

    EarningRule = apps.get_model("currency", "EarningRule")
    seed_missing(earning_rule_model=EarningRule, spend_option_model=apps.get_model("currency", "SpendOption"))
    EarningRule.objects.filter(key="answer_accepted").update(promotional=True)


class Migration(migrations.Migration):
    dependencies = [("currency", "0010_experiments_and_verbose_names")]

    operations = [migrations.RunPython(seed_answer_accepted, migrations.RunPython.noop)]
