"""Reading a Phase 1 file: its `customers` and `providers` rows, read-only; no ORM.

Phase 1 kept a SQLite file with a `customers` and a `providers` table (see DESIGN.md,
"Legacy import"). Only the `id` and `email` columns are required; every row comes back as
stored, but for lower-cased column names and invalid UTF-8 replaced (`repair` makes clean
values of it).
"""

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketplace.errors import LegacyFileError

CUSTOMERS = "customers"
PROVIDERS = "providers"
REQUIRED_COLUMNS = ("id", "email")


@dataclass
class LegacyTables:
    """The rows of the two legacy tables, as dicts keyed by column name, in id order."""

    customers: list[dict[str, Any]]
    providers: list[dict[str, Any]]


def read_legacy_file(path: str | Path) -> LegacyTables:
    """Read the customers and providers of a Phase 1 file without ever writing to it.

    The file is opened through a `mode=ro` URI: SQLite then neither writes the file nor
    creates a journal beside it, so its bytes and modification time stay as they were.
    """
    path = Path(path)
    if not path.exists():
        raise LegacyFileError(f"Cannot read the legacy file {path}: no such file.")
    if not path.is_file():
        raise LegacyFileError(f"Cannot read the legacy file {path}: not a regular file.")
    try:
        with path.open("rb"):  # a clear message for a permission problem, before SQLite's vaguer one
            pass
    except OSError as error:
        raise LegacyFileError(f"Cannot read the legacy file {path}: {error.strerror or error}.") from error
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise LegacyFileError(f"Cannot open the legacy file {path}: {error}.") from error
    # Phase 1 did not always store valid UTF-8: never fail a whole import on one bad byte.
    connection.text_factory = lambda raw: raw.decode("utf-8", "replace")
    try:
        tables = {
            name.lower()
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        }
        missing = [table for table in (CUSTOMERS, PROVIDERS) if table not in tables]
        if missing:
            raise LegacyFileError(f"The legacy file {path} has no {' and no '.join(missing)} table.")
        return LegacyTables(
            customers=_read_table(connection, CUSTOMERS, path),
            providers=_read_table(connection, PROVIDERS, path),
        )
    except sqlite3.Error as error:
        raise LegacyFileError(f"Cannot read the legacy file {path}: {error}.") from error
    finally:
        connection.close()


def _read_table(connection: sqlite3.Connection, table: str, path: Path) -> list[dict[str, Any]]:
    cursor = connection.execute(f'SELECT * FROM "{table}" ORDER BY id')  # noqa: S608 - a fixed table name
    columns = [description[0].lower() for description in cursor.description]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise LegacyFileError(f"The {table} table of {path} has no {' and no '.join(missing)} column.")
    return [dict(zip(columns, row, strict=True)) for row in cursor]
