"""Reads of the operations console: the work queue and the KPI tiles of the admin index.

Every figure is one aggregate query (conditional counts over two windows), so the index
costs the same number of queries whatever the data.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Case, Count, DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, Sum, Value, When
from django.urls import reverse
from django.utils import timezone

from community.selectors import reports_open_count
from currency.models import (
    Experiment,
    ExperimentArm,
    ExperimentAssignment,
    PotTransaction,
    Redemption,
    RedemptionStatus,
    TransactionType,
    Wallet,
)
from currency.selectors import PASSED_ON_REASONS, pot_liability_usd
from imatch import formatting
from library import selectors as library_selectors
from marketplace import selectors as marketplace_selectors
from marketplace.models import Engagement, EngagementStatus, Match, Provider, Seeker
from marketplace.services.matches import INTRODUCTION_TIMEOUT
from operations.statistics import Difference, proportion_difference

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class QueueItem:
    """One kind of work waiting for operators: how many, and where to do it."""

    key: str
    label: str
    count: int
    url: str
    hint: str


def work_queue(*, now: datetime | None = None) -> list[QueueItem]:
    """What operators have to do, most urgent kinds first; each links to the filtered admin list."""
    now = now or timezone.now()
    licenses = marketplace_selectors.providers_license_to_verify()
    engagements = Engagement.objects.aggregate(
        under_review=Count("id", filter=Q(status=EngagementStatus.UNDER_REVIEW)),
        disputed=Count("id", filter=Q(status=EngagementStatus.DISPUTED)),
        stale=Count(
            "id",
            filter=Q(status__in=marketplace_selectors.ENGAGEMENT_WAITING_STATUSES)
            & Q(created_at__lt=now - marketplace_selectors.STALE_ENGAGEMENT_AGE),
        ),
    )
    expiring = marketplace_selectors.introductions_expiring(
        introduced_before=now - (INTRODUCTION_TIMEOUT - marketplace_selectors.EXPIRY_WARNING)
    )
    engagement_list = reverse("admin:marketplace_engagement_changelist")
    return [
        QueueItem(
            "licenses",
            "Licenses to verify",
            licenses.count(),
            reverse("admin:marketplace_provider_changelist") + "?license=to_verify",
            "Providers in licensed categories with a license number, not verified yet: they are not matched.",
        ),
        QueueItem(
            "redemptions",
            "Redemptions to decide",
            Redemption.objects.filter(status=RedemptionStatus.PENDING).count(),
            reverse("admin:currency_redemption_changelist") + "?status__exact=pending",
            "Approve (pay in USD) or reject (the POT goes back).",
        ),
        QueueItem(
            "content_review",
            "Content waiting for review",
            library_selectors.articles_waiting_for_review().count(),
            reverse("admin:library_article_changelist") + "?status__exact=submitted",
            "Articles providers submitted: read the preview, then publish (pays the author) or reject with a reason.",
        ),
        QueueItem(
            "under_review",
            "Engagements to approve",
            engagements["under_review"],
            engagement_list + "?status__exact=under_review",
            "Deal values above the category's review threshold.",
        ),
        QueueItem(
            "disputes",
            "Disputes to decide",
            engagements["disputed"],
            engagement_list + "?status__exact=disputed",
            "One side asked to cancel, the other disagreed.",
        ),
        QueueItem(
            "stale_engagements",
            "Engagements unconfirmed for over 7 days",
            engagements["stale"],
            engagement_list + "?waiting=stale",
            "Reported and not confirmed by the other side: confirm as operator or ask them.",
        ),
        QueueItem(
            "expiring_introductions",
            "Introductions expiring within 24 hours",
            expiring.count(),
            reverse("admin:marketplace_match_changelist") + "?expiring=24h",
            "The provider has not answered; after 72 hours the seeker gets the next provider.",
        ),
        QueueItem(
            "community_reports",
            "Reports waiting for moderation",
            reports_open_count(),
            reverse("admin:community_report_changelist") + "?status__exact=open",
            "People reported a community question or answer: hide it with a reason, or dismiss the report.",
        ),
    ]


@dataclass(frozen=True)
class Tile:
    """A KPI: the last 7 days against the 7 days before, with the change."""

    key: str
    label: str
    current: Decimal | int
    previous: Decimal | int
    kind: str  # "count", "usd" or "pot"

    def _show(self, value) -> str:
        if self.kind == "usd":
            return formatting.usd(value)
        if self.kind == "pot":
            return formatting.pot(value)
        return f"{value:,}"

    @property
    def current_display(self) -> str:
        return self._show(self.current)

    @property
    def previous_display(self) -> str:
        return self._show(self.previous)

    @property
    def change(self) -> Decimal | None:
        return formatting.change(self.current, self.previous)

    @property
    def change_display(self) -> str:
        if self.change is None:
            return "new" if self.current else "no change"
        return formatting.percent(self.change, signed=True)

    @property
    def trend(self) -> str:
        """up, down or flat (a CSS class)."""
        difference = Decimal(self.current) - Decimal(self.previous)
        return "up" if difference > 0 else "down" if difference < 0 else "flat"


def _windows(field: str, now: datetime) -> tuple[Q, Q]:
    current = Q(**{f"{field}__gte": now - WEEK, f"{field}__lt": now})
    previous = Q(**{f"{field}__gte": now - 2 * WEEK, f"{field}__lt": now - WEEK})
    return current, previous


def kpi_tiles(*, now: datetime | None = None) -> list[Tile]:
    """The week's KPIs: new seekers and providers, introductions, engagements, money and POT. Six queries."""
    now = now or timezone.now()
    current, previous = _windows("created_at", now)
    seekers = Seeker.objects.aggregate(now=Count("id", filter=current), before=Count("id", filter=previous))
    providers = Provider.objects.aggregate(now=Count("id", filter=current), before=Count("id", filter=previous))
    intro_now, intro_before = _windows("introduced_at", now)
    introductions = Match.objects.aggregate(now=Count("id", filter=intro_now), before=Count("id", filter=intro_before))
    live = ~Q(status=EngagementStatus.CANCELLED)
    engagements = Engagement.objects.aggregate(
        now=Count("id", filter=current),
        before=Count("id", filter=previous),
        deal_now=Sum("deal_value_usd", filter=current & live),
        deal_before=Sum("deal_value_usd", filter=previous & live),
        commission_now=Sum("commission_usd", filter=current & live),
        commission_before=Sum("commission_usd", filter=previous & live),
    )
    pot = PotTransaction.objects.aggregate(
        earned_now=Sum("amount", filter=current & Q(transaction_type=TransactionType.EARN)),
        earned_before=Sum("amount", filter=previous & Q(transaction_type=TransactionType.EARN)),
        burned_now=Sum("amount", filter=current & BURNING),
        burned_before=Sum("amount", filter=previous & BURNING),
        redeemed_now=Sum("amount", filter=current & Q(transaction_type=TransactionType.REDEEM)),
        redeemed_before=Sum("amount", filter=previous & Q(transaction_type=TransactionType.REDEEM)),
    )
    zero = Decimal("0.00")
    return [
        Tile("new_seekers", "New seekers", seekers["now"], seekers["before"], "count"),
        Tile("new_providers", "New providers", providers["now"], providers["before"], "count"),
        Tile("introductions", "Introductions", introductions["now"], introductions["before"], "count"),
        Tile("engagements", "Engagements reported", engagements["now"], engagements["before"], "count"),
        Tile("deal_value", "Deal value", engagements["deal_now"] or zero, engagements["deal_before"] or zero, "usd"),
        Tile(
            "commission",
            "Commission",
            engagements["commission_now"] or zero,
            engagements["commission_before"] or zero,
            "usd",
        ),
        Tile("pot_earned", "POT earned", pot["earned_now"] or 0, pot["earned_before"] or 0, "pot"),
        Tile("pot_burned", "POT burned", -(pot["burned_now"] or 0), -(pot["burned_before"] or 0), "pot"),
        Tile("pot_redeemed", "POT redeemed", -(pot["redeemed_now"] or 0), -(pot["redeemed_before"] or 0), "pot"),
    ]


# POT burned as the economy statistics count it: spent, less the part passed on to other people
# (those earn rows are positive, so they offset the spend rows in one sum).
BURNING = Q(transaction_type=TransactionType.SPEND) | Q(
    transaction_type=TransactionType.EARN, category__in=PASSED_ON_REASONS
)


@dataclass(frozen=True)
class Liability:
    """What the platform owes in USD if all POT were redeemed now."""

    in_circulation: int
    held_pot: int
    held_usd: Decimal
    usd: Decimal

    @property
    def display(self) -> str:
        return formatting.usd(self.usd)


def pot_liability() -> Liability:
    """POT in circulation at the redemption rate, plus redemptions held for a decision. Two queries."""
    in_circulation = Wallet.objects.aggregate(total=Sum("balance"))["total"] or 0
    held = Redemption.objects.filter(status=RedemptionStatus.PENDING).aggregate(
        pot=Sum("pot_amount"), usd=Sum("usd_amount")
    )
    held_usd = held["usd"] or Decimal("0.00")
    return Liability(
        in_circulation=in_circulation,
        held_pot=held["pot"] or 0,
        held_usd=held_usd,
        usd=pot_liability_usd(in_circulation=in_circulation, held_usd=held_usd),
    )


# --- Experiment results -------------------------------------------------------------------

# What the results compare between arms: the share of each arm's users who did it.
EXPERIMENT_METRICS = {
    "profile": "Created a profile",
    "introduction": "Reached an introduction",
    "engagement": "Reached an engagement",
    "active_week_1": "Active in week 1",
    "active_week_2": "Active in week 2",
    "active_week_3": "Active in week 3",
    "active_week_4": "Active in week 4",
}
# The metric the verdict reads: the plan's goal is engagements.
VERDICT_METRIC = "engagement"


@dataclass(frozen=True)
class MetricResult:
    """One metric in one arm: how many did it, their share, and the difference from the control."""

    key: str
    label: str
    count: int
    share: Decimal | None
    difference: Difference | None

    @property
    def share_display(self) -> str:
        return formatting.percent(self.share)

    @property
    def difference_display(self) -> str:
        """ "+4.0 points (95% CI -1.2 to +9.2)"; empty for the control."""
        if self.difference is None:
            return ""
        d = self.difference
        points = lambda value: f"{value * 100:+.1f}"  # noqa: E731 - a one-line format
        return f"{points(d.difference)} points (95% CI {points(d.low)} to {points(d.high)}, p = {d.p_value:.3f})"


@dataclass(frozen=True)
class ArmResult:
    arm: ExperimentArm
    users: int
    pot_earned: int
    metrics: list[MetricResult]

    @property
    def pot_per_user(self) -> Decimal | None:
        return (Decimal(self.pot_earned) / self.users).quantize(Decimal("0.1")) if self.users else None


@dataclass(frozen=True)
class ExperimentResults:
    experiment: Experiment
    arms: list[ArmResult]
    minimum_per_arm: int
    verdict: str


def _someone(user_path: str) -> Q:
    """The assigned person as the seeker or the provider of the row."""
    return Q(**{f"seeker__{user_path}": OuterRef("user_id")}) | Q(**{f"provider__{user_path}": OuterRef("user_id")})


def _share(condition) -> Sum:
    return Sum(Case(When(condition, then=Value(1)), default=Value(0)))


def _active_in_week(week: int) -> Exists:
    start = ExpressionWrapper(OuterRef("assigned_at") + timedelta(days=7 * (week - 1)), output_field=DateTimeField())
    end = ExpressionWrapper(OuterRef("assigned_at") + timedelta(days=7 * week), output_field=DateTimeField())
    return Exists(PotTransaction.objects.filter(user_id=OuterRef("user_id"), created_at__gte=start, created_at__lt=end))


def experiment_results(*, experiment: Experiment, minimum_per_arm: int) -> ExperimentResults:
    """Per arm: users, POT earned per user, and the metrics' shares against the control. Three queries."""
    arms = list(experiment.arms.all())
    rows = {
        row["arm_id"]: row
        for row in ExperimentAssignment.objects.filter(experiment=experiment)
        .values("arm_id")
        .annotate(
            users=Count("id"),
            profile=_share(
                Exists(Seeker.objects.filter(user_id=OuterRef("user_id")))
                | Exists(Provider.objects.filter(user_id=OuterRef("user_id")))
            ),
            introduction=_share(Exists(Match.objects.filter(_someone("user_id"), introduced_at__isnull=False))),
            engagement=_share(Exists(Engagement.objects.filter(_someone("user_id")))),
            **{f"active_week_{week}": _share(_active_in_week(week)) for week in range(1, 5)},
        )
        .order_by()
    }
    earned = dict(
        PotTransaction.objects.filter(
            user__experiment_assignments__experiment=experiment,
            transaction_type=TransactionType.EARN,
            created_at__gte=experiment.starts_at,
        )
        .values_list("user__experiment_assignments__arm_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    empty = dict.fromkeys(["users", *EXPERIMENT_METRICS], 0)
    control = next((arm for arm in arms if arm.control), None)
    control_row = rows.get(control.pk, empty) if control else empty
    results = []
    for arm in arms:
        row = rows.get(arm.pk, empty)
        metrics = []
        for key, label in EXPERIMENT_METRICS.items():
            difference = None
            if not arm.control:
                difference = proportion_difference(
                    arm_successes=row[key],
                    arm_total=row["users"],
                    control_successes=control_row[key],
                    control_total=control_row["users"],
                )
            metrics.append(MetricResult(key, label, row[key], formatting.rate(row[key], row["users"]), difference))
        results.append(ArmResult(arm=arm, users=row["users"], pot_earned=earned.get(arm.pk) or 0, metrics=metrics))
    return ExperimentResults(
        experiment=experiment,
        arms=results,
        minimum_per_arm=minimum_per_arm,
        verdict=_verdict(results, minimum_per_arm),
    )


def _verdict(results: list[ArmResult], minimum_per_arm: int) -> str:
    """The result in plain words: not enough data yet, no clear difference, or which arm does better."""
    smallest = min((result.users for result in results), default=0)
    if smallest < minimum_per_arm:
        return (
            f"Not enough data yet: the smallest arm has {smallest} of the {minimum_per_arm} users "
            "needed before the results mean anything."
        )
    label = EXPERIMENT_METRICS[VERDICT_METRIC].lower()
    findings = []
    for result in results:
        metric = next(m for m in result.metrics if m.key == VERDICT_METRIC)
        if metric.difference is None:
            continue
        if metric.difference.significant:
            direction = "more" if metric.difference.difference > 0 else "fewer"
            findings.append(f"In arm {result.arm.name!r}, {direction} users {label} than in the control.")
        else:
            findings.append(f"Arm {result.arm.name!r}: no clear difference from the control in who {label}.")
    return " ".join(findings)
