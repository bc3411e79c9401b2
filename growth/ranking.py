"""Leaderboard ranking, pure Python (no Django): calendar months and the order of a board.

`growth.leaderboards` counts each person's figures for a month with one grouped query and
hands them here; what is ranked first, how ties share a rank and where the board is cut are
decided here, so they can be tested on plain data.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

FIRST_YEAR = 2000  # leaderboards start in January 2000 (the product is younger; a bound for bad input)
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in UTC: [start, end)."""

    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime) -> "Month":
        """The UTC month `moment` falls in."""
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    @classmethod
    def parse(cls, text: str) -> "Month | None":
        """`YYYY-MM` as a month; None for anything else (month 13, 2026-1, …)."""
        found = MONTH_PATTERN.match(text or "")
        if found is None:
            return None
        year, month = int(found[1]), int(found[2])
        return cls(year, month) if 1 <= month <= 12 else None

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{MONTH_NAMES[self.month - 1]} {self.year}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first moment of the next month (not in this one)."""
        return self.following().start

    def following(self) -> "Month":
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> "Month":
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def recent(self, count: int) -> list["Month"]:
        """This month and the `count - 1` before it, newest first (never before FIRST_YEAR)."""
        months, month = [], self
        while len(months) < count and month.year >= FIRST_YEAR:
            months.append(month)
            month = month.previous()
        return months


@dataclass(frozen=True)
class Entry:
    """One person's figures on a board, before ranking. `figures` are compared in order, the larger first."""

    person_id: int
    figures: tuple[float, ...]


def ranked(entries: Iterable[Entry], *, size: int) -> list[tuple[int, Entry]]:
    """The first `size` entries with their rank: larger figures first; equal figures share a rank (1, 2, 2, 4).

    People with nothing to count (the first figure, what the board counts, is 0) are left out. Among equals the earlier
    account (smaller id) is listed first, so the same data always gives the same board.
    """
    ordered = sorted(
        (entry for entry in entries if entry.figures and entry.figures[0] > 0),
        key=lambda entry: (tuple(-figure for figure in entry.figures), entry.person_id),
    )
    board: list[tuple[int, Entry]] = []
    for position, entry in enumerate(ordered[:size], start=1):
        tied = board and board[-1][1].figures == entry.figures
        board.append((board[-1][0] if tied else position, entry))
    return board
