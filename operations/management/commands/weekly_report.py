"""The weekly report for operators: revenue, POT flows, growth, funnels, month-2 goals."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations import report_render
from operations.report import weekly_report
from operations.services import weekly_report_send


def _weeks(value: str) -> int:
    try:
        weeks = int(value)
    except ValueError:
        raise CommandError(f"--weeks is a whole number of weeks, not {value!r}.") from None
    if not 1 <= weeks <= 52:
        raise CommandError("--weeks is between 1 and 52.")
    return weeks


class Command(BaseCommand):
    help = (
        "Print the weekly report: revenue by category (engagements, deal value, commission), POT earning "
        "sources and spending patterns (the runbook's three weekly queries), new seekers and providers by "
        "category, the funnel by category, the referral funnel, multi-category users and the month-2 goals. "
        "Weeks are the last 7 days, the 7 before, …"
    )

    def add_arguments(self, parser):
        parser.add_argument("--weeks", type=_weeks, default=1, help="How many weeks, newest first (1-52; default 1).")
        parser.add_argument(
            "--format", choices=report_render.FORMATS, default="text", help="text (default), csv or json."
        )
        parser.add_argument("--output", help="Write to this file instead of the terminal.")
        parser.add_argument("--email", action="store_true", help="Also email it (text) to the operators.")

    def handle(self, *args, **options):
        report = weekly_report(weeks=options["weeks"])
        if options["format"] == "csv":
            body = report_render.as_csv(report)
        elif options["format"] == "json":
            body = report_render.as_json(report)
        else:
            body = report_render.as_text(report)
        if options["output"]:
            path = Path(options["output"])
            if not path.parent.is_dir():
                raise CommandError(f"No such folder: {path.parent}")
            path.write_text(body, encoding="utf-8")
            self.stderr.write(f"Wrote the report to {path}")
        else:
            self.stdout.write(body, ending="")
        if options["email"]:
            recipients = weekly_report_send(weeks=options["weeks"])
            self.stderr.write(f"Emailed it to {len(recipients)} operators." if recipients else "No operator to email.")
