"""Reads for the leaderboards: per category and calendar month (UTC), three boards, kept in the cache.

- providers: engagements confirmed in the month (cancelled ones do not count), then rating
  (Bayesian, as the Top Rated badge reads it);
- contributors: community answers accepted plus library articles published in the month
  (`community.selectors.accepted_answer_counts`, `library.selectors.published_counts_by_author`),
  then accepted answers;
- connectors: referred people whose referral was activated in the month (their first profile)
  and who have a profile in the category.

Only people whose name setting says so (`marketplace.models.leaderboard_name_shown`: their
choice, else providers yes and seekers no) appear by name; everyone else is "Anonymous",
ranked all the same, with no name, badge, rating or link that could tell who they are.

Each board is computed with a fixed number of queries however many people it ranks, and kept
in the cache (one key per board, category and month) for LEADERBOARD_CACHE_SECONDS: it is
recomputed at most that often, and a changed name setting shows at the next recompute. While
one process recomputes a board, the others keep serving the previous one.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from categories.models import Category
from community.selectors import accepted_answer_counts
from growth.badges import Badge
from growth.errors import InvalidMonth, UnknownCategory
from growth.ranking import FIRST_YEAR, Entry, Month, ranked
from growth.selectors import COUNTED_ENGAGEMENT_STATUSES, badges_of_people
from imatch.errors import DomainError
from imatch.errors import ErrorCode as CommonCode
from library.selectors import published_counts_by_author
from marketplace.matching.factors import bayesian_rating
from marketplace.models import (
    Engagement,
    Provider,
    Referral,
    ReferralStatus,
    Seeker,
    User,
    leaderboard_name_shown,
)
from marketplace.selectors import directory_category

PROVIDERS, CONTRIBUTORS, CONNECTORS = "providers", "contributors", "connectors"
BOARDS = (PROVIDERS, CONTRIBUTORS, CONNECTORS)
# A board stays in the cache this many times LEADERBOARD_CACHE_SECONDS, so that the other
# processes have the previous one to serve while one recomputes it; it is fresh only as long
# as LEADERBOARD_CACHE_SECONDS.
KEEP_FACTOR = 6
RECOMPUTE_LOCK_SECONDS = 60  # a process that died while recomputing holds the board no longer


@dataclass(frozen=True)
class LeaderboardRow:
    """One ranked person. `name` None: shown as "Anonymous" (and `provider_id`, `badges`, `rating` empty).

    `user_id` is never shown: it only lets a logged-in viewer find their own row.
    """

    rank: int
    user_id: int
    name: str | None
    figures: dict
    provider_id: int | None = None
    badges: tuple[Badge, ...] = ()

    @property
    def anonymous(self) -> bool:
        return self.name is None


@dataclass(frozen=True)
class Board:
    kind: str
    category_id: int
    month: Month
    computed_at: datetime
    rows: tuple[LeaderboardRow, ...] = field(default=())


# --- Input: which board ----------------------------------------------------------------------


def leaderboard_category(*, name: str) -> Category:
    """The launched category of this machine name; a refusal on the `category` field otherwise."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Choose a category, e.g. financial_advisors.", field="category", code=CommonCode.REQUIRED)
    category = directory_category(name=name)
    if category is None:
        raise UnknownCategory("There is no launched category of that name.", field="category")
    return category


def leaderboard_month(*, text: str | None, now: datetime | None = None) -> Month:
    """The month `YYYY-MM` (empty: the current month, UTC); a refusal on the `month` field otherwise."""
    current = Month.of(now or timezone.now())
    if not (text or "").strip():
        return current
    month = Month.parse(text.strip())
    if month is None:
        raise InvalidMonth(f"Give the month as YYYY-MM, e.g. {current.key}.", field="month")
    if month > current:
        raise InvalidMonth(f"That month has not started yet: choose {current.key} or earlier.", field="month")
    if month.year < FIRST_YEAR:
        raise InvalidMonth(f"Leaderboards start in {FIRST_YEAR}-01.", field="month")
    return month


# --- Computing one board (a fixed number of queries) ----------------------------------------------


def _rows(top: list[tuple[int, Entry]], people: dict[int, dict], figures_of) -> tuple[LeaderboardRow, ...]:
    """The ranked entries as rows: names, links and badges only for the people shown by name."""
    named = {
        person_id
        for person_id, person in people.items()
        if leaderboard_name_shown(opt_in=person["opt_in"], account_type=person["account_type"])
    }
    badges = badges_of_people(user_ids=named) if named else {}
    rows = []
    for rank, entry in top:
        person = people.get(entry.person_id)
        shown = entry.person_id in named
        rows.append(
            LeaderboardRow(
                rank=rank,
                user_id=entry.person_id,
                name=person["name"] if shown else None,
                figures=figures_of(entry, person if shown else None),
                provider_id=person.get("provider_id") if shown else None,
                badges=tuple(badges.get(entry.person_id, ())),
            )
        )
    return tuple(rows)


def _provider_people(*, category: Category, user_ids: list[int]) -> dict[int, dict]:
    """Each person's provider profile in the category (business name, rating) and name setting; one query."""
    rows = Provider.objects.filter(category=category, user_id__in=user_ids).values(
        "id", "user_id", "business_name", "rating_avg", "rating_count", "user__leaderboard_opt_in", "user__account_type"
    )
    return {
        row["user_id"]: {
            "provider_id": row["id"],
            "name": row["business_name"],
            "rating_avg": row["rating_avg"],
            "rating_count": row["rating_count"],
            "opt_in": row["user__leaderboard_opt_in"],
            "account_type": row["user__account_type"],
        }
        for row in rows
    }


def providers_board(*, category: Category, month: Month, now: datetime) -> Board:
    """Providers by engagements confirmed in the month, then Bayesian rating."""
    counts = (
        Engagement.objects.filter(
            category=category,
            status__in=COUNTED_ENGAGEMENT_STATUSES,
            confirmed_at__gte=month.start,
            confirmed_at__lt=month.end,
            provider__user__is_active=True,
        )
        .values("provider__user_id", "provider__rating_avg", "provider__rating_count")
        .annotate(n=Count("id"))
    )
    entries = [
        Entry(
            row["provider__user_id"],
            (row["n"], bayesian_rating(float(row["provider__rating_avg"]), row["provider__rating_count"])),
        )
        for row in counts
    ]
    top = ranked(entries, size=settings.LEADERBOARD_SIZE)
    people = _provider_people(category=category, user_ids=[entry.person_id for _, entry in top])

    def figures(entry: Entry, person: dict | None) -> dict:
        return {
            "engagements": int(entry.figures[0]),
            "rating": person["rating_avg"] if person and person["rating_count"] else None,
            "rating_count": person["rating_count"] if person else None,
        }

    return Board(PROVIDERS, category.pk, month, now, _rows(top, people, figures))


def contributors_board(*, category: Category, month: Month, now: datetime) -> Board:
    """Providers by community answers accepted plus articles published in the month, then accepted answers."""
    window = {"since": month.start, "until": month.end, "category_id": category.pk, "active_accounts_only": True}
    answers = accepted_answer_counts(**window)
    articles = published_counts_by_author(**window)
    entries = [
        Entry(user_id, (answers.get(user_id, 0) + articles.get(user_id, 0), answers.get(user_id, 0)))
        for user_id in answers.keys() | articles.keys()
    ]
    top = ranked(entries, size=settings.LEADERBOARD_SIZE)
    people = _provider_people(category=category, user_ids=[entry.person_id for _, entry in top])

    def figures(entry: Entry, person: dict | None) -> dict:
        accepted = int(entry.figures[1])
        return {
            "contributions": int(entry.figures[0]),
            "accepted_answers": accepted,
            "published_articles": int(entry.figures[0]) - accepted,
        }

    return Board(CONTRIBUTORS, category.pk, month, now, _rows(top, people, figures))


def connectors_board(*, category: Category, month: Month, now: datetime) -> Board:
    """People by referrals activated in the month whose referred person has a profile in the category."""
    in_category = Exists(Seeker.objects.filter(user_id=OuterRef("referred_id"), category=category)) | Exists(
        Provider.objects.filter(user_id=OuterRef("referred_id"), category=category)
    )
    counts = (
        Referral.objects.filter(
            in_category,
            status__in=(ReferralStatus.ACTIVATED, ReferralStatus.ENGAGED),
            activated_at__gte=month.start,
            activated_at__lt=month.end,
            referrer__is_active=True,
            referred__is_active=True,
        )
        .values("referrer_id")
        .annotate(n=Count("id"))
        .values_list("referrer_id", "n")
    )
    top = ranked((Entry(user_id, (n,)) for user_id, n in counts), size=settings.LEADERBOARD_SIZE)
    people = {
        row["id"]: {"name": row["name"], "opt_in": row["leaderboard_opt_in"], "account_type": row["account_type"]}
        for row in User.objects.filter(pk__in=[entry.person_id for _, entry in top]).values(
            "id", "name", "leaderboard_opt_in", "account_type"
        )
    }

    def figures(entry: Entry, person: dict | None) -> dict:
        return {"activated_referrals": int(entry.figures[0])}

    return Board(CONNECTORS, category.pk, month, now, _rows(top, people, figures))


COMPUTE = {PROVIDERS: providers_board, CONTRIBUTORS: contributors_board, CONNECTORS: connectors_board}


# --- The cache ------------------------------------------------------------------------------------


# Part of every key: change it with the shape of `Board`, so that no process unpickles a board kept
# by an older release.
BOARD_VERSION = 1


def board_key(kind: str, category: Category, month: Month) -> str:
    return f"leaderboard:v{BOARD_VERSION}:{kind}:{category.pk}:{month.key}"


def _fresh(board: Board | None, now: datetime) -> bool:
    age = timedelta(seconds=settings.LEADERBOARD_CACHE_SECONDS)
    return board is not None and board.computed_at <= now < board.computed_at + age


def _recompute(kind: str, category: Category, month: Month, now: datetime, kept: Board | None) -> Board:
    """Compute the board and keep it; with a previous one kept, only the process that takes the lock does."""
    key = board_key(kind, category, month)
    lock = f"{key}:recomputing"
    locked = cache.add(lock, 1, RECOMPUTE_LOCK_SECONDS)
    if kept is not None and not locked:
        return kept  # another process is recomputing it: the previous board, for the seconds that takes
    try:
        board = COMPUTE[kind](category=category, month=month, now=now)
        cache.set(key, board, settings.LEADERBOARD_CACHE_SECONDS * KEEP_FACTOR)
    finally:
        if locked:
            cache.delete(lock)
    return board


def leaderboards(*, category: Category, month: Month, now: datetime | None = None) -> dict[str, Board]:
    """The three boards of a category and month, from the cache; each recomputed once it is older than
    LEADERBOARD_CACHE_SECONDS (one cache read for the three when they are fresh)."""
    now = now or timezone.now()
    keys = {kind: board_key(kind, category, month) for kind in BOARDS}
    kept = cache.get_many(list(keys.values()))
    boards = {}
    for kind, key in keys.items():
        board = kept.get(key)
        boards[kind] = board if _fresh(board, now) else _recompute(kind, category, month, now, board)
    return boards


def updated_at(boards: dict[str, Board]) -> datetime:
    """When the oldest of the boards was computed (what the page says)."""
    return min(board.computed_at for board in boards.values())
