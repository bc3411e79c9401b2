"""A `release` row type: promotional POT made redeemable because a paid commission pays for it
(amount 0, a negative promotional part; `currency.services.pot_promotional_release`). SQLite
rebuilds pot_transactions for the new constraints, which drops its triggers: put them back."""

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
        ("currency", "0007_budget_paid_awards_are_earned"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, reinstall_triggers),  # when migrating back
        migrations.RemoveConstraint(
            model_name="pottransaction",
            name="pot_tx_amount_not_0",
        ),
        migrations.RemoveConstraint(
            model_name="pottransaction",
            name="pot_tx_promotional_within_amount",
        ),
        migrations.RemoveConstraint(
            model_name="pottransaction",
            name="pot_tx_type_valid",
        ),
        migrations.AlterField(
            model_name="pottransaction",
            name="transaction_type",
            field=models.CharField(
                choices=[
                    ("earn", "Earn"),
                    ("spend", "Spend"),
                    ("burn", "Burn"),
                    ("redeem", "Redeem"),
                    ("refund", "Refund"),
                    ("adjust", "Adjust"),
                    ("debt", "Debt"),
                    ("release", "Release"),
                ],
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="pottransaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("amount", 0), _negated=True),
                    ("transaction_type__in", ["debt", "release"]),
                    _connector="OR",
                ),
                name="pot_tx_amount_not_0",
            ),
        ),
        migrations.AddConstraint(
            model_name="pottransaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("transaction_type", "release"), _negated=True),
                    models.Q(("amount", 0), ("promotional_amount__lt", 0), ("debt_change", 0)),
                    _connector="OR",
                ),
                name="pot_tx_release_row_releases_promotional",
            ),
        ),
        migrations.AddConstraint(
            model_name="pottransaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("promotional_amount__gte", 0), ("promotional_amount__lte", models.F("amount"))),
                    models.Q(("promotional_amount__lte", 0), ("promotional_amount__gte", models.F("amount"))),
                    ("transaction_type", "release"),
                    _connector="OR",
                ),
                name="pot_tx_promotional_within_amount",
            ),
        ),
        migrations.AddConstraint(
            model_name="pottransaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("transaction_type__in", ["earn", "spend", "burn", "redeem", "refund", "adjust", "debt", "release"])
                ),
                name="pot_tx_type_valid",
            ),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]
