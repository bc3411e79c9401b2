"""The weekly report written out: plain text (the email, the terminal), CSV (spreadsheets), JSON (the API).

Pure functions of a `WeeklyReport`: money as Decimal strings in CSV and JSON, "$1,234.00" in text.
"""

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal

from imatch import formatting
from operations.report import WeeklyReport

FORMATS = ("text", "csv", "json")


def _line(cells: list[str], widths: list[int]) -> str:
    """A text row: the first column left-aligned, figures right-aligned."""
    return "  ".join(
        str(cell).rjust(width) if index else str(cell).ljust(width)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
    )


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["(none)"]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    return [_line(headers, widths), _line(["-" * width for width in widths], widths)] + [
        _line(row, widths) for row in rows
    ]


def as_text(report: WeeklyReport) -> str:
    weeks = {week.index: week.label for week in report.weeks}
    out = [
        f"I MATCH weekly report, {report.generated_at:%Y-%m-%d %H:%M} UTC ({len(report.weeks)} week(s), newest first)",
        "",
    ]
    out += ["Month-2 goals"]
    out += _table(
        ["Goal", "Target", "Now", "Met"],
        [[goal.label, goal.target, goal.actual, "met" if goal.met else "NOT MET"] for goal in report.goals],
    )
    out += ["", "Revenue by category"]
    out += _table(
        ["Week", "Category", "Engagements", "Deal value", "Commission"],
        [
            [
                weeks[row.week],
                row.category,
                str(row.engagements),
                formatting.usd(row.deal_value),
                formatting.usd(row.commission),
            ]
            for row in report.revenue
        ],
    )
    for title, rows in (("POT earning sources", report.earning), ("POT spending patterns", report.spending)):
        out += ["", title]
        out += _table(
            ["Week", "Reason", "Transactions", "POT"],
            [[weeks[row.week], row.reason, str(row.transactions), f"{row.pot:,}"] for row in rows],
        )
    out += ["", "New seekers and providers by category"]
    out += _table(
        ["Week", "Category", "Seekers", "Providers"],
        [[weeks[row.week], row.category, str(row.seekers), str(row.providers)] for row in report.new_profiles],
    )
    out += ["", "Funnel by category (matches made in these weeks)"]
    out += _table(
        ["Category", "Matches", "Introductions", "Accepted", "Engagements", "Completed", "Conversions"],
        [
            [
                row.category,
                str(row.matches),
                str(row.introductions),
                str(row.accepted),
                str(row.engagements),
                str(row.completed),
                " → ".join(formatting.percent(rate) for _, rate in row.conversions()),
            ]
            for row in report.funnel
        ],
    )
    referrals = report.referrals
    out += [
        "",
        "Referral funnel (people who signed up with a referral in these weeks)",
        f"signed up {referrals.signed_up} → activated (a profile) {referrals.activated} → engaged {referrals.engaged}",
        "",
        "Multi-category use",
        f"people with profiles in 2 or more categories: {report.multi_category.people_in_two_or_more}",
        f"seekers who engaged in 2 or more categories: {report.multi_category.seekers_engaged_in_two_or_more}",
    ]
    return "\n".join(out) + "\n"


def _csv_rows(report: WeeklyReport) -> Iterator[list[str]]:
    """One long table: section, week, category or reason, figure, value."""
    weeks = {week.index: week.start.date().isoformat() for week in report.weeks}
    for goal in report.goals:
        yield ["goal", "", goal.key, "met" if goal.met else "not met", goal.actual]
    for row in report.revenue:
        for figure in ("engagements", "deal_value", "commission"):
            yield ["revenue", weeks[row.week], row.category, figure, str(getattr(row, figure))]
    for section, rows in (("pot_earning", report.earning), ("pot_spending", report.spending)):
        for row in rows:
            yield [section, weeks[row.week], row.reason, "transactions", str(row.transactions)]
            yield [section, weeks[row.week], row.reason, "pot", str(row.pot)]
    for row in report.new_profiles:
        yield ["new_profiles", weeks[row.week], row.category, "seekers", str(row.seekers)]
        yield ["new_profiles", weeks[row.week], row.category, "providers", str(row.providers)]
    for row in report.funnel:
        for step in row.STEPS:
            yield ["funnel", "", row.category, step, str(getattr(row, step))]
    for step in ("signed_up", "activated", "engaged"):
        yield ["referrals", "", "", step, str(getattr(report.referrals, step))]
    yield ["multi_category", "", "", "people_in_two_or_more", str(report.multi_category.people_in_two_or_more)]
    yield [
        "multi_category",
        "",
        "",
        "seekers_engaged_in_two_or_more",
        str(report.multi_category.seekers_engaged_in_two_or_more),
    ]


def as_csv(report: WeeklyReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "week_start", "category_or_reason", "figure", "value"])
    writer.writerows(_csv_rows(report))
    return buffer.getvalue()


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def as_data(report: WeeklyReport) -> dict:
    """The report as JSON-ready data (money as strings with 2 decimals, rates between 0 and 1 or null)."""
    weeks = {week.index: week for week in report.weeks}
    return {
        "generated_at": report.generated_at.isoformat(),
        "weeks": [
            {"index": week.index, "start": week.start.isoformat(), "end": week.end.isoformat(), "label": week.label}
            for week in report.weeks
        ],
        "goals": [
            {"key": g.key, "label": g.label, "target": g.target, "actual": g.actual, "met": g.met} for g in report.goals
        ],
        "revenue_by_category": [
            {
                "week": row.week,
                "week_start": weeks[row.week].start.isoformat(),
                "category": row.category,
                "engagements": row.engagements,
                "deal_value_usd": _money(row.deal_value),
                "commission_usd": _money(row.commission),
            }
            for row in report.revenue
        ],
        "pot_earning_sources": [
            {"week": r.week, "reason": r.reason, "transactions": r.transactions, "pot": r.pot} for r in report.earning
        ],
        "pot_spending_patterns": [
            {"week": r.week, "reason": r.reason, "transactions": r.transactions, "pot": r.pot} for r in report.spending
        ],
        "new_profiles_by_category": [
            {"week": r.week, "category": r.category, "seekers": r.seekers, "providers": r.providers}
            for r in report.new_profiles
        ],
        "funnel_by_category": [
            {
                "category": row.category,
                **{step: getattr(row, step) for step in row.STEPS},
                "conversion_rates": {
                    step: (float(rate) if rate is not None else None) for step, rate in row.conversions()
                },
            }
            for row in report.funnel
        ],
        "referral_funnel": {
            "signed_up": report.referrals.signed_up,
            "activated": report.referrals.activated,
            "engaged": report.referrals.engaged,
        },
        "multi_category": {
            "people_in_two_or_more": report.multi_category.people_in_two_or_more,
            "seekers_engaged_in_two_or_more": report.multi_category.seekers_engaged_in_two_or_more,
        },
    }


def as_json(report: WeeklyReport) -> str:
    return json.dumps(as_data(report), indent=2) + "\n"
