"""Reads on POT: balances, history, effects of purchases, redemptions, economy statistics."""

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from currency.ledger import AWARD_REVERSAL, award_key
from currency.levels import Level, level_for
from currency.models import (
    EarningRule,
    Experiment,
    PotTransaction,
    Purchase,
    Redemption,
    RedemptionStatus,
    SpendEffect,
    SpendOption,
    TransactionType,
    Wallet,
    reason_label,
)
from imatch.db import row_values
from imatch.errors import DomainError, NotFound, PermissionDenied
from imatch.person_cache import Scope, person_answer
from imatch.weeks import calendar_day, in_weeks, report_weeks, week_index

User = get_user_model()


def pot_to_usd(pot: int) -> Decimal:
    return (Decimal(pot) * settings.POT_USD_RATE).quantize(Decimal("0.01"))


def email_verified(user) -> bool:
    """Whether the person verified their email address (`users.email_verified_at`)."""
    return user.email_verified_at is not None


def promotional_explanation(promotional_balance: int) -> str:
    """Why promotional POT is not redeemable yet, and what makes it so, in plain words."""
    return (
        f"{promotional_balance} POT are promotional (sign-up awards): you can spend them on platform features, "
        "and they become redeemable when the commission of one of your engagements is paid, as far as that "
        "commission covers them after the engagement's bonuses."
    )


@dataclass(frozen=True)
class WalletSummary:
    """A person's POT: what they can spend, what they can redeem now, and why not more."""

    user_id: int
    balance: int
    lifetime_earned: int
    promotional_balance: int = 0
    debt: int = 0
    paid_engagement: bool = False
    email_verified: bool = False

    @property
    def usd_value(self) -> Decimal:
        return pot_to_usd(self.balance)

    @property
    def level(self) -> Level:
        return level_for(self.lifetime_earned)

    @property
    def spendable(self) -> int:
        """Every POT of the balance buys platform features, promotional POT first."""
        return self.balance

    @property
    def redeemable(self) -> int:
        """What a redemption may take now: the earned part of the balance (promotional POT becomes
        earned when a paid commission pays for it); nothing while the email is unverified or a debt is open."""
        if not self.email_verified or self.debt > 0:
            return 0
        return self.balance - self.promotional_balance

    @property
    def redeemable_usd(self) -> Decimal:
        return pot_to_usd(self.redeemable)

    @property
    def redeem_blockers(self) -> list[str]:
        """Why some or all of the balance is not redeemable now, in plain words (empty: all of it is)."""
        reasons = []
        if not self.email_verified:
            reasons.append(
                "Your email address is not verified yet: open the link we emailed you (your dashboard sends a new one)."
            )
        if self.debt > 0:
            reasons.append(
                f"You owe {self.debt} POT (an award was taken back after you had spent it): "
                "your next earnings pay it back first."
            )
        if self.promotional_balance > 0:
            reasons.append(promotional_explanation(self.promotional_balance))
        return reasons


WALLET_ROW_FIELDS = ("balance", "lifetime_earned", "promotional_balance", "debt", "paid_engagement_at")


def wallet_row(*, user_id: int) -> tuple:
    """The wallet's `WALLET_ROW_FIELDS` in one query; zeros for someone who never had POT."""
    row = row_values(Wallet, WALLET_ROW_FIELDS, unique="user", value=user_id)  # the ORM's query, written out once
    return row or (0, 0, 0, 0, None)


def wallet_summary(*, user) -> WalletSummary:
    """A person's balances and earned POT in one query; 0 for someone who never had POT."""
    return wallet_summary_from(user=user, row=wallet_row(user_id=user.pk))


def wallet_summary_kept(*, user) -> WalletSummary:
    """`wallet_summary` with the wallet row kept under the person's ledger scope: no query on a hit.

    Whether the email address is verified is read from `user` (the request's own) each time.
    """
    row = person_answer(
        user_id=user.pk, scopes=[Scope.LEDGER], name=("wallet-row",), build=lambda: wallet_row(user_id=user.pk)
    )
    return wallet_summary_from(user=user, row=row)


def wallet_summary_from(*, user, row: tuple) -> WalletSummary:
    balance, earned, promotional, debt, paid_at = row
    return WalletSummary(
        user_id=user.pk,
        balance=balance,
        lifetime_earned=earned,
        promotional_balance=promotional,
        debt=debt,
        paid_engagement=paid_at is not None,
        email_verified=email_verified(user),
    )


def pot_balance(*, user_id: int) -> int:
    """The spendable balance (0 for someone who never had POT)."""
    return Wallet.objects.filter(user_id=user_id).values_list("balance", flat=True).first() or 0


def transactions_visible(*, user) -> QuerySet[PotTransaction]:
    """The ledger rows a person may read, newest first: their own; staff read all (the user as an id)."""
    rows = PotTransaction.objects.select_related("purchase").order_by("-id")
    return rows if user.is_staff else rows.filter(user=user)


def causes_awarded(*, causes: Iterable[str]) -> set[str]:
    """Which of these award causes were already awarded (`pot_award` awards a cause once)."""
    keys = {award_key(cause): cause for cause in causes}
    found: set[str] = set()
    key_list = list(keys)
    for start in range(0, len(key_list), 2000):  # well under SQLite's parameter limit
        chunk = key_list[start : start + 2000]
        found.update(PotTransaction.objects.filter(idempotency_key__in=chunk).values_list("idempotency_key", flat=True))
    return {keys[key] for key in found}


def award_for_cause(*, cause: str) -> PotTransaction | None:
    """The award row `pot_award` wrote for this cause, or None if it never paid."""
    return PotTransaction.objects.filter(idempotency_key=award_key(cause)).first()


@dataclass(frozen=True)
class PotRules:
    """Every earning rule and spend option (active or not) by key, as read at `loaded_at`."""

    earning_rules: dict[str, EarningRule]
    spend_options: dict[str, SpendOption]
    loaded_at: float
    _read_once: dict = field(default_factory=dict, repr=False, compare=False)

    def experiment_rule_ids(self) -> frozenset[int]:
        """Ids of the earning rules that an experiment not ended yet varies (read once per copy, on first use).

        An award asks the database which arm pays the person (`experiments.award_amount`) only
        for these rules: most awards are of rules no experiment varies, and their amount is the
        rule's. Experiments that have not started are in it (the lookup then finds no running
        one); an experiment ended since stays in it until the copy is read again (the lookup
        sees the end at once). What another process's operator creates is seen when this copy
        expires, like an edit of a rule: an experiment planned more than `POT_RULES_CACHE_SECONDS`
        ahead is never missed.
        """
        if "experiment_rule_ids" not in self._read_once:
            now = timezone.now()
            self._read_once["experiment_rule_ids"] = frozenset(
                Experiment.rules.through.objects.filter(experiment__ended_at__isnull=True)
                .filter(Q(experiment__ends_at__isnull=True) | Q(experiment__ends_at__gt=now))
                .values_list("earningrule_id", flat=True)
            )
        return self._read_once["experiment_rule_ids"]


_pot_rules: PotRules | None = None


def award_weeks(*, user_ids: Iterable[int], rule_key: str) -> dict[int, set[date]]:
    """The calendar weeks (Mondays, UTC) in which each person received an award of `rule_key` that
    was not taken back (one query: one row per person and week)."""
    ids = sorted(set(user_ids))
    taken_back = PotTransaction.objects.filter(
        user_id=OuterRef("user_id"),
        category=AWARD_REVERSAL,
        reference_type=OuterRef("reference_type"),
        reference_id=OuterRef("reference_id"),
    )
    rows = (
        PotTransaction.objects.filter(
            user_id__in=ids,
            transaction_type=TransactionType.EARN,
            idempotency_key__startswith=award_key(f"{rule_key}:"),
        )
        .exclude(Exists(taken_back))
        .order_by()
        .values_list("user_id", TruncWeek("created_at", tzinfo=UTC))
        .distinct()
    )
    weeks: dict[int, set[date]] = {user_id: set() for user_id in ids}
    for user_id, week in rows:
        weeks[user_id].add(week.date())
    return weeks


def awards_since(*, user_id: int, cause_prefix: str, since: datetime) -> int:
    """How many awards whose cause starts with `cause_prefix` the person received since `since`."""
    return PotTransaction.objects.filter(
        user_id=user_id,
        transaction_type=TransactionType.EARN,
        idempotency_key__startswith=award_key(cause_prefix),
        created_at__gte=since,
    ).count()


def pot_rules() -> PotRules:
    """The earning rules, spend options and experimented rules, kept per process for `POT_RULES_CACHE_SECONDS`.

    Every award and spend reads its rule: two tables of a few rows that operators edit
    rarely, so a process reads them once instead of once per posting (bench/ledger.py).
    The admin clears the copy of the process that saved an edit (`pot_rules_forget`; also for
    experiments); other processes read the edit when their copy expires.
    """
    global _pot_rules
    seconds = settings.POT_RULES_CACHE_SECONDS
    now = time.monotonic()
    if _pot_rules is None or seconds <= 0 or now - _pot_rules.loaded_at >= seconds:
        _pot_rules = PotRules(
            earning_rules={rule.key: rule for rule in EarningRule.objects.all()},
            spend_options={option.key: option for option in SpendOption.objects.all()},
            loaded_at=now,
        )
    return _pot_rules


_rules_signature: tuple[object, str] | None = None  # (the rules copy, its digest): one per process


def pot_rules_signature() -> str:
    """A digest of every earning rule's and spend option's columns: equal rules give equal digests in
    every worker, so a page kept with what the rules say (a bonus's POT) is built again after an edit."""
    global _rules_signature
    rules = pot_rules()
    if _rules_signature is None or _rules_signature[0] is not rules:
        rows = [
            [(field.attname, getattr(row, field.attname)) for field in row._meta.concrete_fields]
            for table in (rules.earning_rules, rules.spend_options)
            for _key, row in sorted(table.items())
        ]
        _rules_signature = (rules, hashlib.sha256(repr(rows).encode()).hexdigest()[:16])
    return _rules_signature[1]


def pot_rules_forget() -> None:
    """Drop this process's copy of the rules and options (after an operator changed one)."""
    global _pot_rules
    _pot_rules = None


def earning_rules_active() -> QuerySet[EarningRule]:
    return EarningRule.objects.filter(active=True).order_by("key")


def earning_rule_pot(*, rule_key: str, deal_value_usd: Decimal | None = None) -> int:
    """What an earning rule would grant now (0 when it is inactive or not seeded)."""
    rule = EarningRule.objects.filter(key=rule_key, active=True).first()
    return rule.pot_for(deal_value_usd) if rule else 0


def usd_to_pot_floor(usd: Decimal) -> int:
    """The most whole POT worth no more than `usd` at the redemption rate."""
    rate = settings.POT_USD_RATE
    if usd <= 0 or rate <= 0:
        return 0
    return int((Decimal(usd) / rate).to_integral_value(rounding=ROUND_DOWN))


def spend_options_active() -> QuerySet[SpendOption]:
    """What the wallet sells (a content unlock is bought on its article's page, at the article's price)."""
    return SpendOption.objects.filter(active=True).exclude(effect=SpendEffect.CONTENT_UNLOCK).order_by("cost", "key")


def spend_option_active(*, key: str) -> SpendOption:
    option = spend_options_active().filter(key=key).first()
    if option is None:
        raise NotFound("No such spend option.")
    return option


# --- Effects of purchases (read by matching and engagements) --------------------------


def boosted_user_ids(*, user_ids: Iterable[int], at: datetime | None = None) -> set[int]:
    """Which of these users have a profile boost running at `at` (default: now)."""
    at = at or timezone.now()
    ids = list(user_ids)
    if not ids:
        return set()
    return set(
        Purchase.objects.filter(
            effect=SpendEffect.PROFILE_BOOST, user_id__in=ids, starts_at__lte=at, ends_at__gt=at
        ).values_list("user_id", flat=True)
    )


def pro_user_ids(*, user_ids: Iterable[int], at: datetime | None = None) -> set[int]:
    """Which of these users are Pro at `at` (default: now): a `pro_tier` period is running."""
    at = at or timezone.now()
    ids = list(user_ids)
    if not ids:
        return set()
    return set(
        Purchase.objects.filter(
            effect=SpendEffect.PRO_TIER, user_id__in=ids, starts_at__lte=at, ends_at__gt=at
        ).values_list("user_id", flat=True)
    )


def pro_changes_after(*, user_id: int, at: datetime) -> datetime | None:
    """The first moment after `at` when the person's Pro starts or ends (None: no period ahead; one query).

    What a page showing whether someone is Pro (the dashboard's badges) stays true until.
    """
    moments = [
        moment
        for starts_at, ends_at in Purchase.objects.filter(
            effect=SpendEffect.PRO_TIER, user_id=user_id, ends_at__gt=at
        ).values_list("starts_at", "ends_at")
        for moment in (starts_at, ends_at)
        if moment is not None and moment > at
    ]
    return min(moments, default=None)


def featured_or_pro_user_ids(*, user_ids: Iterable[int], at: datetime | None = None) -> set[int]:
    """Who gets the matching engine's bounded near-tie lift: a profile boost or Pro running (one query).

    The lift is the Featured rule of `marketplace.matching.factors.promote_featured`: it only
    reorders providers within the category's `boost` band, never past a clearly better fit.
    """
    at = at or timezone.now()
    ids = list(user_ids)
    if not ids:
        return set()
    return set(
        Purchase.objects.filter(
            effect__in=(SpendEffect.PROFILE_BOOST, SpendEffect.PRO_TIER),
            user_id__in=ids,
            starts_at__lte=at,
            ends_at__gt=at,
        ).values_list("user_id", flat=True)
    )


def pro_periods(*, user) -> QuerySet[Purchase]:
    """The person's Pro periods, latest first."""
    return Purchase.objects.filter(user=user, effect=SpendEffect.PRO_TIER).order_by("-ends_at")


def pro_ends_at(*, user_id: int, at: datetime | None = None) -> datetime | None:
    """When the person's Pro ends (the last of back-to-back periods), or None when not Pro at `at`."""
    at = at or timezone.now()
    periods = Purchase.objects.filter(user_id=user_id, effect=SpendEffect.PRO_TIER, ends_at__gt=at)
    if not periods.filter(starts_at__lte=at).exists():
        return None
    return periods.aggregate(end=Max("ends_at"))["end"]


def extra_matches_available(*, user) -> int:
    """Extra matches bought and not used yet (`services.extra_matches_take` uses them)."""
    total = Purchase.objects.filter(
        user=user, effect=SpendEffect.EXTRA_MATCHES, matches_taken_at__isnull=True
    ).aggregate(total=Sum("matches_granted"))["total"]
    return total or 0


def commission_credit_available_usd(*, user) -> Decimal:
    """USD of commission the person's credit can still pay."""
    total = Purchase.objects.filter(user=user, effect=SpendEffect.COMMISSION_CREDIT).aggregate(
        total=Sum(F("credit_usd") - F("credit_used_usd"))
    )["total"]
    return Decimal(total or 0).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class PurchasesReady:
    """What a person bought and has not used yet, as the wallet shows it."""

    extra_matches: int  # as `extra_matches_available`
    credit_usd: Decimal  # as `commission_credit_available_usd`


def purchases_ready(*, user) -> PurchasesReady:
    """Extra matches and commission credit not used yet, in one query (the two selectors above, together)."""
    totals = Purchase.objects.filter(user=user).aggregate(
        matches=Sum(
            "matches_granted", filter=Q(effect=SpendEffect.EXTRA_MATCHES, matches_taken_at__isnull=True), default=0
        ),
        credit=Sum(F("credit_usd") - F("credit_used_usd"), filter=Q(effect=SpendEffect.COMMISSION_CREDIT)),
    )
    return PurchasesReady(
        extra_matches=totals["matches"], credit_usd=Decimal(totals["credit"] or 0).quantize(Decimal("0.01"))
    )


def transactions_of_user(*, user) -> QuerySet[PotTransaction]:
    """The person's own ledger rows with what each spend bought, newest first (the wallet's history)."""
    return PotTransaction.objects.filter(user=user).select_related("purchase").order_by("-id")


def purchases_of_user(*, user) -> QuerySet[Purchase]:
    return Purchase.objects.filter(user=user).select_related("option").order_by("-id")


# --- Redemptions ----------------------------------------------------------------------


def redemptions_visible(*, user) -> QuerySet[Redemption]:
    """Redemptions a person may read, newest first: their own; staff read all."""
    rows = Redemption.objects.select_related("user", "decided_by").order_by("-id")
    return rows if user.is_staff else rows.filter(user=user)


def redemptions_of_user(*, user) -> QuerySet[Redemption]:
    """The person's own redemptions, newest first (the wallet shows them; no one's name on it to join)."""
    return Redemption.objects.filter(user=user).order_by("-id")


def redemptions_in_progress(*, user) -> QuerySet[Redemption]:
    """The person's own redemptions that are not finished (requested, or approved and not yet paid), oldest first."""
    return Redemption.objects.filter(
        user=user, status__in=(RedemptionStatus.PENDING, RedemptionStatus.APPROVED)
    ).order_by("id")


def redemption_for_user(*, user, redemption_id: int) -> Redemption:
    redemption = redemptions_visible(user=user).filter(pk=redemption_id).first()
    if redemption is None:
        raise NotFound("No such redemption.")
    return redemption


# --- Economy --------------------------------------------------------------------------


RATE_PLACES = Decimal("0.0001")


def ratio(part: int, whole: int) -> Decimal:
    """`part / whole` as a Decimal between 0 and 1 (4 places); 0 when there is no whole."""
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES) if whole else Decimal("0.0000")


def percent_display(rate: Decimal) -> str:
    """A rate as the plan writes it: 0.3 -> "30.0%"."""
    return f"{(rate * 100).quantize(Decimal('0.1'))}%"


# Earn rows paid out of someone else's spending: that POT was spent but stays in circulation.
PASSED_ON_REASONS = ("content_author_share",)


# What each statistic means (shown by the API schema, the admin page and `pot_economy`).
ECONOMY_DEFINITIONS = {
    "total_users": "Marketplace users: every account but operators' staff accounts.",
    "users_with_pot": "Marketplace users whose POT balance is above 0.",
    "participation_rate": "users_with_pot / total_users, between 0 and 1 (0 without users).",
    "total_pot_in_circulation": "POT in every balance now (POT held by pending redemptions is out of it).",
    "total_pot_earned_all_time": "POT of every earn row (awards by the earning rules).",
    "total_pot_spent_all_time": "POT paid for spend options (profile boost, extra matches, commission credit, ...).",
    "total_pot_burned_all_time": "Spent POT that left circulation for good: spent POT less the part passed on "
    "to other people (an author's share of a premium article). Awards taken back are not spending and not counted.",
    "burn_rate": "total_pot_burned_all_time / total_pot_spent_all_time, between 0 and 1 (0 when nothing was "
    "spent): 1.0 when every spent POT was burned, as in the plan's example.",
    "transactions_last_7_days": "POT transactions (ledger rows of every kind) in the last 7 days.",
}


# The statistics in operators' words (the admin page and `pot_economy`), in the plan's order.
ECONOMY_LABELS = {
    "total_users": "Marketplace users",
    "users_with_pot": "Users holding POT",
    "participation_rate": "Participation rate",
    "total_pot_in_circulation": "POT in circulation",
    "total_pot_earned_all_time": "POT earned (all time)",
    "total_pot_spent_all_time": "POT spent (all time)",
    "total_pot_burned_all_time": "POT burned (all time)",
    "burn_rate": "Burn rate",
    "transactions_last_7_days": "POT transactions, last 7 days",
}


@dataclass(frozen=True)
class EconomyLine:
    """One statistic as operators read it: its name, its value as shown, what it means."""

    key: str
    label: str
    display: str
    definition: str


def economy_lines(statistics: dict) -> list[EconomyLine]:
    """The statistics with labels, rates as percentages and counts with thousands separators."""
    lines = []
    for key, label in ECONOMY_LABELS.items():
        value = statistics[key]
        display = statistics.get(f"{key}_display", f"{value:,}")
        if key.startswith("total_pot"):
            display = f"{value:,} POT"
        lines.append(EconomyLine(key=key, label=label, display=display, definition=ECONOMY_DEFINITIONS[key]))
    return lines


def pot_liability_usd(*, in_circulation: int, held_usd: Decimal) -> Decimal:
    """What the platform would owe if all POT were redeemed: circulation at the rate, plus held redemptions."""
    return pot_to_usd(in_circulation) + held_usd


def economy_statistics(*, now: datetime | None = None) -> dict:
    """The statistics operators' dashboards read (names and meanings fixed by the plan). Four queries.

    See ECONOMY_DEFINITIONS; the two rates come with the plan's display form
    (`participation_rate_display`: "30.0%").
    """
    now = now or timezone.now()
    marketplace = Q(user__is_staff=False)
    wallets = Wallet.objects.aggregate(
        in_circulation=Sum("balance"), with_pot=Count("id", filter=Q(balance__gt=0) & marketplace)
    )
    totals = list(
        PotTransaction.objects.values("transaction_type")
        .annotate(total=Sum("amount"), passed_on=Sum("amount", filter=Q(category__in=PASSED_ON_REASONS)))
        .order_by()
    )
    by_type = {row["transaction_type"]: row["total"] for row in totals}
    passed_on = sum(row["passed_on"] or 0 for row in totals if row["transaction_type"] == TransactionType.EARN)
    last_7_days = PotTransaction.objects.filter(created_at__gte=now - timedelta(days=7)).count()
    total_users = User.objects.filter(is_staff=False).count()
    with_pot = wallets["with_pot"] or 0
    earned = by_type.get(TransactionType.EARN) or 0
    spent = -(by_type.get(TransactionType.SPEND) or 0)
    burned = spent - passed_on
    participation_rate = ratio(with_pot, total_users)
    burn_rate = ratio(burned, spent)
    return {
        "total_users": total_users,
        "users_with_pot": with_pot,
        "participation_rate": participation_rate,
        "participation_rate_display": percent_display(participation_rate),
        "total_pot_in_circulation": wallets["in_circulation"] or 0,
        "total_pot_earned_all_time": earned,
        "total_pot_spent_all_time": spent,
        "total_pot_burned_all_time": burned,
        "burn_rate": burn_rate,
        "burn_rate_display": percent_display(burn_rate),
        "transactions_last_7_days": last_7_days,
    }


def economy_daily(*, days: int = 30, now: datetime | None = None) -> list[dict]:
    """POT earned, burned (counted as `economy_statistics` counts it), redeemed, and in circulation
    at the day's end (the ledger's running total), per day over the last `days` days, oldest first
    (for charts). Two queries: the days' totals, and the circulation before them. The days are the
    server's (`calendar_day`), whatever zone the operator reads the admin in."""
    zone = timezone.get_default_timezone()
    start = calendar_day(now) - timedelta(days=days - 1)
    start_at = datetime.combine(start, datetime.min.time(), tzinfo=zone)
    rows = (
        PotTransaction.objects.filter(created_at__gte=start_at)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "transaction_type")
        .annotate(total=Sum("amount"), passed_on=Sum("amount", filter=Q(category__in=PASSED_ON_REASONS)))
        .order_by()
    )
    by_day = {start + timedelta(days=offset): dict.fromkeys(TransactionType.values, 0) for offset in range(days)}
    passed_on = dict.fromkeys(by_day, 0)
    for row in rows:
        if row["day"] in by_day:
            by_day[row["day"]][row["transaction_type"]] = row["total"]
            if row["transaction_type"] == TransactionType.EARN:
                passed_on[row["day"]] = row["passed_on"] or 0
    # Every row moves circulation by its amount (a held redemption leaves it, a refund returns).
    circulation = PotTransaction.objects.filter(created_at__lt=start_at).aggregate(total=Sum("amount"))["total"] or 0
    result = []
    for day, totals in sorted(by_day.items()):
        circulation += sum(totals.values())
        result.append(
            {
                "day": day.isoformat(),
                "earned": totals[TransactionType.EARN],
                "burned": -totals[TransactionType.SPEND] - passed_on[day],
                "redeemed": -totals[TransactionType.REDEEM],
                "circulation": circulation,
            }
        )
    return result


def economy_weekly(*, weeks: int = 12, now: datetime | None = None) -> dict:
    """The economy per week (windows of 7 days ending now, oldest first, for charts and their tables).

    `weeks`: earned, burned (counted as `economy_statistics` counts it), redeemed, and the
    participation rate at the week's end (marketplace users holding POT / marketplace users then);
    `earning` and `spending`: POT per reason and week. Three grouped queries, whatever the data.
    """
    windows = report_weeks(weeks=weeks, now=now or timezone.now())
    flows = (
        PotTransaction.objects.filter(in_weeks("created_at", windows))
        .annotate(week=week_index("created_at", windows))
        .values("week", "transaction_type", "category")
        .annotate(pot=Sum("amount"))
        .order_by()
    )
    # Each marketplace user's POT per week, older rows together in one bucket (index `weeks`): a
    # person holds POT at a week's end when their rows up to then add up to more than 0.
    holdings = (
        PotTransaction.objects.filter(user__is_staff=False, created_at__lt=windows[0].end)
        .annotate(week=week_index("created_at", windows, before=weeks))
        .values("user_id", "week")
        .annotate(pot=Sum("amount"))
        .order_by()
    )
    joined = (
        User.objects.filter(is_staff=False, date_joined__lt=windows[0].end)
        .annotate(week=week_index("date_joined", windows, before=weeks))
        .values("week")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = {week.index: {"earned": 0, "burned": 0, "redeemed": 0} for week in windows}
    earning: dict[str, list[int]] = {}
    spending: dict[str, list[int]] = {}
    for flow in flows:
        week, kind, pot = flow["week"], flow["transaction_type"], flow["pot"] or 0
        if kind == TransactionType.EARN:
            rows[week]["earned"] += pot
            earning.setdefault(flow["category"], [0] * weeks)[week] += pot
            if flow["category"] in PASSED_ON_REASONS:
                rows[week]["burned"] -= pot
        elif kind == TransactionType.SPEND:
            rows[week]["burned"] -= pot
            spending.setdefault(flow["category"], [0] * weeks)[week] -= pot
        elif kind == TransactionType.REDEEM:
            rows[week]["redeemed"] -= pot
    per_user: dict[int, dict[int, int]] = {}
    for holding in holdings:
        per_user.setdefault(holding["user_id"], {})[holding["week"]] = holding["pot"] or 0
    holders = dict.fromkeys(range(weeks), 0)
    for by_week in per_user.values():
        balance = by_week.get(weeks, 0)
        for index in range(weeks - 1, -1, -1):
            balance += by_week.get(index, 0)
            holders[index] += balance > 0
    users_by_week = {row["week"]: row["n"] for row in joined}
    users = users_by_week.get(weeks, 0)
    result = []
    for window in reversed(windows):
        users += users_by_week.get(window.index, 0)
        participation = ratio(holders[window.index], users)
        result.append(
            {
                "week": window.label,
                **rows[window.index],
                "users": users,
                "users_with_pot": holders[window.index],
                "participation_rate": participation,
                "participation_rate_display": percent_display(participation),
            }
        )

    def oldest_first(by_reason: dict[str, list[int]]) -> list[dict]:
        return [
            {"label": reason_label(reason), "pot": list(reversed(values))}
            for reason, values in sorted(by_reason.items(), key=lambda item: -sum(item[1]))
        ]

    return {"weeks": result, "earning": oldest_first(earning), "spending": oldest_first(spending)}


def pot_by_reason(*, transaction_types: Iterable[str], since: datetime | None = None) -> list[dict]:
    """POT and row counts per reason for these types, largest first (earning sources, spending)."""
    rows = PotTransaction.objects.filter(transaction_type__in=list(transaction_types))
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    totals = rows.values("category").annotate(count=Count("id"), total=Sum("amount")).order_by()
    result = [{"reason": r["category"], "count": r["count"], "pot": abs(r["total"] or 0)} for r in totals]
    return sorted(result, key=lambda r: (-r["pot"], r["reason"]))


def redemptions_pending_summary() -> dict:
    row = Redemption.objects.filter(status=RedemptionStatus.PENDING).aggregate(
        count=Count("id"), pot=Sum("pot_amount"), usd=Sum("usd_amount")
    )
    return {"count": row["count"], "pot": row["pot"] or 0, "usd": row["usd"] or Decimal("0.00")}


def wallet_owner_for(*, viewer, user_id: int | str | None):
    """Whose wallet `viewer` asks to read: their own by default; staff may name anyone (`?user=ID`)."""
    if user_id in (None, ""):
        return viewer
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        raise DomainError("user is a user id.", field="user") from None
    if user_id == viewer.pk:
        return viewer
    if not viewer.is_staff:
        raise PermissionDenied("You can only see your own wallet.")
    owner = User.objects.filter(pk=user_id).first()
    if owner is None:
        raise NotFound("No such user.")
    return owner


def levels_for(*, user_ids: Iterable[int]) -> dict[int, Level]:
    """Each user's level in one query (for lists of profiles or matches); Newcomer for no wallet."""
    ids = list(user_ids)
    earned = dict(Wallet.objects.filter(user_id__in=ids).values_list("user_id", "lifetime_earned")) if ids else {}
    return {user_id: level_for(earned.get(user_id, 0)) for user_id in ids}
