"""The weekly report's figures: revenue, POT flows, growth, funnels, multi-category use, month-2 goals.

Everything comes from a handful of aggregate queries (grouped by category and by week; a
week is a window of 7 days ending now, the newest first, as the runbook's "last 7 days"),
so the cost does not grow with the data. `operations.report_render` writes it as text,
CSV or JSON; the admin page and the API read the same `WeeklyReport`.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Case, Count, Exists, OuterRef, Q, Sum, Value, When
from django.utils import timezone

from currency.models import PotTransaction, TransactionType
from currency.selectors import economy_statistics
from imatch import formatting
from imatch.weeks import Week, in_weeks, report_weeks, week_index
from marketplace.models import Engagement, EngagementStatus, Match, MatchStatus, Provider, Seeker, User

GOAL_WEEKS = 4  # the revenue goal is a month's commission: the last four weeks
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
SPENDING_TYPES = (TransactionType.SPEND, TransactionType.BURN)
ACCEPTED_STATUSES = (MatchStatus.ACCEPTED, MatchStatus.ENGAGED)


@dataclass(frozen=True)
class RevenueRow:
    """Engagements reported in a category in a week, with their deal value and commission."""

    week: int
    category: str
    engagements: int
    deal_value: Decimal
    commission: Decimal


@dataclass(frozen=True)
class PotRow:
    """POT of one reason in a week (earning sources, or spending and burns)."""

    week: int
    reason: str
    transactions: int
    pot: int


@dataclass(frozen=True)
class NewProfilesRow:
    week: int
    category: str
    seekers: int
    providers: int


@dataclass(frozen=True)
class FunnelRow:
    """Matches made in the report's weeks in a category, and how far they went."""

    category: str
    matches: int
    introductions: int
    accepted: int
    engagements: int
    completed: int

    STEPS = ("matches", "introductions", "accepted", "engagements", "completed")

    def conversions(self) -> list[tuple[str, Decimal | None]]:
        """Each step's share of the step before it (None when the step before had nobody)."""
        values = [getattr(self, step) for step in self.STEPS]
        return [(self.STEPS[i], formatting.rate(values[i], values[i - 1])) for i in range(1, len(values))]


@dataclass(frozen=True)
class ReferralFunnel:
    """People who signed up with a referral in the report's weeks: how many made a profile, an engagement."""

    signed_up: int
    activated: int
    engaged: int


@dataclass(frozen=True)
class MultiCategory:
    people_in_two_or_more: int  # with seeker or provider profiles in at least 2 categories
    seekers_engaged_in_two_or_more: int  # seekers with engagements in at least 2 categories


@dataclass(frozen=True)
class Goal:
    """A month-2 goal line: the target, where it stands, met or not."""

    key: str
    label: str
    target: str
    actual: str
    met: bool


@dataclass(frozen=True)
class WeeklyReport:
    generated_at: datetime
    weeks: list[Week]
    revenue: list[RevenueRow]
    earning: list[PotRow]
    spending: list[PotRow]
    new_profiles: list[NewProfilesRow]
    funnel: list[FunnelRow]
    referrals: ReferralFunnel
    multi_category: MultiCategory
    goals: list[Goal]
    categories: list[str] = field(default_factory=list)

    def revenue_total(self, week: int) -> tuple[int, Decimal, Decimal]:
        rows = [row for row in self.revenue if row.week == week]
        return (
            sum(row.engagements for row in rows),
            sum((row.deal_value for row in rows), ZERO),
            sum((row.commission for row in rows), ZERO),
        )


def _revenue(weeks: list[Week]) -> list[RevenueRow]:
    """The runbook's "revenue by category": every engagement reported, by the category's display name."""
    rows = (
        Engagement.objects.filter(in_weeks("created_at", weeks))
        .annotate(week=week_index("created_at", weeks))
        .values("week", "category__display_name")
        .annotate(engagements=Count("id"), deal_value=Sum("deal_value_usd"), commission=Sum("commission_usd"))
        .order_by("week", "category__display_name")
    )
    return [
        RevenueRow(
            week=row["week"],
            category=row["category__display_name"],
            engagements=row["engagements"],
            deal_value=(row["deal_value"] or ZERO).quantize(CENT),  # SQLite sums Decimals without their places
            commission=(row["commission"] or ZERO).quantize(CENT),
        )
        for row in rows
    ]


def _pot_flows(weeks: list[Week]) -> tuple[list[PotRow], list[PotRow]]:
    """The runbook's earning sources (earn rows) and spending patterns (spend and burn rows), per week."""
    rows = (
        PotTransaction.objects.filter(
            in_weeks("created_at", weeks), transaction_type__in=[TransactionType.EARN, *SPENDING_TYPES]
        )
        .annotate(week=week_index("created_at", weeks))
        .values("week", "transaction_type", "category")
        .annotate(transactions=Count("id"), pot=Sum("amount"))
        .order_by()
    )
    earning: dict[tuple[int, str], list[int]] = {}
    spending: dict[tuple[int, str], list[int]] = {}
    for row in rows:
        target = earning if row["transaction_type"] == TransactionType.EARN else spending
        totals = target.setdefault((row["week"], row["category"]), [0, 0])
        totals[0] += row["transactions"]
        totals[1] += abs(row["pot"] or 0)

    def ordered(groups: dict[tuple[int, str], list[int]]) -> list[PotRow]:
        found = [PotRow(week, reason, count, pot) for (week, reason), (count, pot) in groups.items()]
        return sorted(found, key=lambda row: (row.week, -row.pot, row.reason))

    return ordered(earning), ordered(spending)


def _new_profiles(weeks: list[Week]) -> list[NewProfilesRow]:
    counts: dict[tuple[int, str], list[int]] = {}
    for position, model in enumerate((Seeker, Provider)):
        rows = (
            model.objects.filter(in_weeks("created_at", weeks))
            .annotate(week=week_index("created_at", weeks))
            .values("week", "category__display_name")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            counts.setdefault((row["week"], row["category__display_name"]), [0, 0])[position] = row["n"]
    return [
        NewProfilesRow(week=week, category=category, seekers=seekers, providers=providers)
        for (week, category), (seekers, providers) in sorted(counts.items())
    ]


def _funnel(weeks: list[Week]) -> list[FunnelRow]:
    live = ~Q(engagement__status=EngagementStatus.CANCELLED)
    rows = (
        Match.objects.filter(in_weeks("created_at", weeks))
        .values("category__display_name")
        .annotate(
            matches=Count("id"),
            introductions=Count("id", filter=Q(introduced_at__isnull=False)),
            accepted=Count("id", filter=Q(status__in=ACCEPTED_STATUSES)),
            engagements=Count("id", filter=Q(engagement__isnull=False) & live),
            completed=Count("id", filter=Q(engagement__status=EngagementStatus.COMPLETED)),
        )
        .order_by("category__display_name")
    )
    return [
        FunnelRow(
            category=row["category__display_name"],
            matches=row["matches"],
            introductions=row["introductions"],
            accepted=row["accepted"],
            engagements=row["engagements"],
            completed=row["completed"],
        )
        for row in rows
    ]


def _referrals(weeks: list[Week]) -> ReferralFunnel:
    person = OuterRef("pk")
    has_profile = Exists(Seeker.objects.filter(user_id=person)) | Exists(Provider.objects.filter(user_id=person))
    engaged = Exists(Engagement.objects.filter(Q(seeker__user_id=person) | Q(provider__user_id=person)))
    row = User.objects.filter(in_weeks("date_joined", weeks), referred_by__isnull=False).aggregate(
        signed_up=Count("id"),
        activated=Sum(Case(When(has_profile, then=Value(1)), default=Value(0))),
        engaged=Sum(Case(When(engaged, then=Value(1)), default=Value(0))),
    )
    return ReferralFunnel(row["signed_up"], row["activated"] or 0, row["engaged"] or 0)


def _multi_category() -> MultiCategory:
    """One query: people with profiles in 2+ categories, seekers who engaged in 2+ categories."""
    seekers, providers, engagements = Seeker._meta.db_table, Provider._meta.db_table, Engagement._meta.db_table
    sql = (
        "SELECT "  # noqa: S608 - table names from the models, no parameters
        f"(SELECT COUNT(*) FROM (SELECT user_id FROM (SELECT user_id, category_id FROM {seekers} "
        f"UNION SELECT user_id, category_id FROM {providers}) AS profiles "
        "GROUP BY user_id HAVING COUNT(*) >= 2) AS multi), "
        f"(SELECT COUNT(*) FROM (SELECT s.user_id FROM {engagements} e JOIN {seekers} s ON s.id = e.seeker_id "
        f"WHERE e.status <> %s GROUP BY s.user_id HAVING COUNT(DISTINCT e.category_id) >= 2) AS engaged)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [EngagementStatus.CANCELLED])
        people, seekers_engaged = cursor.fetchone()
    return MultiCategory(people_in_two_or_more=people, seekers_engaged_in_two_or_more=seekers_engaged)


def _goals(*, monthly_commission: Decimal, statistics: dict) -> list[Goal]:
    """The plan's month-2 goals: revenue, POT in circulation, participation, POT transactions a week."""
    revenue_goal = settings.GOAL_MONTHLY_COMMISSION_USD
    circulation_goal = settings.GOAL_POT_IN_CIRCULATION
    participation = statistics["participation_rate"]
    return [
        Goal(
            "revenue",
            "Commission, last 4 weeks",
            f"≥ {formatting.usd(revenue_goal)}",
            formatting.usd(monthly_commission),
            monthly_commission >= revenue_goal,
        ),
        Goal(
            "pot_in_circulation",
            "POT in circulation",
            f"≥ {formatting.pot(circulation_goal)}",
            formatting.pot(statistics["total_pot_in_circulation"]),
            statistics["total_pot_in_circulation"] >= circulation_goal,
        ),
        Goal(
            "participation",
            "Users holding POT",
            "≥ 30.0%",
            statistics["participation_rate_display"],
            participation >= Decimal("0.30"),
        ),
        Goal(
            "pot_transactions",
            "POT transactions, last 7 days",
            "> 100",
            f"{statistics['transactions_last_7_days']:,}",
            statistics["transactions_last_7_days"] > 100,
        ),
    ]


def weekly_report(*, weeks: int = 1, now: datetime | None = None) -> WeeklyReport:
    """The report over the last `weeks` weeks (the newest first). Eleven queries, whatever the data."""
    if not 1 <= weeks <= 52:
        raise ValueError("A report covers 1 to 52 weeks.")
    now = now or timezone.now()
    shown = report_weeks(weeks=weeks, now=now)
    revenue = _revenue(report_weeks(weeks=max(weeks, GOAL_WEEKS), now=now))
    monthly_commission = sum((row.commission for row in revenue if row.week < GOAL_WEEKS), ZERO)
    earning, spending = _pot_flows(shown)
    statistics = economy_statistics(now=now)
    revenue = [row for row in revenue if row.week < weeks]
    return WeeklyReport(
        generated_at=now,
        weeks=shown,
        revenue=revenue,
        earning=earning,
        spending=spending,
        new_profiles=_new_profiles(shown),
        funnel=_funnel(shown),
        referrals=_referrals(shown),
        multi_category=_multi_category(),
        goals=_goals(monthly_commission=monthly_commission, statistics=statistics),
        categories=sorted({row.category for row in revenue}),
    )
