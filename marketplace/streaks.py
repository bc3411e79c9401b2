"""Streaks: calendar weeks in a row in which a person did at least one action that counts.

Pure Python (no Django): `marketplace.selectors.streak_action_weeks` gathers the weeks (the
Monday of each calendar week, see `imatch.weeks.calendar_week`) in which a person answered a
lead within 24 hours, rated an engagement, or had a community answer accepted with an award;
the rules here say how long the streak is, since when, and which bonus comes next.

A streak is alive while the person acted this week or last week: a week without an action
(once it is over) ends it, and the next action starts a new one. The bonus earning rules pay at
BONUS_WEEKS, once each per streak: a streak is known by its first week.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

WEEK = timedelta(days=7)
BONUS_WEEKS = (4, 12)  # the streak lengths the bonus earning rules pay at
BONUS_RULES = {4: "streak_bonus_4_weeks", 12: "streak_bonus_12_weeks"}


@dataclass(frozen=True)
class NextBonus:
    """The next bonus of a streak: its length, and the week (Monday) in which it is reached if kept going."""

    weeks: int
    rule_key: str
    week: date


@dataclass(frozen=True)
class Streak:
    """A person's current streak as of the calendar week `this_week` (a Monday)."""

    weeks: int  # weeks in a row, through this week if it has an action, else through last week
    start: date | None  # the Monday of its first week (None: no streak)
    this_week: date
    done_this_week: bool  # this week already has an action: the streak goes on to next week

    @property
    def at_risk(self) -> bool:
        """The streak ends unless the person acts before this week is over."""
        return self.weeks > 0 and not self.done_this_week

    @property
    def bonuses_due(self) -> list[int]:
        """The bonus lengths this streak has reached (each paid once per streak)."""
        return [weeks for weeks in BONUS_WEEKS if weeks <= self.weeks]

    @property
    def next_bonus(self) -> NextBonus | None:
        """The next bonus this streak reaches if the person acts every week (None after the last one)."""
        weeks = next((weeks for weeks in BONUS_WEEKS if weeks > self.weeks), None)
        if weeks is None:
            return None
        # Counted through this week when it is done; otherwise this week is the next one to count.
        to_go = weeks - self.weeks - (0 if self.done_this_week else 1)
        return NextBonus(weeks=weeks, rule_key=BONUS_RULES[weeks], week=self.this_week + WEEK * to_go)

    @property
    def week_ends(self) -> date:
        """The Monday the current week ends on."""
        return self.this_week + WEEK


def streak_of(*, action_weeks: Iterable[date], this_week: date) -> Streak:
    """The current streak, given the Mondays of the weeks with an action and the Monday of this week.

    Weeks after `this_week` (a clock ahead of ours) are ignored.
    """
    weeks = {week for week in action_weeks if week <= this_week}
    done = this_week in weeks
    cursor = this_week if done else this_week - WEEK
    length = 0
    while cursor in weeks:
        length += 1
        cursor -= WEEK
    return Streak(weeks=length, start=cursor + WEEK if length else None, this_week=this_week, done_this_week=done)
