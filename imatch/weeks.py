"""Weeks as operators read them: windows of 7 days ending now, the newest first (index 0), as the
runbook's "last 7 days". Rows are put in their week by one SQL CASE, so a weekly figure costs one
grouped query however many weeks it spans."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Week:
    """A window of 7 days: index 0 ends now, 1 the 7 days before, …"""

    index: int
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        last_day = timezone.localtime(self.end - timedelta(microseconds=1)).date()
        return f"{timezone.localtime(self.start).date():%b %-d} – {last_day:%b %-d}"


def report_weeks(*, weeks: int, now: datetime) -> list[Week]:
    return [Week(index=k, start=now - WEEK * (k + 1), end=now - WEEK * k) for k in range(weeks)]


def week_index(field_name: str, weeks: list[Week], *, before: int | None = None) -> Case:
    """Which week a row falls in (0 = the last 7 days), as a SQL CASE over the windows; rows older
    than the oldest week get `before` (None: NULL)."""
    return Case(
        *[When(**{f"{field_name}__gte": week.start}, then=Value(week.index)) for week in weeks],
        default=Value(before),
        output_field=IntegerField(),
    )


def in_weeks(field_name: str, weeks: list[Week]) -> Q:
    return Q(**{f"{field_name}__gte": weeks[-1].start, f"{field_name}__lt": weeks[0].end})
