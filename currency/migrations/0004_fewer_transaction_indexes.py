"""Fewer indexes on pot_transactions (each one costs every insert); uniqueness of the key as a named
constraint. SQLite rebuilds the table for these changes, which drops its triggers: put them back."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


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


def reinstall_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_INSTALL, "postgresql": POSTGRES_INSTALL}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"No ledger immutability triggers for {vendor}.")
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('currency', '0003_seed_rules_and_options'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Going back, the table is rebuilt again: the triggers return when this (first) step is undone.
        migrations.RunPython(migrations.RunPython.noop, reinstall_triggers),
        migrations.AddConstraint(
            model_name='pottransaction',
            constraint=models.UniqueConstraint(fields=('idempotency_key',), name='pot_tx_one_row_per_cause'),
        ),
        migrations.AlterField(
            model_name='pottransaction',
            name='actor',
            field=models.ForeignKey(blank=True, db_index=False, help_text='Who did it: the user (spend, redeem), an operator (adjust, approvals); empty for the platform.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='pottransaction',
            name='category',
            field=models.SlugField(db_index=False, help_text='The reason, e.g. profile_creation, profile_boost.', max_length=64),
        ),
        migrations.AlterField(
            model_name='pottransaction',
            name='idempotency_key',
            field=models.CharField(help_text='The cause; unique: one row per cause.', max_length=200),
        ),
        migrations.AlterField(
            model_name='pottransaction',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='pot_transactions', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]
