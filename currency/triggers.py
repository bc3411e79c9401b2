"""Database triggers that make `pot_transactions` append-only, on PostgreSQL and SQLite.

Created by migration 0002 (and put back by 0004), which carry their own frozen copy of this
SQL: editing it here changes what the runtime checks and the tests use, never what an old
migration did. `verify_ledger` checks the triggers are in place. On SQLite, Django rebuilds a
table to alter it (new table, copy, drop): a future migration that alters `pot_transactions`
must recreate them afterwards, with the SQL copied into that migration.

What they do not stop: PostgreSQL's TRUNCATE (a table owner's act, which Django's test
flush uses) and dropping the triggers themselves. Production roles should not own the table.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

MESSAGE = "pot_transactions rows are immutable: post a compensating row instead"

SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS pot_transactions_no_update BEFORE UPDATE ON pot_transactions
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS pot_transactions_no_delete BEFORE DELETE ON pot_transactions
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS pot_transactions_no_update",
    "DROP TRIGGER IF EXISTS pot_transactions_no_delete",
]
SQLITE_NAMES = {"pot_transactions_no_update", "pot_transactions_no_delete"}

POSTGRES_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION pot_transactions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
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


def _statements(connection: BaseDatabaseWrapper, *, install: bool) -> list[str]:
    if connection.vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_UNINSTALL
    if connection.vendor == "postgresql":
        return POSTGRES_INSTALL if install else POSTGRES_UNINSTALL
    raise NotImplementedError(f"No ledger immutability triggers for {connection.vendor}.")


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the triggers (idempotent)."""
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=True):
            cursor.execute(statement)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=False):
            cursor.execute(statement)


def installed(connection: BaseDatabaseWrapper) -> bool:
    """Whether UPDATE and DELETE on pot_transactions are refused by the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'pot_transactions'")
            return {row[0] for row in cursor.fetchall()} >= SQLITE_NAMES
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgtype FROM pg_trigger WHERE tgrelid = 'pot_transactions'::regclass "
                "AND tgname = 'pot_transactions_immutable' AND tgenabled <> 'D'"
            )
            row = cursor.fetchone()
            # tgtype bits: 1 row-level, 2 before, 8 delete, 16 update.
            return row is not None and row[0] & (1 | 2 | 8 | 16) == (1 | 2 | 8 | 16)
    return False
