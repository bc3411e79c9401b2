"""Restore the SQLite database from a backup file (`make restore FILE=...`)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from imatch.backup import BackupError, sqlite_database_path, sqlite_restore


class Command(BaseCommand):
    help = (
        "Replace the SQLite database's contents with a backup made by db_backup. The backup is checked "
        "first, and the database being replaced is itself backed up into DIR. PostgreSQL: use pg_restore."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The backup file (e.g. backups/db-20260101-120000.sqlite3).")
        parser.add_argument("--dir", default="backups", help="Where to keep a copy of the replaced database.")

    def handle(self, *args, file, dir, **options):
        connections.close_all()
        try:
            database = sqlite_database_path()
            kept = sqlite_restore(backup=Path(file), database=database, keep_dir=Path(dir))
        except BackupError as error:
            raise CommandError(str(error)) from error
        if kept:
            self.stdout.write(f"The database being replaced was kept in {kept}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {database} from {file}. Run `manage.py migrate` if the backup is older than the code, "
                "then `manage.py verify_ledger`."
            )
        )
