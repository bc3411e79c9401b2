"""Referral and rating awards are earned POT, not promotional: they are paid only from a paid
commission's budget, so revenue already pays for them. Promotional POT (sign-up awards) becomes
redeemable when a paid commission pays for it (`currency.services.pot_promotional_release`)."""

from django.db import migrations, models

BUDGET_PAID_RULES = ("rating_given", "rating_five_star_received", "referral_profile_created", "referral_first_engagement")


def mark_budget_paid_rules_earned(apps, schema_editor):
    EarningRule = apps.get_model("currency", "EarningRule")
    EarningRule.objects.filter(key__in=BUDGET_PAID_RULES).update(promotional=False)


def mark_budget_paid_rules_promotional(apps, schema_editor):
    EarningRule = apps.get_model("currency", "EarningRule")
    EarningRule.objects.filter(key__in=BUDGET_PAID_RULES).update(promotional=True)


class Migration(migrations.Migration):
    dependencies = [("currency", "0006_rating_awards_promotional")]

    operations = [
        migrations.AlterField(
            model_name="earningrule",
            name="promotional",
            field=models.BooleanField(
                default=False,
                help_text="Sign-up-time POT that no revenue paid for (profiles, streaks): spendable at once, "
                "redeemable for USD only once a paid commission of the person's engagements pays for it (and the "
                "email is verified).",
            ),
        ),
        migrations.RunPython(mark_budget_paid_rules_earned, mark_budget_paid_rules_promotional),
    ]
