"""Writes with business meaning on POT: award, reverse, spend, redeem, decide, adjust, use effects.

Every function that moves POT goes through `currency.ledger.ledger_post` inside a
`@ledger_atomic` block: it joins the caller's transaction (a profile and its award commit
together or not at all) or, when outermost, retries on serialization failures.

Idempotency keys, one per cause:
- `award:<cause>` (e.g. `award:rating_given:rating:9`), `award-reversal:<cause>` and, for the part
  a reversal could not take back, `award-reversal-debt:<cause>`;
- `spend:<user id>:<Idempotency-Key>` / `redeem:<user id>:<key>` / `adjust:<operator id>:<key>`
  for requests that carry a key (others get a random one);
- `redemption-refund:<redemption id>` for a rejected redemption's refund;
- `debt-settlement:<credit row id>` for the settlement the ledger writes after a credit.

Promotional POT (awards of rules marked `promotional`: sign-up-time awards that no revenue
paid for) is spendable at once and becomes redeemable only when a paid commission pays for it:
`pot_promotional_release`, called by marketplace when a commission is marked paid, turns as
much of it into earned POT as that engagement's POT budget has left. Redemptions also need a
verified email. A reversal that finds too small a balance records the rest as a debt;
redemptions wait while a debt is open.
"""

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from currency import experiments
from currency.errors import (
    AlreadyDecided,
    DebtOpen,
    ErrorCode,
    ExperimentEnded,
    ExperimentInvalid,
    ExperimentStarted,
    IdempotencyConflict,
    InsufficientPot,  # raised through here by ledger_post; callers catch it as services.InsufficientPot
    NotRedeemable,
    PriceChanged,
    RedemptionNotApproved,
    SpendOptionUnavailable,
    WrongAudience,
)
from currency.ledger import (
    AWARD_REVERSAL,
    PROMOTIONAL_RELEASE,
    Draw,
    IdempotencyKeyTaken,
    Posting,
    award_key,
    ledger_atomic,
    ledger_post,
    ledger_post_many,
    ledger_post_recorded,
    new_key,
    wallet_paid_engagement_record,
    wallets_lock,
)
from currency.models import (
    Audience,
    CommissionCreditUse,
    EarningRule,
    Experiment,
    ExperimentAssignment,
    ExperimentAward,
    PotTransaction,
    Purchase,
    Redemption,
    RedemptionStatus,
    SpendEffect,
    SpendOption,
    TransactionType,
)
from currency.selectors import PotRules, WalletSummary, email_verified, pot_rules, promotional_explanation
from imatch.db import instance_insert
from imatch.errors import DomainError, NotFound, PermissionDenied
from imatch.errors import ErrorCode as CommonCode
from imatch.links import page_path
from imatch.person_cache import Scope, person_forget
from notifications.models import Notification, NotificationKind
from notifications.services import Notice, notification_new, notify

log = logging.getLogger(__name__)
__all__ = [  # noqa: RUF022 - grouped by use case, not sorted
    "DebtOpen",
    "InsufficientPot",
    "NotRedeemable",
    "IdempotencyConflict",
    "PriceChanged",
    "SpendOptionUnavailable",
    "WrongAudience",
    "commission_credit_apply",
    "pro_saving_take",
    "extra_matches_take",
    "pot_adjust",
    "pot_award",
    "pot_award_many",
    "pot_award_reverse",
    "pot_paid_engagement_record",
    "pot_promotional_release",
    "pot_spend",
    "pot_spend_shared",
    "redemption_approve",
    "redemption_mark_paid",
    "redemption_reject",
    "redemption_request",
    "ArmPlan",
    "ExperimentEnded",
    "ExperimentInvalid",
    "ExperimentStarted",
    "experiment_assign",
    "experiment_arms_check",
    "experiment_rules_check",
    "experiment_end",
]

# The rules the code awards; their amounts live in the database (fixtures/earning_rules.json).
EARNING_RULE_KEYS = frozenset(
    {
        "profile_creation_seeker",
        "profile_creation_provider",
        "engagement_bonus_provider",
        "engagement_bonus_seeker",
        "rating_given",
        "rating_five_star_received",
        "referral_profile_created",
        "referral_first_engagement",
        "answer_accepted",
        "content_published",
        "streak_bonus_4_weeks",
        "streak_bonus_12_weeks",
    }
)


def fingerprint(action: str, **payload: Any) -> str:
    """A stable hash of what a request asked for: a retried request must ask for the same."""
    text = json.dumps({"action": action, **payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _request_key(scope: str, owner_id: int, idempotency_key: str | None) -> tuple[str, bool]:
    """The ledger key for a request: scoped to its owner, random when the client gave none."""
    if idempotency_key:
        key = str(idempotency_key).strip()
        if not key or len(key) > 120:
            raise DomainError("An Idempotency-Key has 1 to 120 characters.", code=ErrorCode.INVALID_IDEMPOTENCY_KEY)
        return f"{scope}:{owner_id}:{key}", True
    return new_key(scope), False


def _replayed_row(key: str, request_fingerprint: str) -> PotTransaction:
    """The row that first claimed `key`; a different request under the same key is a conflict."""
    row = PotTransaction.objects.get(idempotency_key=key)
    if row.request_fingerprint != request_fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used for a different request.", code=ErrorCode.IDEMPOTENCY_KEY_REUSED
        )
    return row


def _whole_pot(value: Any, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError("Enter a whole number of POT.", field=field, code=ErrorCode.NOT_WHOLE)
    return value


# --- Earning --------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardRequest:
    """One award of `pot_award_many`: the same arguments as `pot_award`'s."""

    user_id: int
    rule_key: str
    cause: str
    deal_value_usd: Decimal | None = None
    reference_type: str = ""
    reference_id: int | None = None
    max_amount: int | None = None


def _award_posting(
    award: AwardRequest, rules: PotRules, *, amount_of: Callable[[EarningRule], experiments.AwardAmount] | None = None
) -> tuple[Posting | None, experiments.AwardAmount | None]:
    """The posting an award makes, or None when its rule is inactive (or not seeded) or grants 0 POT.

    `amount_of` says what the rule pays this person (an earning-rate experiment's arm, see
    `currency.experiments`); without it, the rule's normal amount. The cap applies after it,
    so no arm pays beyond an engagement's budget.
    """
    if award.rule_key not in EARNING_RULE_KEYS:
        raise ValueError(f"Unknown earning rule {award.rule_key!r}.")
    if not award.cause:
        raise ValueError("An award needs a cause: it is what makes it happen at most once.")
    rule = rules.earning_rules.get(award.rule_key)
    if rule is None:
        log.warning("Earning rule %s is not in the database (run `manage.py seed_pot`): no award.", award.rule_key)
        return None, None
    if not rule.active:
        return None, None
    normal = rule.pot_for(award.deal_value_usd)
    pays = amount_of(rule) if amount_of else experiments.AwardAmount(amount=normal, normal=normal)
    granted = pays.amount
    max_amount = award.max_amount
    amount = granted if max_amount is None else min(granted, _whole_pot(max_amount, field="max_amount"))
    if amount <= 0:
        return None, pays
    posting = Posting(
        user_id=award.user_id,
        amount=amount,
        transaction_type=TransactionType.EARN,
        category=rule.reason,
        idempotency_key=award_key(award.cause),
        reference_type=award.reference_type,
        reference_id=award.reference_id,
        note=rule.name if amount == granted else f"{rule.name} (capped at {amount} of {granted} POT)",
        promotional=amount if rule.promotional else 0,
    )
    return posting, pays


def pot_award(
    *,
    user,
    rule_key: str,
    cause: str,
    deal_value_usd: Decimal | None = None,
    reference_type: str = "",
    reference_id: int | None = None,
    max_amount: int | None = None,
) -> PotTransaction | None:
    """Award what earning rule `rule_key` grants, at most once per `cause`.

    `max_amount` caps the award (e.g. an engagement's bonuses may not be worth more than its
    paid commission); the row's note says when it was capped.

    Returns the new row; None when the rule is inactive (or not seeded), grants 0 POT (also
    once capped), or this cause was already awarded. Joins the caller's transaction.

    On PostgreSQL the award and its notification are one statement (`ledger_post_recorded`)
    unless the person owes POT (the award settles it) or an earning-rate experiment pays them
    (its record joins the row): those go the general way, `_pot_award_posted`.
    """
    rules = pot_rules()
    posting, pays = _award_posting(
        AwardRequest(
            user_id=user.pk,
            rule_key=rule_key,
            cause=cause,
            deal_value_usd=deal_value_usd,
            reference_type=reference_type,
            reference_id=reference_id,
            max_amount=max_amount,
        ),
        rules,
        amount_of=lambda rule: experiments.award_amount(
            rule=rule, user=user, deal_value_usd=deal_value_usd, experiment_rule_ids=rules.experiment_rule_ids()
        ),
    )
    if posting is None:
        return None
    if pays.arm is None:
        now = timezone.now()
        try:
            notification = _award_notification(user, posting, now=now)
            # The bell forgotten as `notify` forgets it (with the wallet's answers: one round trip).
            row = ledger_post_recorded(posting, notification, now=now, also_forget=(Scope.NOTIFICATIONS,))
        except IdempotencyKeyTaken:
            return None
        if row is not None:
            return row
    return _pot_award_posted(user=user, posting=posting, pays=pays)


def _award_notification(user, posting: Posting, *, now=None) -> Notification:
    """The notification of an award (not saved): what `notify` would write."""
    text = f"You earned {posting.amount:,} POT: {posting.note}."
    notification = notification_new(Notice(user, NotificationKind.POT_EARNED, text, page_path("wallet")))
    if now is not None:
        notification.created_at = now
    return notification


@ledger_atomic
def _pot_award_posted(*, user, posting: Posting, pays: experiments.AwardAmount) -> PotTransaction | None:
    """`pot_award` in a transaction: the row (and any debt's settlement), the notification, the experiment's record."""
    try:
        row = ledger_post_many([posting])[0]
    except IdempotencyKeyTaken:
        return None
    notification = _award_notification(user, posting)
    notify(user=user, kind=notification.kind, text=notification.text, link=notification.link)
    if pays.arm is not None:
        ExperimentAward.objects.create(transaction=row, arm=pays.arm, normal_amount=pays.normal)
    return row


@ledger_atomic
def pot_award_many(*, awards: Sequence[AwardRequest]) -> list[PotTransaction | None]:
    """Make many awards in one posting (e.g. an import's profile-creation POT), each at most once per cause.

    One statement locks every wallet concerned; each award is then one INSERT and each
    wallet one UPDATE. Returns a row or None per award, in order (None: as `pot_award`).
    Imports pay the rules' normal amounts: earning-rate experiments are for new sign-ups.
    """
    rules = pot_rules()
    postings = [_award_posting(award, rules)[0] for award in awards]
    rows = iter(ledger_post_many([posting for posting in postings if posting], skip_taken=True))
    return [next(rows) if posting else None for posting in postings]


@ledger_atomic
def pot_award_reverse(*, cause: str, reason: str) -> PotTransaction | None:
    """Take back an earlier award (e.g. the engagement was cancelled), at most once per cause.

    The balance never goes below zero: if the person already spent part of the award, what
    is left is taken back with a `burn` row and the rest is recorded as a debt on the wallet
    (a `debt` row), which the person's next earnings and refunds settle first. A reversal
    takes the kind of POT the award was first (promotional or earned). Returns the `burn` row,
    or the `debt` row when nothing was left to take; None if nothing was awarded for the
    cause, or it was already reversed.
    """
    award = PotTransaction.objects.filter(idempotency_key=award_key(cause)).first()
    if award is None:
        return None
    wallet = wallets_lock([award.user_id])[award.user_id]  # serializes reversals of this person's awards
    burn_key, debt_key = f"award-reversal:{cause}", f"award-reversal-debt:{cause}"
    if PotTransaction.objects.filter(idempotency_key__in=[burn_key, debt_key]).exists():
        return None
    take = min(award.amount, wallet.balance)
    owed = award.amount - take
    reason = reason or "Award reversed"
    common = {
        "user_id": award.user_id,
        "category": AWARD_REVERSAL,
        "reference_type": award.reference_type,
        "reference_id": award.reference_id,
    }
    row = None
    if take > 0:
        row = ledger_post(
            **common,
            amount=-take,
            transaction_type=TransactionType.BURN,
            idempotency_key=burn_key,
            note=reason + (f" (reversed {take} of {award.amount} POT)" if owed else ""),
            draw=Draw.PROMOTIONAL_FIRST if award.promotional_amount > 0 else Draw.EARNED_FIRST,
        )
    if owed > 0:
        debt_row = ledger_post(
            **common,
            amount=0,
            debt=owed,
            transaction_type=TransactionType.DEBT,
            idempotency_key=debt_key,
            note=f"{reason}: {owed} of {award.amount} POT were already spent and are owed",
        )
        row = row or debt_row
    return row


@ledger_atomic
def pot_paid_engagement_record(*, user, engagement_id: int) -> bool:
    """Record that the commission of one of the person's engagements was paid (the first one counts).

    Called by marketplace when an operator marks a commission paid (for both sides); the
    wallet shows it. Returns whether this one was the first.
    """
    recorded = wallet_paid_engagement_record(user_id=user.pk, at=timezone.now())
    if recorded:
        log.info("User %s: first paid engagement (#%s)", user.pk, engagement_id)
    return recorded


@ledger_atomic
def pot_promotional_release(
    *, user, cause: str, max_amount: int, reference_type: str = "", reference_id: int | None = None
) -> int:
    """Make up to `max_amount` of the person's promotional POT redeemable, at most once per `cause`.

    `max_amount` is what a paid commission still has to pay for it (marketplace's engagement
    POT budget): a release is a payout of that commission, like a bonus. It writes one
    `release` row (reason `promotional_release`, referring to the cause, e.g. the engagement):
    amount 0, promotional part -released. The balance does not move and nothing is earned for
    levels; only the promotional part shrinks. Returns the POT released (0 when there is no
    promotional POT, no budget, or this cause already released).
    """
    max_amount = _whole_pot(max_amount, field="max_amount")
    wallet = wallets_lock([user.pk])[user.pk]
    amount = min(wallet.promotional_balance, max_amount)
    if amount <= 0:
        return 0
    try:
        ledger_post(
            user_id=user.pk,
            amount=0,
            promotional=-amount,
            transaction_type=TransactionType.RELEASE,
            category=PROMOTIONAL_RELEASE,
            idempotency_key=f"promotional-release:{cause}",
            reference_type=reference_type,
            reference_id=reference_id,
            note=f"{amount} promotional POT are now redeemable: a paid commission pays for them",
        )
    except IdempotencyKeyTaken:
        return 0
    return amount


# --- Spending -------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendResult:
    transaction: PotTransaction
    purchase: Purchase
    replayed: bool = False


def fits_audience(user, audience: str) -> bool:
    """Whether the person holds the role (users.account_type, kept true by the profile services)."""
    if audience == Audience.ANY:
        return True
    return user.account_type in (audience, "both")


def _spend_option_for(*, user, option_key: str) -> SpendOption:
    option = pot_rules().spend_options.get(option_key)
    if option is None or not option.active:
        raise SpendOptionUnavailable(f"There is no spend option {option_key!r}.", field="option")
    if option.effect == SpendEffect.CONTENT_UNLOCK:
        raise SpendOptionUnavailable(f"{option.name} is bought on the article's page.", field="option")
    if not fits_audience(user, option.audience):
        raise WrongAudience(f"{option.name} is for {option.get_audience_display().lower()} only.", field="option")
    return option


def _spend_option_checked(*, user, option_key: str, confirmed_cost: int | None, allow_pro: bool) -> SpendOption:
    """The option `pot_spend` may sell this person at the price they confirmed; raises the refusal otherwise."""
    option = _spend_option_for(user=user, option_key=option_key)
    if option.effect == SpendEffect.PRO_TIER and not allow_pro:
        raise SpendOptionUnavailable("Pro is bought on the Pro page (Dashboard -> Pro).", field="option")
    if confirmed_cost is not None and confirmed_cost != option.cost:
        raise PriceChanged(
            f"{option.name} now costs {option.cost} POT (you confirmed {confirmed_cost} POT). Nothing was charged.",
            field="option",
        )
    return option


def _spend_posting(*, user, option: SpendOption, key: str, request_fingerprint: str) -> Posting:
    return Posting(
        user_id=user.pk,
        amount=-option.cost,
        transaction_type=TransactionType.SPEND,
        category=option.key,
        idempotency_key=key,
        reference_type="spend_option",
        reference_id=option.pk,
        actor_id=user.pk,
        note=option.name,
        request_fingerprint=request_fingerprint,
    )


# What these buy does not depend on the person's earlier purchases. A boost or a Pro period starts
# where their last one ends, read under the wallet's lock (`_purchase`): those go the general way.
_PURCHASES_ON_THEIR_OWN = (SpendEffect.EXTRA_MATCHES, SpendEffect.COMMISSION_CREDIT)


def _purchase(*, user, option: SpendOption, now) -> Purchase:
    """What a spend of `option` at `now` buys, not saved yet (its transaction not set)."""
    purchase = Purchase(user=user, option=option, effect=option.effect, cost=option.cost, created_at=now)
    if option.effect in (SpendEffect.PROFILE_BOOST, SpendEffect.PRO_TIER):
        # Boosts (and Pro periods) bought back to back extend each other rather than overlap.
        latest_end = Purchase.objects.filter(user=user, effect=option.effect, ends_at__gt=now).aggregate(
            end=Max("ends_at")
        )["end"]
        purchase.starts_at = max(now, latest_end) if latest_end else now
        purchase.ends_at = purchase.starts_at + timedelta(days=option.duration_days)
        if option.effect == SpendEffect.PRO_TIER:
            purchase.credit_usd = option.credit_usd()  # the most commission this period's Pro rate may save
    elif option.effect == SpendEffect.EXTRA_MATCHES:
        purchase.matches_granted = option.quantity
    elif option.effect == SpendEffect.COMMISSION_CREDIT:
        purchase.credit_usd = option.credit_usd()
    return purchase


def pot_spend(
    *,
    user,
    option_key: str,
    idempotency_key: str | None = None,
    confirmed_cost: int | None = None,
    allow_pro: bool = False,
) -> SpendResult:
    """Buy a spend option: its cost is burned and its effect recorded.

    `confirmed_cost` is the price the person saw and confirmed: if an operator changed it
    since, nothing is charged (`PriceChanged`).

    With an `idempotency_key`, a retry of the same request returns the first result and
    charges nothing; the same key for a different option raises `IdempotencyConflict`.

    Pro (`pro_tier`) is bought only through `marketplace.services.pro.pro_buy` (`allow_pro`),
    which checks the person's provider profiles first.

    On PostgreSQL a spend that nothing refuses, of an option whose purchase stands on its own, is
    first tried as one statement (`ledger_post_recorded`: the wallet, the row and the purchase; a
    retry is answered from the first row); what it does not post (a short balance, a boost) goes
    the general way, `_pot_spend`, which refuses or replays.
    """
    request_fingerprint = fingerprint("spend", option=option_key)
    key, _keyed = _request_key("spend", user.pk, idempotency_key)
    try:
        option = _spend_option_checked(
            user=user, option_key=option_key, confirmed_cost=confirmed_cost, allow_pro=allow_pro
        )
    except DomainError:
        option = None  # refused, or a retry of a spend made before the option changed: `_pot_spend` says which
    if option is not None and option.effect in _PURCHASES_ON_THEIR_OWN:
        now = timezone.now()
        purchase = _purchase(user=user, option=option, now=now)
        posting = _spend_posting(user=user, option=option, key=key, request_fingerprint=request_fingerprint)
        try:
            row = ledger_post_recorded(posting, purchase, link="transaction", now=now)
        except IdempotencyKeyTaken:
            row = _replayed_row(key, request_fingerprint)
            return SpendResult(transaction=row, purchase=row.purchase, replayed=True)
        if row is not None:
            return SpendResult(transaction=row, purchase=purchase)
    return _pot_spend(
        user=user,
        option_key=option_key,
        idempotency_key=idempotency_key,
        confirmed_cost=confirmed_cost,
        allow_pro=allow_pro,
    )


@ledger_atomic
def _pot_spend(
    *, user, option_key: str, idempotency_key: str | None, confirmed_cost: int | None, allow_pro: bool
) -> SpendResult:
    """`pot_spend` in a transaction: the wallet locked, the row posted and the purchase inserted, or the
    refusal, or the first result of a retry."""
    request_fingerprint = fingerprint("spend", option=option_key)
    key, keyed = _request_key("spend", user.pk, idempotency_key)
    try:
        option = _spend_option_checked(
            user=user, option_key=option_key, confirmed_cost=confirmed_cost, allow_pro=allow_pro
        )
        posting = _spend_posting(user=user, option=option, key=key, request_fingerprint=request_fingerprint)
        row = ledger_post_many([posting])[0]
    except IdempotencyKeyTaken:
        row = _replayed_row(key, request_fingerprint)
        return SpendResult(transaction=row, purchase=row.purchase, replayed=True)
    except DomainError:
        # The option may be gone or the POT spent since the first, successful try.
        if keyed and PotTransaction.objects.filter(idempotency_key=key).exists():
            row = _replayed_row(key, request_fingerprint)
            return SpendResult(transaction=row, purchase=row.purchase, replayed=True)
        raise
    purchase = _purchase(user=user, option=option, now=row.created_at)
    purchase.transaction = row
    # `save(force_insert=True)` without the ORM's compile: ~0.1 ms a spend
    return SpendResult(transaction=row, purchase=instance_insert(purchase))


@dataclass(frozen=True)
class SharedSpendResult:
    spend: PotTransaction
    share: PotTransaction | None
    replayed: bool = False


@ledger_atomic
def pot_spend_shared(
    *,
    user,
    payee,
    option_key: str,
    price: int,
    share_percent: int,
    share_reason: str,
    cause: str,
    reference_type: str,
    reference_id: int,
    note: str,
) -> SharedSpendResult:
    """Buy an item priced on its own (a premium article): a share goes to `payee`, the rest is burned.

    At most once per `cause` (a retry returns the first rows). The payee's share is
    promotional POT at least in the proportion of promotional POT in what the buyer spent
    (promotional POT is spent first): one person with two accounts cannot turn promotional POT
    into redeemable POT by buying from themselves.
    """
    price = _whole_pot(price, field="price")
    if price <= 0 or not 0 <= share_percent <= 100:
        raise ValueError("A shared spend has a positive price and a share between 0 and 100 percent.")
    if payee.pk == user.pk:
        raise ValueError("A shared spend pays someone else.")
    option = pot_rules().spend_options.get(option_key)
    if option is None or not option.active:
        raise SpendOptionUnavailable(f"There is no spend option {option_key!r}.", field="option")
    spend_key, share_key = f"spend-shared:{cause}", f"spend-share:{cause}"
    wallets_lock([user.pk, payee.pk])
    try:
        spend = ledger_post(
            user_id=user.pk,
            amount=-price,
            transaction_type=TransactionType.SPEND,
            category=option.key,
            idempotency_key=spend_key,
            reference_type=reference_type,
            reference_id=reference_id,
            actor_id=user.pk,
            note=note,
        )
    except IdempotencyKeyTaken:
        spend = PotTransaction.objects.get(idempotency_key=spend_key)
        return SharedSpendResult(
            spend=spend, share=PotTransaction.objects.filter(idempotency_key=share_key).first(), replayed=True
        )
    Purchase.objects.create(
        user=user, option=option, transaction=spend, effect=option.effect, cost=price, created_at=spend.created_at
    )
    share_amount = price * share_percent // 100
    share = None
    if share_amount > 0:
        promotional_spent = -spend.promotional_amount
        share = ledger_post(
            user_id=payee.pk,
            amount=share_amount,
            transaction_type=TransactionType.EARN,
            category=share_reason,
            idempotency_key=share_key,
            reference_type=reference_type,
            reference_id=reference_id,
            note=f"{share_percent}% of {price} POT: {note}",
            # Rounded up: never less promotional than what paid for it.
            promotional=min(share_amount, -(-share_amount * promotional_spent // price)),
        )
        notify(
            user=payee,
            kind=NotificationKind.POT_EARNED,
            text=f"You earned {share_amount:,} POT: {note}.",
            link=page_path("wallet"),
        )
    return SharedSpendResult(spend=spend, share=share)


@transaction.atomic
def extra_matches_take(*, user) -> int:
    """Use the person's unused extra-matches purchases: how many more matches to give (0 if none)."""
    purchases = list(
        Purchase.objects.select_for_update()
        .filter(user=user, effect=SpendEffect.EXTRA_MATCHES, matches_taken_at__isnull=True)
        .order_by("id")
    )
    if not purchases:
        return 0
    Purchase.objects.filter(pk__in=[p.pk for p in purchases]).update(matches_taken_at=timezone.now())
    person_forget([user.pk], Scope.LEDGER)  # the wallet shows its purchases as used
    return sum(p.matches_granted for p in purchases)


@transaction.atomic
def commission_credit_apply(*, user, amount_usd: Decimal, reference_type: str, reference_id: int) -> Decimal:
    """Pay up to `amount_usd` of commission from the person's credit (oldest first); returns what was paid."""
    amount_usd = Decimal(amount_usd).quantize(Decimal("0.01"))
    if amount_usd <= 0:
        raise DomainError("The commission to pay must be more than zero.", field="amount_usd")
    purchases = (
        Purchase.objects.select_for_update()
        .filter(user=user, effect=SpendEffect.COMMISSION_CREDIT, credit_used_usd__lt=F("credit_usd"))
        .order_by("id")
    )
    applied = Decimal("0.00")
    for purchase in purchases:
        take = min(purchase.credit_remaining_usd, amount_usd - applied)
        if take <= 0:
            break
        Purchase.objects.filter(pk=purchase.pk).update(credit_used_usd=F("credit_used_usd") + take)
        CommissionCreditUse.objects.create(
            purchase=purchase, user=user, amount_usd=take, reference_type=reference_type, reference_id=reference_id
        )
        applied += take
    if applied:
        person_forget([user.pk], Scope.LEDGER)  # the wallet shows what is left of its credits
    return applied


@transaction.atomic
def pro_saving_take(*, user_id: int, at, saving_usd: Decimal) -> Decimal:
    """Use up to `saving_usd` of the commission saving of the Pro period running at `at`; returns what was used.

    A Pro period saves at most its price at the redemption rate (`Purchase.credit_usd`), so
    POT spent on Pro never cuts more commission than the same POT would pay as a commission
    credit. 0 when the person is not Pro at `at` or the period's saving is used up.
    """
    saving_usd = Decimal(saving_usd).quantize(Decimal("0.01"))
    if saving_usd <= 0:
        return Decimal("0.00")
    purchase = (
        Purchase.objects.select_for_update()
        .filter(user_id=user_id, effect=SpendEffect.PRO_TIER, starts_at__lte=at, ends_at__gt=at)
        .order_by("starts_at")
        .first()
    )
    if purchase is None:
        return Decimal("0.00")
    take = min(purchase.credit_remaining_usd, saving_usd)
    if take > 0:
        Purchase.objects.filter(pk=purchase.pk).update(credit_used_usd=F("credit_used_usd") + take)
        person_forget([user_id], Scope.LEDGER)  # the wallet shows the Pro period's saving used
    return take


def pro_saving_return(*, user_id: int, at, saving_usd: Decimal) -> Decimal:
    """Give back to the Pro period running at `at` the saving an engagement used; returns what was given back.

    For an engagement cancelled after its confirmation: it is charged nothing, so the saving
    it took from the period's cap is free for the period's other engagements again.
    """
    saving_usd = Decimal(saving_usd).quantize(Decimal("0.01"))
    purchase = (
        Purchase.objects.select_for_update()
        .filter(user_id=user_id, effect=SpendEffect.PRO_TIER, starts_at__lte=at, ends_at__gt=at)
        .order_by("starts_at")
        .first()
    )
    if purchase is None or saving_usd <= 0:
        return Decimal("0.00")
    given_back = min(saving_usd, purchase.credit_used_usd)
    Purchase.objects.filter(pk=purchase.pk).update(credit_used_usd=F("credit_used_usd") - given_back)
    person_forget([user_id], Scope.LEDGER)  # the wallet shows the Pro period's saving used
    return given_back


# --- Redemption -----------------------------------------------------------------------


@dataclass(frozen=True)
class RedemptionResult:
    redemption: Redemption
    replayed: bool = False


def _redemption_of(row: PotTransaction) -> Redemption:
    return Redemption.objects.get(pk=row.reference_id)


@ledger_atomic
def redemption_request(
    *, user, pot_amount: int, payment_method: str, idempotency_key: str | None = None
) -> RedemptionResult:
    """Ask to turn POT into USD: the POT is held at once (a `redeem` row) until an operator decides."""
    payment_method = (payment_method or "").strip()
    request_fingerprint = fingerprint("redeem", pot_amount=pot_amount, payment_method=payment_method)
    key, keyed = _request_key("redeem", user.pk, idempotency_key)
    try:
        pot_amount = _whole_pot(pot_amount, field="pot_amount")
        minimum = settings.POT_MIN_REDEMPTION
        if pot_amount < minimum:
            raise DomainError(
                f"The minimum redemption is {minimum} POT.", field="pot_amount", code=ErrorCode.BELOW_MINIMUM
            )
        if not payment_method:
            raise DomainError("Say where to pay you.", field="payment_method", code=CommonCode.REQUIRED)
        _redeemable_check(user=user, pot_amount=pot_amount)
        rate = settings.POT_USD_RATE
        with transaction.atomic():  # the redemption goes away with its row if the key was taken
            redemption = Redemption.objects.create(
                user=user,
                pot_amount=pot_amount,
                usd_rate=rate,
                usd_amount=(Decimal(pot_amount) * rate).quantize(Decimal("0.01")),
                payment_method=payment_method[:200],
            )
            ledger_post(
                user_id=user.pk,
                amount=-pot_amount,
                transaction_type=TransactionType.REDEEM,
                category="redemption",
                idempotency_key=key,
                reference_type="redemption",
                reference_id=redemption.pk,
                actor_id=user.pk,
                note=f"Redemption #{redemption.pk} held: ${redemption.usd_amount}",
                request_fingerprint=request_fingerprint,
                draw=Draw.EARNED_FIRST,
            )
    except IdempotencyKeyTaken:
        return RedemptionResult(redemption=_redemption_of(_replayed_row(key, request_fingerprint)), replayed=True)
    except DomainError:
        if keyed and PotTransaction.objects.filter(idempotency_key=key).exists():
            row = _replayed_row(key, request_fingerprint)
            return RedemptionResult(redemption=_redemption_of(row), replayed=True)
        raise
    _redemption_notify(
        redemption,
        NotificationKind.REDEMPTION_REQUESTED,
        f"Redemption #{redemption.pk} requested: {redemption.pot_amount:,} POT held for ${redemption.usd_amount:,}. "
        "An operator reviews it.",
    )
    return RedemptionResult(redemption=redemption)


def _redemption_notify(redemption: Redemption, kind: NotificationKind, text: str) -> None:
    notify(user=redemption.user, kind=kind, text=text, link=page_path("wallet"))


def _redeemable_check(*, user, pot_amount: int) -> None:
    """Refuse a redemption of POT that is not redeemable now (under the wallet's lock, so the answer holds)."""
    wallet = wallets_lock([user.pk])[user.pk]
    summary = WalletSummary(
        user_id=user.pk,
        balance=wallet.balance,
        lifetime_earned=wallet.lifetime_earned,
        promotional_balance=wallet.promotional_balance,
        debt=wallet.debt,
        paid_engagement=wallet.paid_engagement_at is not None,
        email_verified=email_verified(user),
    )
    if not summary.email_verified:
        raise NotRedeemable(
            "Verify your email address before redeeming: use the link we emailed you, or ask for a new one "
            "on your dashboard.",
            field="pot_amount",
        )
    if summary.debt > 0:
        raise DebtOpen(
            f"You owe {summary.debt} POT (an award was taken back after you had spent it). Redemptions wait "
            "until your next earnings have paid it back.",
            field="pot_amount",
        )
    if pot_amount > summary.balance:
        raise InsufficientPot(
            f"Not enough POT: the balance is {summary.balance} POT and this needs {pot_amount} POT.", field="amount"
        )
    if pot_amount > summary.redeemable:
        raise NotRedeemable(
            f"You can redeem {summary.redeemable} POT now. " + promotional_explanation(summary.promotional_balance),
            field="pot_amount",
        )


def _pending_redemption_locked(*, redemption_id: int, operator) -> Redemption:
    if not operator.is_staff:
        raise PermissionDenied("Only operators decide redemptions.")
    redemption = Redemption.objects.select_for_update().filter(pk=redemption_id).first()
    if redemption is None:
        raise NotFound("No such redemption.")
    if redemption.status != RedemptionStatus.PENDING:
        raise AlreadyDecided(f"This redemption was already {redemption.status}.")
    return redemption


@ledger_atomic
def redemption_approve(*, redemption_id: int, operator, payout_reference: str) -> Redemption:
    """An operator paid the USD: the redemption is approved, once (the held POT stays spent)."""
    payout_reference = (payout_reference or "").strip()
    if not payout_reference:
        raise DomainError("Enter the payout reference.", field="payout_reference", code=CommonCode.REQUIRED)
    redemption = _pending_redemption_locked(redemption_id=redemption_id, operator=operator)
    redemption.status = RedemptionStatus.APPROVED
    redemption.payout_reference = payout_reference[:200]
    redemption.decided_by = operator
    redemption.decided_at = timezone.now()
    redemption.save(update_fields=["status", "payout_reference", "decided_by", "decided_at"])
    person_forget([redemption.user_id], Scope.LEDGER)  # the wallet shows the redemption's status
    _redemption_notify(
        redemption,
        NotificationKind.REDEMPTION_APPROVED,
        f"Redemption #{redemption.pk} approved: ${redemption.usd_amount:,} sent to {redemption.payment_method} "
        f"(payout reference {redemption.payout_reference}).",
    )
    return redemption


@ledger_atomic
def redemption_mark_paid(*, redemption_id: int, operator) -> Redemption:
    """An operator confirms that an approved redemption's payout arrived: the redemption is paid, once."""
    if not operator.is_staff:
        raise PermissionDenied("Only operators mark redemptions paid.")
    redemption = Redemption.objects.select_for_update().filter(pk=redemption_id).first()
    if redemption is None:
        raise NotFound("No such redemption.")
    if redemption.status != RedemptionStatus.APPROVED:
        raise RedemptionNotApproved(
            f"Only an approved redemption can be marked paid; this one is {redemption.get_status_display().lower()}."
        )
    redemption.status = RedemptionStatus.PAID
    redemption.paid_at = timezone.now()
    redemption.save(update_fields=["status", "paid_at"])
    person_forget([redemption.user_id], Scope.LEDGER)  # the wallet shows the redemption's status
    _redemption_notify(
        redemption,
        NotificationKind.REDEMPTION_PAID,
        f"Redemption #{redemption.pk} paid: ${redemption.usd_amount:,} "
        f"(payout reference {redemption.payout_reference}).",
    )
    return redemption


@ledger_atomic
def redemption_reject(*, redemption_id: int, operator, reason: str) -> Redemption:
    """An operator refuses a redemption, once: the held POT comes back as a `refund` row."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the redemption is rejected.", field="reason", code=CommonCode.REQUIRED)
    redemption = _pending_redemption_locked(redemption_id=redemption_id, operator=operator)
    held = PotTransaction.objects.get(
        reference_type="redemption", reference_id=redemption.pk, transaction_type=TransactionType.REDEEM
    )
    ledger_post(  # the ledger settles an open debt from it first
        user_id=redemption.user_id,
        amount=redemption.pot_amount,
        promotional=-held.promotional_amount,  # the POT comes back as the kind it was
        transaction_type=TransactionType.REFUND,
        category="redemption",
        idempotency_key=f"redemption-refund:{redemption.pk}",
        reference_type="redemption",
        reference_id=redemption.pk,
        actor_id=operator.pk,
        note=f"Redemption #{redemption.pk} rejected: {reason}",
    )
    redemption.status = RedemptionStatus.REJECTED
    redemption.rejection_reason = reason[:500]
    redemption.decided_by = operator
    redemption.decided_at = timezone.now()
    redemption.save(update_fields=["status", "rejection_reason", "decided_by", "decided_at"])
    person_forget([redemption.user_id], Scope.LEDGER)  # the wallet shows the redemption's status
    _redemption_notify(
        redemption,
        NotificationKind.REDEMPTION_REJECTED,
        f"Redemption #{redemption.pk} rejected: {redemption.rejection_reason} "
        f"Your {redemption.pot_amount:,} POT are back in your wallet.",
    )
    return redemption


# --- Corrections ----------------------------------------------------------------------


@ledger_atomic
def pot_adjust(*, user, operator, amount: int, reason: str, idempotency_key: str | None = None) -> PotTransaction:
    """An operator corrects a balance with an `adjust` row; never below zero, always with a reason."""
    if not operator.is_staff:
        raise PermissionDenied("Only operators adjust balances.")
    amount = _whole_pot(amount, field="amount")
    if amount == 0:
        raise DomainError("An adjustment is a non-zero number of POT.", field="amount", code=ErrorCode.ZERO)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the balance is adjusted.", field="reason", code=CommonCode.REQUIRED)
    request_fingerprint = fingerprint("adjust", user=user.pk, amount=amount, reason=reason)
    key, _ = _request_key("adjust", operator.pk, idempotency_key)
    try:
        return ledger_post(
            user_id=user.pk,
            amount=amount,
            transaction_type=TransactionType.ADJUST,
            category="adjustment",
            idempotency_key=key,
            reference_type="operator",
            reference_id=operator.pk,
            actor_id=operator.pk,
            note=reason,
            request_fingerprint=request_fingerprint,
        )
    except IdempotencyKeyTaken:
        return _replayed_row(key, request_fingerprint)


# --- Earning-rate experiments -----------------------------------------------------------


@dataclass(frozen=True)
class ArmPlan:
    """An arm as an operator defines it (before it is saved)."""

    name: str
    control: bool
    share_percent: int
    pot_percent: int


def experiment_rules_check(*, experiment: Experiment, rules: list[EarningRule], now=None) -> None:
    """Refuse a change of a started experiment, no rule to vary, or a rule another experiment varies then."""
    now = now or timezone.now()
    if experiment.pk is not None and Experiment.objects.filter(pk=experiment.pk, starts_at__lte=now).exists():
        raise ExperimentStarted("This experiment has started: its arms, rules and start are fixed. End it instead.")
    if not rules:
        raise ExperimentInvalid(
            "Choose at least one earning rule to vary.", field="rules", code=ErrorCode.EXPERIMENT_NO_RULES
        )
    overlapping = (
        Experiment.objects.filter(rules__in=rules, ended_at__isnull=True)
        .exclude(pk=experiment.pk)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=experiment.starts_at))
    )
    if experiment.ends_at is not None:
        overlapping = overlapping.filter(starts_at__lt=experiment.ends_at)
    other = overlapping.order_by("pk").first()
    if other is not None:
        raise ExperimentInvalid(
            f"{other.name!r} varies one of these rules at the same time: one experiment per rule at a time.",
            field="rules",
            code=ErrorCode.EXPERIMENT_OVERLAP,
        )


def experiment_arms_check(*, arms: list[ArmPlan]) -> None:
    """Refuse arms that cannot split new users: fewer than two, not one control at 100%, shares not 100%."""
    if len(arms) < 2:
        raise ExperimentInvalid("An experiment needs two or more arms (one of them the control).")
    controls = [arm for arm in arms if arm.control]
    if len(controls) != 1:
        raise ExperimentInvalid("Mark exactly one arm as the control (it pays today's amounts, 100%).")
    if controls[0].pot_percent != 100:
        raise ExperimentInvalid("The control arm pays today's amounts: 100%.")
    total = sum(arm.share_percent for arm in arms)
    if total != 100:
        raise ExperimentInvalid(f"The arms' shares of new users add up to {total}%, not 100%.")
    if len({arm.name for arm in arms}) != len(arms):
        raise ExperimentInvalid("Give each arm its own name.")


@transaction.atomic
def experiment_assign(*, user, now=None) -> list[ExperimentAssignment]:
    """Assign a person who just signed up to an arm of every running experiment (by hash, once)."""
    now = now or timezone.now()
    running = list(Experiment.objects.filter(Experiment.running_q(now)).prefetch_related("arms"))
    if not running:
        return []
    assignments = [
        ExperimentAssignment(
            experiment=experiment,
            arm=experiments.arm_for(experiment_id=experiment.pk, user_id=user.pk, arms=list(experiment.arms.all())),
            user=user,
            assigned_at=now,
        )
        for experiment in running
    ]
    # A second call (a retried sign-up) keeps the first assignment: the hash gives the same arm anyway.
    ExperimentAssignment.objects.bulk_create(assignments, ignore_conflicts=True)
    return assignments


@transaction.atomic
def experiment_end(*, experiment_id: int, operator) -> Experiment:
    """End an experiment now: everyone earns the normal amounts again; assignments and awards stay."""
    experiment = Experiment.objects.select_for_update().filter(pk=experiment_id).first()
    if experiment is None:
        raise NotFound("No such experiment.")
    now = timezone.now()
    if experiment.ended_at is not None or (experiment.ends_at is not None and experiment.ends_at <= now):
        raise ExperimentEnded(f"{experiment.name!r} has already ended.")
    experiment.ended_at = now
    experiment.ended_by = operator
    experiment.save(update_fields=["ended_at", "ended_by"])
    return experiment
