"""Back up and restore the SQLite database with SQLite's online backup API.

The backup API copies a consistent snapshot page by page while gunicorn workers keep
reading and writing (WAL mode), so no one has to stop the site to take a backup. A
restore writes a backup's pages into the live file the same way; the file being replaced
is backed up first. PostgreSQL uses pg_dump / pg_restore instead (README "Backups").
"""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

REQUIRED_TABLES = ("django_migrations", "users", "pot_transactions")


class BackupError(Exception):
    """The backup or restore was refused; nothing was written."""


def sqlite_database_path() -> Path:
    """The file of the default database; refuses anything but a file-based SQLite database."""
    database = settings.DATABASES["default"]
    name = str(database.get("NAME") or "")
    if database["ENGINE"] != "django.db.backends.sqlite3" or name in ("", ":memory:") or name.startswith("file:"):
        raise BackupError(
            "make backup / restore work on the SQLite database only; for PostgreSQL use pg_dump and "
            "pg_restore (README, Backups)."
        )
    return Path(name)


def backup_file_name(directory: Path, *, label: str = "db") -> Path:
    """A new, time-stamped file name in `directory` (UTC), e.g. backups/db-20260101-120000.sqlite3."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = directory / f"{label}-{stamp}.sqlite3"
    number = 2
    while path.exists():
        path = directory / f"{label}-{stamp}-{number}.sqlite3"
        number += 1
    return path


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    with target:
        source.backup(target, pages=1024)


def sqlite_backup(*, database: Path, target: Path) -> Path:
    """Copy a consistent snapshot of `database` into the new file `target`."""
    if not database.exists():
        raise BackupError(f"There is no database at {database}: run `make run` (or migrate) first.")
    if target.exists():
        raise BackupError(f"{target} exists: choose another file name.")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=20)
    copy = sqlite3.connect(target)
    try:
        _copy(source, copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        copy.close()
        source.close()
    return target


def backup_check(path: Path) -> None:
    """Refuse a file that is not an intact I MATCH SQLite database."""
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            [integrity] = connection.execute("PRAGMA quick_check").fetchone()
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database ({error}).") from error
    if integrity != "ok":
        raise BackupError(f"{path} is damaged: {integrity}")
    missing = [table for table in REQUIRED_TABLES if table not in tables]
    if missing:
        raise BackupError(f"{path} is not an I MATCH database (no {', '.join(missing)} table).")


def sqlite_restore(*, backup: Path, database: Path, keep_dir: Path) -> Path | None:
    """Replace the contents of `database` with `backup`; returns the copy kept of what was replaced.

    The backup is checked first (SQLite, intact, I MATCH's tables); then the current
    database, if any, is backed up into `keep_dir`, then the backup's pages are written
    into it through the backup API (running workers see the restored data at their next query).
    """
    backup_check(backup)
    if backup.resolve() == database.resolve():
        raise BackupError("The backup is the database itself.")
    kept = None
    if database.exists():
        kept = sqlite_backup(database=database, target=backup_file_name(keep_dir, label="before-restore"))
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    target = sqlite3.connect(database, timeout=20)
    try:
        _copy(source, target)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        target.close()
        source.close()
    return kept
