"""Writes on engagements: report, confirm, complete, cancel; invoice and payment of the commission.

Statuses follow `ENGAGEMENT_TRANSITIONS` (models.py). On confirmation the commission is
computed from the category's rate at that moment and snapshotted with the deal value and
the category's name; both sides' engagement bonuses are awarded in the same transaction,
once per cause (a retried confirmation is refused and awards nothing more).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from currency.selectors import award_for_cause
from currency.services import commission_credit_apply, pot_award, pot_award_reverse, pot_paid_engagement_record
from imatch.errors import DomainError, PermissionDenied
from imatch.errors import ErrorCode as CommonCode
from marketplace import emails
from marketplace.errors import ErrorCode, InvalidTransition, WrongSide
from marketplace.models import (
    ENGAGEMENT_TRANSITIONS,
    MATCH_TRANSITIONS,
    BillingStatus,
    Engagement,
    EngagementStatus,
    Match,
    MatchStatus,
    User,
)
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
    emails.engagement_reported(engagement)
    return engagement


@transaction.atomic
def engagement_confirm(*, engagement: Engagement, user: User) -> Engagement:
    """The other side (or an operator) confirms: commission snapshotted, bonuses awarded once."""
    engagement = _locked(engagement)
    side = _side(engagement, user)
    if side is None and not user.is_staff:
        raise WrongSide("Only the other side or an operator confirms an engagement.")
    if side is not None and user.pk == engagement.reported_by_id:
        raise WrongSide("You reported this engagement: the other side confirms it.")
    _move(engagement, EngagementStatus.CONFIRMED, message="Only a reported engagement can be confirmed.")
    category = engagement.category
    engagement.commission_rate = category.commission_rate
    engagement.category_name = category.display_name
    engagement.commission_usd = commission_for(engagement.deal_value_usd, category.commission_rate)
    engagement.confirmed_by = user
    engagement.confirmed_at = timezone.now()
    engagement.save()
    provider_user, seeker_user = engagement.provider.user, engagement.seeker.user
    pot_award(
        user=provider_user,
        rule_key="engagement_bonus_provider",
        cause=engagement_bonus_cause(engagement.pk, "provider"),
        deal_value_usd=engagement.deal_value_usd,
        reference_type="engagement",
        reference_id=engagement.pk,
    )
    pot_award(
        user=seeker_user,
        rule_key="engagement_bonus_seeker",
        cause=engagement_bonus_cause(engagement.pk, "seeker"),
        deal_value_usd=engagement.deal_value_usd,
        reference_type="engagement",
        reference_id=engagement.pk,
    )
    for person in (seeker_user, provider_user):
        referral_first_engagement(person=person, engagement=engagement)
    emails.engagement_confirmed(engagement)
    return engagement


def referral_first_engagement_cause(referred_user_id: int) -> str:
    return f"referral_first_engagement:user:{referred_user_id}"


def referral_first_engagement(*, person: User, engagement: Engagement) -> None:
    """Hook for referrals: whoever referred `person` earns once, at their first confirmed engagement.

    The cause is per referred person, so only the first engagement pays. When the referrals
    issue adds its own record of a referral, it can take over here (same cause, same rule).
    """
    if person.referred_by_id is None or person.email_verified_at is None:
        return  # an unverified person's referral award waits: `email_verify` pays it
    pot_award(
        user=person.referred_by,
        rule_key="referral_first_engagement",
        cause=referral_first_engagement_cause(person.pk),
        reference_type="engagement",
        reference_id=engagement.pk,
    )


@transaction.atomic
def engagement_complete(*, engagement: Engagement, user: User) -> Engagement:
    """Either side (or an operator) marks the work done; the commission is still owed."""
    engagement = _locked(engagement)
    _check_side_or_operator(engagement, user)
    _move(engagement, EngagementStatus.COMPLETED, message="Only a confirmed engagement can be completed.")
    engagement.completed_at = timezone.now()
    engagement.save(update_fields=["status", "completed_at", "updated_at"])
    return engagement


@transaction.atomic
def engagement_cancel(*, engagement: Engagement, user: User, reason: str = "") -> Engagement:
    """Call an engagement off: nothing is owed, and the engagement bonuses are taken back."""
    engagement = _locked(engagement)
    _check_side_or_operator(engagement, user)
    reason = (reason or "").strip()
    if len(reason) > CANCEL_REASON_MAX:
        raise DomainError(
            f"Keep the reason under {CANCEL_REASON_MAX} characters.", field="reason", code=CommonCode.TOO_LONG
        )
    if engagement.billing_status != BillingStatus.PENDING:
        raise InvalidTransition("This engagement is already invoiced: an operator settles it.", field="status")
    _move(engagement, EngagementStatus.CANCELLED, message="Only a reported or confirmed engagement can be cancelled.")
    engagement.commission_usd = Decimal("0.00")
    engagement.commission_credit_usd = Decimal("0.00")
    engagement.cancelled_by = user
    engagement.cancelled_at = timezone.now()
    engagement.cancel_reason = reason
    engagement.save()
    why = f"Engagement #{engagement.pk} was cancelled"
    for role in ("provider", "seeker"):
        pot_award_reverse(cause=engagement_bonus_cause(engagement.pk, role), reason=why)
    for person in (engagement.seeker.user, engagement.provider.user):
        # A referral bonus paid for *this* engagement (the person's first) is taken back too.
        cause = referral_first_engagement_cause(person.pk)
        award = award_for_cause(cause=cause)
        if award and award.reference_type == "engagement" and award.reference_id == engagement.pk:
            pot_award_reverse(cause=cause, reason=why)
    emails.engagement_cancelled(engagement, by=user)
    return engagement


def _check_operator(user: User) -> None:
    if not user.is_staff:
        raise PermissionDenied("Only operators invoice commissions.")


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
    return engagement


@transaction.atomic
def engagement_mark_paid(*, engagement: Engagement, operator: User) -> Engagement:
    """An operator records that the provider paid the invoice."""
    _check_operator(operator)
    engagement = _locked(engagement)
    if engagement.billing_status != BillingStatus.INVOICED:
        raise InvalidTransition("Only an invoiced engagement can be marked paid.", field="billing_status")
    engagement.billing_status = BillingStatus.PAID
    engagement.paid_at = timezone.now()
    engagement.save(update_fields=["billing_status", "paid_at", "updated_at"])
    for person in (engagement.seeker.user, engagement.provider.user):  # their promotional POT may become redeemable
        pot_paid_engagement_record(user=person, engagement_id=engagement.pk)
    return engagement
