"""pot_transactions is append-only: UPDATE and DELETE fail in the database.

The SQL is frozen here, as it was when this migration was written, so that later edits of
`currency.triggers` (the runtime copy, used by `verify_ledger` and the tests) do not change what
this migration does. A migration imports nothing from the app.
"""

from django.db import migrations

SQLITE_INSTALL = [
    """CREATE TRIGGER IF NOT EXISTS pot_transactions_no_update BEFORE UPDATE ON pot_transactions
    BEGIN SELECT RAISE(ABORT, 'pot_transactions rows are immutable: post a compensating row instead'); END""",
    """CREATE TRIGGER IF NOT EXISTS pot_transactions_no_delete BEFORE DELETE ON pot_transactions
    BEGIN SELECT RAISE(ABORT, 'pot_transactions rows are immutable: post a compensating row instead'); END""",
]
SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS pot_transactions_no_update",
    "DROP TRIGGER IF EXISTS pot_transactions_no_delete",
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
POSTGRES_UNINSTALL = [
    "DROP TRIGGER IF EXISTS pot_transactions_immutable ON pot_transactions",
    "DROP FUNCTION IF EXISTS pot_transactions_immutable()",
]


def _run(schema_editor, *, sqlite: list[str], postgresql: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": sqlite, "postgresql": postgresql}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"No ledger immutability triggers for {vendor}.")
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(apps, schema_editor):
    _run(schema_editor, sqlite=SQLITE_INSTALL, postgresql=POSTGRES_INSTALL)


def uninstall(apps, schema_editor):
    _run(schema_editor, sqlite=SQLITE_UNINSTALL, postgresql=POSTGRES_UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [("currency", "0001_ledger")]

    operations = [migrations.RunPython(install, uninstall)]
