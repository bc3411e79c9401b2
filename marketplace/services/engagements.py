"""Writes on engagements: report, confirm, review, complete, cancel (and its dispute); invoice and payment.

Statuses follow `ENGAGEMENT_TRANSITIONS` (models.py). On confirmation the commission is
computed from the category's rate at that moment and snapshotted with the deal value and
the category's name. A deal above the category's `deal_review_threshold_usd` waits in
*under review* until an operator approves it (then it counts: confirmed) or rejects it
(cancelled); nothing is invoiced and no bonus is paid meanwhile.

POT for an engagement is paid when its commission is **paid** (`engagement_mark_paid`),
never before. The rule that keeps two accounts of one person from minting POT:

    (provider bonus + seeker bonus + referral awards + rating awards + promotional releases)
        x POT_USD_RATE <= the commission paid in USD (commission minus any POT commission credit)

The provider's bonus (5% of the deal value in POT) comes first, then the seeker's (a fixed
100 POT, only from the category's `seeker_bonus_min_deal_usd`), then the referrers' awards
(`marketplace.services.referrals`), then the ratings' awards (given before the payment; one
given later is paid from what is left then); each is cut to what is left of that budget
(`marketplace.services.budget`, rounded down to whole POT). What is left then makes each
side's promotional POT (sign-up awards) redeemable, provider first
(`currency.services.pot_promotional_release`). The planned bonuses are shown as pending
from the confirmation on. Each award happens once per cause.

Before confirmation counts (reported, under review) either side cancels alone. After it,
one side's cancel is a *request* (with a reason): the other side agrees (cancelled) or
disputes it (with a reason), and an operator decides a dispute (cancel or keep). A
cancelled engagement owes nothing, its ratings stop counting and every POT award it caused
is reversed once.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from currency.selectors import award_for_cause, earning_rule_pot, usd_to_pot_floor
from currency.services import (
    commission_credit_apply,
    pot_award,
    pot_award_reverse,
    pot_paid_engagement_record,
    pot_promotional_release,
)
from imatch.errors import DomainError, PermissionDenied
from imatch.errors import ErrorCode as CommonCode
from imatch.text import clean_text
from marketplace import emails
from marketplace.errors import ErrorCode, InvalidTransition, WrongSide
from marketplace.models import (
    ENGAGEMENT_CANCEL_PENDING_STATUSES,
    ENGAGEMENT_TRANSITIONS,
    MATCH_TRANSITIONS,
    BillingStatus,
    BonusStatus,
    Engagement,
    EngagementStatus,
    Match,
    MatchStatus,
    User,
)
from marketplace.services.budget import engagement_pot_budget_left
from marketplace.services.lists import lists_forget_sides
from marketplace.services.pro import pro_commission_apply, pro_saving_release
from marketplace.services.ratings import rating_awards_pay, ratings_of_cancelled_engagement
from marketplace.services.referrals import REFERRAL_RULES, referral_awards_pay, referral_cause, referrals_engage
from marketplace.services.states import check_transition

CENT = Decimal("0.01")
MAX_DEAL_VALUE = Decimal("9999999999.99")  # what DecimalField(12, 2) holds
CANCEL_REASON_MAX = 1000


def engagement_bonus_cause(engagement_id: int, role: str) -> str:
    """The idempotency cause of an engagement bonus (role: provider or seeker)."""
    return f"engagement_bonus:{role}:engagement:{engagement_id}"


def parse_deal_value(value) -> Decimal:
    """A deal value in USD: a positive amount with at most two decimals."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError) as error:
        raise DomainError("Enter the deal value in USD, e.g. 1500.00.", field="deal_value_usd") from error
    if not amount.is_finite() or amount <= 0:
        raise DomainError("The deal value must be more than zero.", field="deal_value_usd", code=ErrorCode.NOT_POSITIVE)
    if amount != amount.quantize(CENT):
        raise DomainError("Use at most two decimals (cents).", field="deal_value_usd", code=ErrorCode.TOO_PRECISE)
    if amount > MAX_DEAL_VALUE:
        raise DomainError("This deal value is too large.", field="deal_value_usd", code=ErrorCode.TOO_LARGE)
    return amount.quantize(CENT)


def commission_for(deal_value: Decimal, rate: Decimal) -> Decimal:
    return (deal_value * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def _locked(engagement: Engagement) -> Engagement:
    return (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("seeker__user", "provider__user", "category", "reported_by")
        .get(pk=engagement.pk)
    )


def _move(engagement: Engagement, target: str, *, message: str) -> None:
    check_transition(
        ENGAGEMENT_TRANSITIONS, engagement.status, target, message=message, labels=dict(EngagementStatus.choices)
    )
    engagement.status = target


def _side(engagement: Engagement, user: User) -> str | None:
    if user.pk == engagement.seeker.user_id:
        return "seeker"
    if user.pk == engagement.provider.user_id:
        return "provider"
    return None


def _check_side_or_operator(engagement: Engagement, user: User) -> None:
    if _side(engagement, user) is None and not user.is_staff:
        raise WrongSide("Only the seeker, the provider or an operator can do this.")


@transaction.atomic
def engagement_report(*, match: Match, user: User, deal_value_usd) -> Engagement:
    """Either side reports the deal agreed on an accepted match; the other side confirms it."""
    match = (
        Match.objects.select_for_update(of=("self",))
        .select_related("seeker__user", "provider__user", "category")
        .get(pk=match.pk)
    )
    if user.pk not in (match.seeker.user_id, match.provider.user_id):
        raise WrongSide("Only the seeker or the provider of a match reports an engagement.")
    deal_value = parse_deal_value(deal_value_usd)
    check_transition(
        MATCH_TRANSITIONS,
        match.status,
        MatchStatus.ENGAGED,
        message="Only an accepted introduction can become an engagement.",
        labels=dict(MatchStatus.choices),
    )
    category = match.category
    engagement = Engagement.objects.create(
        match=match,
        seeker=match.seeker,
        provider=match.provider,
        category=category,
        category_name=category.display_name,
        deal_value_usd=deal_value,
        commission_rate=category.commission_rate,
        commission_usd=commission_for(deal_value, category.commission_rate),
        reported_by=user,
    )
    match.status = MatchStatus.ENGAGED
    match.save(update_fields=["status", "updated_at"])
    lists_forget_sides(match)
    emails.engagement_reported(engagement)
    return engagement


@transaction.atomic
def engagement_confirm(*, engagement: Engagement, user: User) -> Engagement:
    """The other side (or an operator) confirms: commission snapshotted, bonuses planned (paid with the commission).

    Above the category's review threshold the engagement waits for an operator (under review),
    unless an operator who is not a side confirms it: that is the operator's approval.
    """
    engagement = _locked(engagement)
    side = _side(engagement, user)
    if side is None and not user.is_staff:
        raise WrongSide("Only the other side or an operator confirms an engagement.")
    if side is not None and user.pk == engagement.reported_by_id:
        raise WrongSide("You reported this engagement: the other side confirms it.")
    category = engagement.category
    above_threshold = needs_review(engagement)
    by_operator = side is None
    target = EngagementStatus.UNDER_REVIEW if above_threshold and not by_operator else EngagementStatus.CONFIRMED
    _move(engagement, target, message="Only a reported engagement can be confirmed.")
    engagement.commission_rate = category.commission_rate
    engagement.category_name = category.display_name
    engagement.commission_usd = commission_for(engagement.deal_value_usd, category.commission_rate)
    engagement.confirmed_by = user
    engagement.confirmed_at = timezone.now()
    # A Pro provider's lower rate, within the Pro period's saving cap (marketplace.services.pro).
    pro_commission_apply(engagement, full_commission=engagement.commission_usd, commission_for=commission_for)
    if above_threshold and by_operator:
        engagement.reviewed_by, engagement.reviewed_at = user, engagement.confirmed_at
    _plan_bonuses(engagement)
    engagement.save()
    lists_forget_sides(engagement)
    if target == EngagementStatus.UNDER_REVIEW:
        emails.engagement_under_review(engagement)
    else:
        referrals_engage(engagement=engagement)
        emails.engagement_confirmed(engagement)
    return engagement


def needs_review(engagement: Engagement) -> bool:
    """Whether the deal value is above the category's review threshold (no threshold: never)."""
    threshold = engagement.category.deal_review_threshold_usd
    return threshold is not None and engagement.deal_value_usd > threshold


def _plan_bonuses(engagement: Engagement) -> None:
    """The bonuses shown as pending: the rules now, within the budget of the full commission."""
    budget = usd_to_pot_floor(engagement.commission_usd)
    provider = min(
        earning_rule_pot(rule_key="engagement_bonus_provider", deal_value_usd=engagement.deal_value_usd), budget
    )
    seeker = 0
    if engagement.deal_value_usd >= engagement.category.seeker_bonus_min_deal_usd:
        seeker = min(
            earning_rule_pot(rule_key="engagement_bonus_seeker", deal_value_usd=engagement.deal_value_usd),
            budget - provider,
        )
    engagement.provider_bonus_pot, engagement.seeker_bonus_pot = provider, seeker
    engagement.bonus_status = BonusStatus.PENDING


def _check_operator(user: User, *, message: str = "Only operators invoice commissions.") -> None:
    if not user.is_staff:
        raise PermissionDenied(message)


def _check_deciding_operator(engagement: Engagement, operator: User, *, message: str) -> None:
    """An operator decides (review, dispute), but never on an engagement they are a side of."""
    _check_operator(operator, message=message)
    if _side(engagement, operator) is not None:
        raise WrongSide("You are a side of this engagement: another operator decides.")


@transaction.atomic
def engagement_review_approve(*, engagement: Engagement, operator: User) -> Engagement:
    """An operator approves a deal above the review threshold: the confirmation counts from now."""
    engagement = _locked(engagement)
    _check_deciding_operator(engagement, operator, message="Only operators review engagements.")
    _move(engagement, EngagementStatus.CONFIRMED, message="Only an engagement under review can be approved.")
    engagement.reviewed_by = operator
    engagement.reviewed_at = timezone.now()
    engagement.save()
    lists_forget_sides(engagement)
    referrals_engage(engagement=engagement)
    emails.engagement_confirmed(engagement)
    return engagement


@transaction.atomic
def engagement_review_reject(*, engagement: Engagement, operator: User, reason: str = "") -> Engagement:
    """An operator rejects a deal above the review threshold: the engagement is cancelled, nothing is owed."""
    engagement = _locked(engagement)
    _check_deciding_operator(engagement, operator, message="Only operators review engagements.")
    if engagement.status != EngagementStatus.UNDER_REVIEW:
        raise InvalidTransition("Only an engagement under review can be rejected.", field="status")
    engagement.reviewed_by = operator
    engagement.reviewed_at = timezone.now()
    _cancel_now(engagement, by=operator, reason=_clean_reason(reason) or "Rejected by an operator in review.")
    return engagement


@transaction.atomic
def engagement_complete(*, engagement: Engagement, user: User) -> Engagement:
    """Either side (or an operator) marks the work done; the commission is still owed."""
    engagement = _locked(engagement)
    _check_side_or_operator(engagement, user)
    _move(engagement, EngagementStatus.COMPLETED, message="Only a confirmed engagement can be completed.")
    engagement.completed_at = timezone.now()
    engagement.save(update_fields=["status", "completed_at", "updated_at"])
    lists_forget_sides(engagement)
    return engagement


def _clean_reason(reason: str | None, *, required: bool = False, message: str = "Say why.") -> str:
    reason = clean_text(reason)
    if len(reason) > CANCEL_REASON_MAX:
        raise DomainError(
            f"Keep the reason under {CANCEL_REASON_MAX} characters.", field="reason", code=CommonCode.TOO_LONG
        )
    if required and not reason:
        raise DomainError(message, field="reason", code=CommonCode.REQUIRED)
    return reason


def _check_not_invoiced(engagement: Engagement) -> None:
    if engagement.billing_status != BillingStatus.PENDING:
        raise InvalidTransition("This engagement is already invoiced: an operator settles it.", field="status")


@transaction.atomic
def engagement_cancel(*, engagement: Engagement, user: User, reason: str = "") -> Engagement:
    """Cancel, or ask to: what it does depends on where the engagement stands and who asks.

    - Reported or under review (the confirmation does not count yet): either side, or an
      operator, cancels at once.
    - Confirmed: a side's cancel is a request (a reason is required); the other side answers.
      An operator who is not a side cancels at once.
    - Cancellation requested or disputed: the other side's cancel agrees (cancelled); the side
      who asked waits; an operator's cancel decides it.
    Refused once the commission is invoiced (an operator settles it) and after completion.
    """
    engagement = _locked(engagement)
    _check_side_or_operator(engagement, user)
    side = _side(engagement, user)
    _check_not_invoiced(engagement)
    status = engagement.status
    if status == EngagementStatus.CONFIRMED and side is not None:
        reason = _clean_reason(reason, required=True, message="Say why you want to cancel: the other side reads it.")
        _move(engagement, EngagementStatus.CANCEL_REQUESTED, message="This engagement cannot be cancelled.")
        engagement.cancel_requested_by = user
        engagement.cancel_requested_at = timezone.now()
        engagement.cancel_reason = reason
        engagement.dispute_reason = ""
        engagement.save()
        lists_forget_sides(engagement)
        emails.engagement_cancel_requested(engagement)
        return engagement
    if status in ENGAGEMENT_CANCEL_PENDING_STATUSES and side is not None:
        if user.pk == engagement.cancel_requested_by_id:
            raise InvalidTransition(
                "You asked to cancel: the other side agrees or disputes it, or an operator decides.", field="status"
            )
        _clean_reason(reason)
        _cancel_now(engagement, by=user, reason=engagement.cancel_reason)
        return engagement
    _cancel_now(engagement, by=user, reason=_clean_reason(reason))
    return engagement


@transaction.atomic
def engagement_cancel_dispute(*, engagement: Engagement, user: User, reason: str) -> Engagement:
    """The other side disagrees with a cancellation request (with a reason): an operator decides."""
    engagement = _locked(engagement)
    side = _side(engagement, user)
    if side is None:
        raise WrongSide("Only the other side of the engagement disputes a cancellation.")
    if engagement.status == EngagementStatus.CANCEL_REQUESTED and user.pk == engagement.cancel_requested_by_id:
        raise WrongSide("You asked to cancel: the other side disputes it, not you.")
    reason = _clean_reason(reason, required=True, message="Say why the engagement should stand: an operator reads it.")
    _move(engagement, EngagementStatus.DISPUTED, message="Only a requested cancellation can be disputed.")
    engagement.dispute_reason = reason
    engagement.save()
    lists_forget_sides(engagement)
    emails.engagement_disputed(engagement)
    return engagement


@transaction.atomic
def engagement_dispute_resolve(*, engagement: Engagement, operator: User, cancel: bool, note: str = "") -> Engagement:
    """An operator decides a requested or disputed cancellation: cancel the engagement, or keep it (confirmed)."""
    engagement = _locked(engagement)
    _check_deciding_operator(engagement, operator, message="Only operators decide disputes.")
    if engagement.status not in ENGAGEMENT_CANCEL_PENDING_STATUSES:
        raise InvalidTransition("Only a requested or disputed cancellation is decided.", field="status")
    note = _clean_reason(note)
    engagement.reviewed_by = operator
    engagement.reviewed_at = timezone.now()
    if cancel:
        _cancel_now(engagement, by=operator, reason=note or engagement.cancel_reason)
        return engagement
    _move(engagement, EngagementStatus.CONFIRMED, message="This engagement cannot be kept.")
    engagement.save()
    lists_forget_sides(engagement)
    emails.engagement_kept(engagement, note=note)
    return engagement


def _cancel_now(engagement: Engagement, *, by: User, reason: str) -> None:
    """Cancel a locked engagement: nothing owed; bonuses, referral and rating awards reversed; ratings stop counting."""
    _check_not_invoiced(engagement)
    _move(engagement, EngagementStatus.CANCELLED, message="This engagement can no longer be cancelled.")
    engagement.commission_usd = Decimal("0.00")
    engagement.commission_credit_usd = Decimal("0.00")
    pro_saving_release(engagement)
    engagement.cancelled_by = by
    engagement.cancelled_at = timezone.now()
    engagement.cancel_reason = reason
    if engagement.bonus_status == BonusStatus.PENDING:
        engagement.bonus_status = BonusStatus.NONE
    engagement.save()
    lists_forget_sides(engagement)
    why = f"Engagement #{engagement.pk} was cancelled"
    # Bonuses are paid with the commission, which a cancellable engagement has not been: these
    # reverse what engagements confirmed before that rule were paid at confirmation.
    for role in ("provider", "seeker"):
        pot_award_reverse(cause=engagement_bonus_cause(engagement.pk, role), reason=why)
    for person in (engagement.seeker.user, engagement.provider.user):
        # Referral awards paid for *this* engagement (the person's first paid one) are taken back too.
        for rule_key in REFERRAL_RULES:
            cause = referral_cause(rule_key, person.pk)
            award = award_for_cause(cause=cause)
            if award and award.reference_type == "engagement" and award.reference_id == engagement.pk:
                pot_award_reverse(cause=cause, reason=why)
    ratings_of_cancelled_engagement(engagement=engagement, reason=why)
    emails.engagement_cancelled(engagement, by=by)


@transaction.atomic
def engagement_mark_invoiced(*, engagement: Engagement, operator: User) -> Engagement:
    """An operator invoices the commission; the provider's POT commission credit pays what it can."""
    _check_operator(operator)
    engagement = _locked(engagement)
    if engagement.status not in (EngagementStatus.CONFIRMED, EngagementStatus.COMPLETED):
        raise InvalidTransition("Only a confirmed or completed engagement is invoiced.", field="status")
    if engagement.billing_status != BillingStatus.PENDING:
        raise InvalidTransition("This engagement is already invoiced.", field="billing_status")
    if engagement.commission_usd > 0:
        engagement.commission_credit_usd = commission_credit_apply(
            user=engagement.provider.user,
            amount_usd=engagement.commission_usd,
            reference_type="engagement",
            reference_id=engagement.pk,
        )
    engagement.billing_status = BillingStatus.INVOICED
    engagement.invoiced_at = timezone.now()
    engagement.save(update_fields=["billing_status", "invoiced_at", "commission_credit_usd", "updated_at"])
    lists_forget_sides(engagement)
    return engagement


@transaction.atomic
def engagement_mark_paid(*, engagement: Engagement, operator: User) -> Engagement:
    """An operator records that the provider paid the invoice: the engagement's POT is paid now, within the budget.

    Budget: the commission paid in USD (commission minus POT commission credit) at the
    redemption rate, in whole POT rounded down. Provider bonus first, then the seeker's,
    then the referrers' awards for either side (`referrals`), then the awards of the ratings
    given so far (`ratings`), then the release of each side's promotional POT (provider
    first: it becomes redeemable), each cut to what is left (module docstring).
    """
    _check_operator(operator)
    engagement = _locked(engagement)
    if engagement.billing_status != BillingStatus.INVOICED:
        raise InvalidTransition("Only an invoiced engagement can be marked paid.", field="billing_status")
    engagement.billing_status = BillingStatus.PAID
    engagement.paid_at = timezone.now()
    if engagement.bonus_status == BonusStatus.PENDING:
        _pay_bonuses(engagement)
    for person in (engagement.seeker.user, engagement.provider.user):
        referral_awards_pay(person=person, engagement=engagement)
    rating_awards_pay(engagement=engagement)
    engagement.save(
        update_fields=[
            "billing_status",
            "paid_at",
            "bonus_status",
            "provider_bonus_pot",
            "seeker_bonus_pot",
            "updated_at",
        ]
    )
    lists_forget_sides(engagement)
    if engagement.provider_bonus_pot or engagement.seeker_bonus_pot:
        emails.engagement_bonus_paid(engagement)
    for person in (engagement.provider.user, engagement.seeker.user):
        pot_paid_engagement_record(user=person, engagement_id=engagement.pk)
        pot_promotional_release(
            user=person,
            cause=f"engagement:{engagement.pk}:user:{person.pk}",
            max_amount=engagement_pot_budget_left(engagement=engagement),
            reference_type="engagement",
            reference_id=engagement.pk,
        )
    return engagement


def _pay_bonuses(engagement: Engagement) -> None:
    budget = usd_to_pot_floor(engagement.amount_due_usd)
    paid = {}
    for role, person, planned in (
        ("provider", engagement.provider.user, engagement.provider_bonus_pot),
        ("seeker", engagement.seeker.user, engagement.seeker_bonus_pot),
    ):
        row = pot_award(
            user=person,
            rule_key=f"engagement_bonus_{role}",
            cause=engagement_bonus_cause(engagement.pk, role),
            deal_value_usd=engagement.deal_value_usd,
            reference_type="engagement",
            reference_id=engagement.pk,
            max_amount=min(planned, budget),
        )
        paid[role] = row.amount if row else 0
        budget -= paid[role]
    engagement.provider_bonus_pot, engagement.seeker_bonus_pot = paid["provider"], paid["seeker"]
    engagement.bonus_status = BonusStatus.PAID
