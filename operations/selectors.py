"""Reads of the operations console: the work queue and the KPI tiles of the admin index.

Every figure is one aggregate query (conditional counts over two windows), so the index
costs the same number of queries whatever the data.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone

from currency.models import PotTransaction, Redemption, RedemptionStatus, TransactionType, Wallet
from currency.selectors import pot_liability_usd
from imatch import formatting
from marketplace import selectors as marketplace_selectors
from marketplace.models import Engagement, EngagementStatus, Match, Provider, Seeker
from marketplace.services.matches import INTRODUCTION_TIMEOUT

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
        burned_now=Sum("amount", filter=current & Q(transaction_type__in=BURNING)),
        burned_before=Sum("amount", filter=previous & Q(transaction_type__in=BURNING)),
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


# POT that leaves circulation for good: spent (every spend is burned) and burned rows.
BURNING = (TransactionType.SPEND, TransactionType.BURN)


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
