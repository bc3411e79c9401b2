"""`manage.py import_v1 PATH`: bring the Phase 1 people into I MATCH (see DESIGN.md)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imatch.errors import DomainError
from marketplace.legacy import ImportReport, LegacyFileError, legacy_file_import

COUNT_LABELS = {
    "users_created": "users created",
    "users_matched": "users matched to existing",
    "seekers_created": "seekers created",
    "seekers_existing": "seekers already there",
    "seekers_without_need": "customers without a need (account only)",
    "providers_created": "providers created",
    "providers_existing": "providers already there",
    "account_types_updated": "account types updated",
    "pot_awarded": "POT awards",
    "rows_skipped": "rows skipped",
    "rows_repaired": "rows repaired",
    "rows_merged": "rows merged into another",
}


class Command(BaseCommand):
    help = (
        "Import the customers and providers of a Phase 1 SQLite file into the financial_advisors category. "
        "The file is only read. Running it again on the same file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The Phase 1 SQLite file (opened read-only).")
        parser.add_argument("--dry-run", action="store_true", help="Print the report; write nothing.")
        parser.add_argument(
            "--award-pot",
            action="store_true",
            help="Award the profile-creation POT to imported people (once per person and role, also across runs).",
        )
        parser.add_argument("--report-json", metavar="FILE", help="Also write the report to FILE as JSON.")

    def handle(self, *args, path, dry_run, award_pot, report_json, **options):
        try:
            report = legacy_file_import(path=path, dry_run=dry_run, award_pot=award_pot)
        except LegacyFileError as error:
            raise CommandError(error.message, returncode=2) from error
        except DomainError as error:
            raise CommandError(error.message) from error
        if report_json:
            try:
                Path(report_json).write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
            except OSError as error:
                raise CommandError(f"Cannot write the JSON report to {report_json}: {error.strerror}.") from error
        self.stdout.write("\n".join(report_lines(report)))


def report_lines(report: ImportReport) -> list[str]:
    """The report as text: the issues of each row, the merges, then the counts."""
    lines = [
        f"Phase 1 import of {report.path}" + (" (dry run)" if report.dry_run else ""),
        f"Read {report.customers_read} customers and {report.providers_read} providers: "
        f"{report.people} people, {report.people_in_both_tables} of them in both tables.",
    ]
    if report.issues:
        lines.append(f"Rows with issues ({len(report.issues)}):")
        lines.extend(f"  {i.table} {i.row_id}: {i.action}: {i.reason}" for i in report.issues)
    if report.merges:
        lines.append(f"Rows of the same person, merged ({len(report.merges)}):")
        lines.extend(
            f"  {merge.table} {', '.join(str(row_id) for row_id in merge.row_ids)}: {merge.email}"
            for merge in report.merges
        )
    if report.dry_run and report.changed:
        lines.append("Dry run: nothing was written; the counts say what the import would do.")
    elif report.dry_run:
        lines.append("Dry run: nothing was written, and the import would change nothing.")
    elif report.changed:
        lines.append("Imported.")
    else:
        lines.append("Nothing changed: everyone in this file is already in I MATCH.")
    if not report.award_pot:
        lines.append("No POT was awarded: run with --award-pot to award the profile-creation POT (once per person).")
    lines.append("Counts:")
    counts = vars(report.counts)
    width = max(len(label) for label in COUNT_LABELS.values())
    lines.extend(
        f"  {label:<{width}}  {counts[key]}"
        for key, label in COUNT_LABELS.items()
        if key != "pot_awarded" or report.award_pot
    )
    return lines
