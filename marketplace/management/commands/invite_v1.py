"""`manage.py invite_v1`: email each person of the Phase 1 import their "account is ready" link, once."""

from django.core.management.base import BaseCommand, CommandError

from marketplace.legacy.invitations import imported_people_invite


class Command(BaseCommand):
    help = (
        "Email every person created by import_v1 a one-time link to set a password, and their first step. "
        "Each person is invited once: running it again sends nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count who would be invited; send nothing.")
        parser.add_argument("--limit", type=int, default=None, help="Invite at most N people in this run.")
        parser.add_argument(
            "--resend", action="store_true", help="Also invite again those invited before who never logged in."
        )

    def handle(self, *args, dry_run: bool, limit: int | None, resend: bool, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")

        def progress(done: int, total: int) -> None:
            width = 30
            filled = width * done // total
            self.stdout.write(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")

        run = imported_people_invite(resend=resend, limit=limit, dry_run=dry_run, progress=progress)
        if dry_run:
            self.stdout.write(f"Dry run: {run.to_invite} people would be invited. Nothing was sent.")
            return
        if not run.to_invite:
            self.stdout.write("Nobody to invite: every imported person was invited already.")
            return
        for user_id, why in run.failed:
            self.stderr.write(f"user {user_id}: not sent: {why}")
        self.stdout.write(
            f"Invited {run.sent} of {run.to_invite}; {len(run.failed)} failed (they stay uninvited: run again), "
            f"{run.skipped} skipped (invited meanwhile)."
        )
        if run.failed:
            raise CommandError(f"{len(run.failed)} invitations could not be sent (listed above).")
