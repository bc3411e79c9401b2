"""Rating awards are promotional POT (they are also paid only from a paid commission's budget)."""

from django.db import migrations

RATING_RULES = ("rating_given", "rating_five_star_received")


def mark_rating_rules_promotional(apps, schema_editor):
    EarningRule = apps.get_model("currency", "EarningRule")
    EarningRule.objects.filter(key__in=RATING_RULES).update(promotional=True)


class Migration(migrations.Migration):
    dependencies = [("currency", "0005_promotional_pot_and_debt")]

    operations = [migrations.RunPython(mark_rating_rules_promotional, migrations.RunPython.noop)]
