"""Back up the SQLite database into a time-stamped file (`make backup`)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imatch.backup import BackupError, backup_file_name, sqlite_backup, sqlite_database_path


class Command(BaseCommand):
    help = (
        "Copy a consistent snapshot of the SQLite database (SQLite's online backup API: the site keeps "
        "running) into DIR/db-YYYYMMDD-HHMMSS.sqlite3. PostgreSQL: use pg_dump."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", default="backups", help="Folder for the backup file (default: backups).")
        parser.add_argument("--output", metavar="FILE", help="Exact file to write instead (must not exist).")

    def handle(self, *args, dir, output=None, **options):
        try:
            database = sqlite_database_path()
            target = Path(output) if output else backup_file_name(Path(dir))
            sqlite_backup(database=database, target=target)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Backed up {database} to {target} ({target.stat().st_size:,} bytes)."))
