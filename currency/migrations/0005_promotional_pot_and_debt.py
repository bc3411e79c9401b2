"""Promotional POT and debts: a `promotional` flag on earning rules (set here for the sign-up-time
rules: profile creation, referrals, streaks), the wallet's promotional part, debt and first paid
engagement, and each row's promotional part and debt change (a `debt` row type records POT owed).
SQLite rebuilds pot_transactions for these changes, which drops its triggers: put them back."""

from django.conf import settings
from django.db import migrations, models
import django.db.models.expressions


# The install SQL of 0002, frozen here too (a migration imports nothing from the app).
SQLITE_INSTALL = [
    """CREATE TRIGGER IF NOT EXISTS pot_transactions_no_update BEFORE UPDATE ON pot_transactions
    BEGIN SELECT RAISE(ABORT, 'pot_transactions rows are immutable: post a compensating row instead'); END""",
    """CREATE TRIGGER IF NOT EXISTS pot_transactions_no_delete BEFORE DELETE ON pot_transactions
    BEGIN SELECT RAISE(ABORT, 'pot_transactions rows are immutable: post a compensating row instead'); END""",
]
POSTGRES_INSTALL = [
    """CREATE OR REPLACE FUNCTION pot_transactions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'pot_transactions rows are immutable: post a compensating row instead' USING ERRCODE = 'restrict_violation';
    END
    $$""",
    "DROP TRIGGER IF EXISTS pot_transactions_immutable ON pot_transactions",
    """CREATE TRIGGER pot_transactions_immutable BEFORE UPDATE OR DELETE ON pot_transactions
    FOR EACH ROW EXECUTE FUNCTION pot_transactions_immutable()""",
]

# Sign-up-time awards: spendable at once, redeemable only after a paid engagement and a verified email.
PROMOTIONAL_KEY_PREFIXES = ("profile_creation", "referral", "streak")


def reinstall_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_INSTALL, "postgresql": POSTGRES_INSTALL}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"No ledger immutability triggers for {vendor}.")
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def mark_promotional_rules(apps, schema_editor):
    EarningRule = apps.get_model("currency", "EarningRule")
    for prefix in PROMOTIONAL_KEY_PREFIXES:
        EarningRule.objects.filter(key__startswith=prefix).update(promotional=True)


class Migration(migrations.Migration):

    dependencies = [
        ('currency', '0004_fewer_transaction_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Going back, the table is rebuilt again: the triggers return when this (first) step is undone.
        migrations.RunPython(migrations.RunPython.noop, reinstall_triggers),
        migrations.RemoveConstraint(
            model_name='pottransaction',
            name='pot_tx_amount_not_0',
        ),
        migrations.RemoveConstraint(
            model_name='pottransaction',
            name='pot_tx_type_valid',
        ),
        migrations.AddField(
            model_name='earningrule',
            name='promotional',
            field=models.BooleanField(default=False, help_text='Sign-up-time POT (profiles, referrals, streaks): spendable at once, redeemable for USD only after the person has a paid engagement and a verified email.'),
        ),
        migrations.AddField(
            model_name='pottransaction',
            name='debt_change',
            field=models.BigIntegerField(default=0, help_text='POT owed: + recorded by a reversal, - settled.'),
        ),
        migrations.AddField(
            model_name='pottransaction',
            name='promotional_amount',
            field=models.BigIntegerField(default=0, help_text='The part of the amount that is promotional POT (same sign as the amount).'),
        ),
        migrations.AddField(
            model_name='wallet',
            name='debt',
            field=models.BigIntegerField(default=0, help_text='POT owed after a reversal found too small a balance.'),
        ),
        migrations.AddField(
            model_name='wallet',
            name='paid_engagement_at',
            field=models.DateTimeField(blank=True, help_text="When a commission of one of the person's engagements was first paid.", null=True),
        ),
        migrations.AddField(
            model_name='wallet',
            name='promotional_balance',
            field=models.BigIntegerField(default=0, help_text='The part of the balance from promotional awards (spent first).'),
        ),
        migrations.AlterField(
            model_name='pottransaction',
            name='transaction_type',
            field=models.CharField(choices=[('earn', 'Earn'), ('spend', 'Spend'), ('burn', 'Burn'), ('redeem', 'Redeem'), ('refund', 'Refund'), ('adjust', 'Adjust'), ('debt', 'Debt')], max_length=16),
        ),
        migrations.AddConstraint(
            model_name='pottransaction',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('amount', 0), _negated=True), ('transaction_type', 'debt'), _connector='OR'), name='pot_tx_amount_not_0'),
        ),
        migrations.AddConstraint(
            model_name='pottransaction',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('transaction_type', 'debt'), _negated=True), models.Q(('amount', 0), ('debt_change__gt', 0)), _connector='OR'), name='pot_tx_debt_row_records_debt'),
        ),
        migrations.AddConstraint(
            model_name='pottransaction',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('promotional_amount__gte', 0), ('promotional_amount__lte', models.F('amount'))), models.Q(('promotional_amount__lte', 0), ('promotional_amount__gte', models.F('amount'))), _connector='OR'), name='pot_tx_promotional_within_amount'),
        ),
        migrations.AddConstraint(
            model_name='pottransaction',
            constraint=models.CheckConstraint(condition=models.Q(('transaction_type__in', ['earn', 'spend', 'burn', 'redeem', 'refund', 'adjust', 'debt'])), name='pot_tx_type_valid'),
        ),
        migrations.AddConstraint(
            model_name='wallet',
            constraint=models.CheckConstraint(condition=models.Q(('promotional_balance__gte', 0), ('promotional_balance__lte', models.F('balance'))), name='wallet_promotional_within_balance'),
        ),
        migrations.AddConstraint(
            model_name='wallet',
            constraint=models.CheckConstraint(condition=models.Q(('debt__gte', 0)), name='wallet_debt_gte_0'),
        ),
        migrations.RunPython(mark_promotional_rules, migrations.RunPython.noop),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]
