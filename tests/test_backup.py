"""`make backup` / `make restore FILE=...`: the db_backup and db_restore commands on SQLite."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

from imatch.backup import BackupError, backup_check, sqlite_database_path

BASE_DIR = Path(settings.BASE_DIR)

MAKE_PERSON = """
from categories.models import Category
from marketplace.services import profiles
user = profiles.user_register(email="{email}", password="a-long-passphrase", name="Dana Demo")
profiles.seeker_create(user=user, category=Category.objects.get(name="financial_advisors"),
                       specialties=["retirement-planning"], needs_description="Retire at 60.")
"""
COUNT = "from currency.models import PotTransaction; from marketplace.models import User; " + (
    "print(sorted(User.objects.values_list('email', flat=True)), PotTransaction.objects.count())"
)


def _manage(database: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "imatch.settings",
        "DJANGO_DEBUG": "true",
        "DJANGO_SECRET_KEY": "backup-test-secret-key-0123456789",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _remove(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def test_backup_then_restore_brings_the_data_back(tmp_path):
    database, backups = tmp_path / "db.sqlite3", tmp_path / "backups"
    _manage(database, "migrate", "--noinput", "-v0")
    _manage(database, "seed_categories", "categories")
    _manage(database, "shell", "-c", MAKE_PERSON.format(email="dana@example.com"))
    before = _manage(database, "shell", "-c", COUNT).stdout
    assert "dana@example.com" in before

    made = _manage(database, "db_backup", "--dir", str(backups))
    [backup] = backups.glob("db-*.sqlite3")
    assert str(backup) in made.stdout
    backup_check(backup)  # a self-contained, intact SQLite file

    # A change after the backup is undone by the restore; the replaced database is kept.
    _manage(database, "shell", "-c", MAKE_PERSON.format(email="late@example.com"))
    assert "late@example.com" in _manage(database, "shell", "-c", COUNT).stdout
    restored = _manage(database, "db_restore", str(backup), "--dir", str(backups))
    assert "was kept in" in restored.stdout
    assert _manage(database, "shell", "-c", COUNT).stdout == before
    [kept] = backups.glob("before-restore-*.sqlite3")
    with sqlite3.connect(kept) as connection:
        assert connection.execute("SELECT COUNT(*) FROM users WHERE email = 'late@example.com'").fetchone() == (1,)

    # A lost database comes back whole: data, POT rows and the ledger's triggers.
    _remove(database)
    _manage(database, "db_restore", str(backup), "--dir", str(backups))
    assert _manage(database, "shell", "-c", COUNT).stdout == before
    verified = _manage(database, "verify_ledger")
    assert "mismatch" not in verified.stdout.lower()
    _manage(database, "migrate", "--check")  # the schema is complete: no migration is missing


def test_restore_refuses_a_file_that_is_not_an_imatch_backup(tmp_path):
    not_sqlite = tmp_path / "notes.sqlite3"
    not_sqlite.write_text("not a database at all, just some text that is long enough " * 20)
    with pytest.raises(BackupError, match="not a SQLite database"):
        backup_check(not_sqlite)
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupError, match="not an I MATCH database"):
        backup_check(other)
    with pytest.raises(BackupError, match="No backup file"):
        backup_check(tmp_path / "missing.sqlite3")


def test_backup_refuses_postgresql(monkeypatch):
    postgres = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "imatch"}}
    monkeypatch.setattr("imatch.backup.settings", SimpleNamespace(DATABASES=postgres))
    with pytest.raises(BackupError, match="pg_dump"):
        sqlite_database_path()
