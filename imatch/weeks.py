"""Weeks as operators read them: windows of 7 days ending now, the newest first (index 0), as the
runbook's "last 7 days". Rows are put in their week by one SQL CASE, so a weekly figure costs one
grouped query however many weeks it spans. Also the calendar weeks of streaks, and the calendar
months and days that limits and counts go by: the same for everyone, whatever the request's zone."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

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


# --- Calendar weeks (streaks) ---------------------------------------------------------
# A person's streak needs weeks that stay put: a week "ending now" slides with the clock, so an
# action would move from one week to the next while nobody does anything, and a streak (and the
# bonus paid once per streak, keyed by its first week) would change by itself. Streak weeks are
# calendar weeks, Monday 00:00 to Monday 00:00 UTC for everyone, so the same action falls in the
# same week whichever time zone the page is shown in or the check runs in.


def calendar_week(at: datetime) -> date:
    """The Monday (UTC) of the calendar week that contains `at`."""
    day = at.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def calendar_week_start(week: date) -> datetime:
    """When the calendar week of Monday `week` begins: that Monday at 00:00 UTC."""
    return datetime(week.year, week.month, week.day, tzinfo=UTC)


# --- Calendar months and days (limits and counts) ----------------------------------------
# A limit per calendar month (referral awards, awarded community answers) or a count per day
# (an article's readers) goes by the server's time zone (settings.TIME_ZONE), whoever's request
# asks. In the request's own zone, a person who sets their account to UTC+14 would see the month
# begin 14 hours early, and a limit already reached would start again for their requests.


def calendar_month_start(at: datetime | None = None) -> datetime:
    """When the calendar month that contains `at` (default: now) begins, in the server's time zone."""
    local = timezone.localtime(at or timezone.now(), timezone.get_default_timezone())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def calendar_day(at: datetime | None = None) -> date:
    """The day that contains `at` (default: now), in the server's time zone."""
    return timezone.localdate(at or timezone.now(), timezone.get_default_timezone())
