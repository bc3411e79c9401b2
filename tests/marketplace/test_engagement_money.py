"""POT that cannot be minted: bonuses at payment and within the commission, review of big deals, disputes.

Issue 9: one person with two accounts reported a $9,999,999,999.99 deal, confirmed it, got
499,999,999 POT at once, redeemed it and cancelled. Each rule below closes a part of that.
"""

import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from currency.errors import InsufficientPot
from currency.models import PotTransaction
from currency.services import pot_award, pot_spend, redemption_request
from imatch.errors import DomainError, PermissionDenied
from imatch.errors import ErrorCode as CommonCode
from marketplace.errors import InvalidTransition, WrongSide
from marketplace.models import BillingStatus, BonusStatus, Engagement, EngagementStatus, Provider, User
from marketplace.services import engagements, ratings
from tests.currency.factories import balance_of, pot_fund
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import accepted_match, confirmed_engagement, make_category

pytestmark = pytest.mark.django_db


def _report_and_confirm(deal_value: str, category=None, *, confirmer=None):
    match = accepted_match(category)
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd=deal_value)
    return engagements.engagement_confirm(engagement=engagement, user=confirmer or match.provider.user)


def _invoice_and_pay(engagement, operator):
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    return engagements.engagement_mark_paid(engagement=engagement, operator=operator)


def _engagement_pot(engagement) -> int:
    """Every POT row an engagement caused (bonuses, referral awards, their reversals)."""
    rows = PotTransaction.objects.filter(reference_type="engagement", reference_id=engagement.pk)
    return sum(row.amount for row in rows)


def _verify_ledger() -> str:
    out = io.StringIO()
    call_command("verify_ledger", stdout=out, stderr=io.StringIO())  # exits non-zero on a broken ledger
    return out.getvalue()


# --- Bonuses: paid with the commission, within it ----------------------------------------


@pytest.mark.parametrize(("deal_value", "seeker_bonus"), [("499.99", 0), ("500.00", 100), ("2000.00", 100)])
def test_the_seeker_bonus_applies_from_the_category_s_minimum_deal_value(deal_value, seeker_bonus, operator):
    engagement = _report_and_confirm(deal_value)
    assert engagement.seeker_bonus_pot == seeker_bonus  # planned, shown as pending
    seeker_user = engagement.seeker.user
    before = balance_of(seeker_user)
    _invoice_and_pay(engagement, operator)
    assert balance_of(seeker_user) - before == seeker_bonus


def test_the_bonuses_are_cut_to_the_commission_paid(operator):
    category = make_category(seeker_bonus_min_deal_usd="0")
    engagement = _report_and_confirm("100.00", category)  # commission 20.00 USD = 25 POT at 0.80
    assert (engagement.provider_bonus_pot, engagement.seeker_bonus_pot) == (5, 20)  # 5% of 100; 100 cut to 20
    provider_user, seeker_user = engagement.provider.user, engagement.seeker.user
    before = balance_of(provider_user), balance_of(seeker_user)

    paid = _invoice_and_pay(engagement, operator)

    assert (balance_of(provider_user) - before[0], balance_of(seeker_user) - before[1]) == (5, 20)
    assert (paid.provider_bonus_pot, paid.seeker_bonus_pot) == (5, 20)
    assert _engagement_pot(engagement) * settings.POT_USD_RATE <= paid.amount_due_usd
    seeker_row = PotTransaction.objects.get(user=seeker_user, category="engagement_bonus")
    assert "capped at 20 of 100 POT" in seeker_row.note


def test_a_commission_paid_partly_with_pot_credit_pays_bonuses_only_on_the_usd_received(operator):
    engagement = _report_and_confirm("1250.00")  # commission 250.00; provider 62 POT planned, seeker 100
    assert (engagement.provider_bonus_pot, engagement.seeker_bonus_pot) == (62, 100)
    provider_user = engagement.provider.user
    pot_fund(provider_user, 250)
    pot_spend(user=provider_user, option_key="commission_credit")  # 200.00 USD of credit

    paid = _invoice_and_pay(engagement, operator)

    assert paid.commission_credit_usd == Decimal("200.00") and paid.amount_due_usd == Decimal("50.00")
    assert (paid.provider_bonus_pot, paid.seeker_bonus_pot) == (62, 0)  # 50 USD = 62 POT, all to the provider
    assert _engagement_pot(engagement) * settings.POT_USD_RATE <= paid.amount_due_usd


@pytest.mark.parametrize("deal_value", ["1.00", "10.00", "99.99", "100.00", "499.99", "500.00", "1234.56", "9999.99"])
def test_an_engagement_never_pays_more_pot_value_than_its_commission(deal_value, operator):
    referrer_of_seeker, referrer_of_provider = UserFactory(), UserFactory()
    category = make_category(seeker_bonus_min_deal_usd="0")
    match = accepted_match(category)
    for person, referrer in ((match.seeker.user, referrer_of_seeker), (match.provider.user, referrer_of_provider)):
        person.referred_by, person.email_verified_at = referrer, timezone.now()
        person.save(update_fields=["referred_by", "email_verified_at"])
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd=deal_value)
    engagement = engagements.engagement_confirm(engagement=engagement, user=match.provider.user)
    assert (engagement.provider_bonus_pot + engagement.seeker_bonus_pot) * settings.POT_USD_RATE <= (
        engagement.commission_usd
    )

    paid = _invoice_and_pay(engagement, operator)

    paid_out = _engagement_pot(engagement)
    assert paid_out * settings.POT_USD_RATE <= paid.amount_due_usd
    assert paid_out == sum(
        row.amount for row in PotTransaction.objects.filter(category__in=["engagement_bonus", "referral"], amount__gt=0)
    )


def test_a_referral_award_cut_to_nothing_waits_for_a_later_paid_engagement(operator):
    referrer = UserFactory()
    category = make_category(seeker_bonus_min_deal_usd="0")
    match = accepted_match(category)
    match.seeker.user.referred_by, match.seeker.user.email_verified_at = referrer, timezone.now()
    match.seeker.user.save(update_fields=["referred_by", "email_verified_at"])
    small = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="100")
    small = engagements.engagement_confirm(engagement=small, user=match.provider.user)
    _invoice_and_pay(small, operator)  # 25 POT of budget: the bonuses take it all
    assert balance_of(referrer) == 0

    big = _report_and_confirm("5000", make_category(name="coaches"))
    Engagement.objects.filter(pk=big.pk).update(seeker=small.seeker)  # same referred seeker
    big.refresh_from_db()
    _invoice_and_pay(big, operator)
    assert balance_of(referrer) == 50 + 200  # both referral awards, from the big engagement's budget


# --- Deal values above the category's review threshold ------------------------------------


@pytest.mark.parametrize(
    ("threshold", "deal_value", "status"),
    [
        ("5000", "5000.00", EngagementStatus.CONFIRMED),  # at the threshold: no review
        ("5000", "5000.01", EngagementStatus.UNDER_REVIEW),
        (None, "9999999999.99", EngagementStatus.CONFIRMED),  # no threshold: never reviewed
    ],
)
def test_a_confirmation_above_the_threshold_waits_for_an_operator(threshold, deal_value, status):
    engagement = _report_and_confirm(deal_value, make_category(deal_review_threshold_usd=threshold))
    assert engagement.status == status


def test_nothing_counts_under_review(operator):
    engagement = _report_and_confirm("9000", make_category(deal_review_threshold_usd="5000"))
    assert engagement.status == EngagementStatus.UNDER_REVIEW
    with pytest.raises(InvalidTransition):
        engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    with pytest.raises(InvalidTransition):
        engagements.engagement_complete(engagement=engagement, user=engagement.seeker.user)
    with pytest.raises(InvalidTransition):
        ratings.rating_create(engagement=engagement, user=engagement.seeker.user, stars=5)
    with pytest.raises(InvalidTransition):
        engagements.engagement_confirm(engagement=engagement, user=engagement.provider.user)
    assert not PotTransaction.objects.filter(reference_type__in=["engagement", "rating"]).exists()

    approved = engagements.engagement_review_approve(engagement=engagement, operator=operator)
    assert approved.status == EngagementStatus.CONFIRMED and approved.reviewed_by == operator
    assert approved.bonus_status == BonusStatus.PENDING
    with pytest.raises(InvalidTransition):
        engagements.engagement_review_approve(engagement=engagement, operator=operator)
    with pytest.raises(InvalidTransition):
        engagements.engagement_review_reject(engagement=engagement, operator=operator)
    assert engagements.engagement_mark_invoiced(engagement=engagement, operator=operator).billing_status == (
        BillingStatus.INVOICED
    )


def test_a_rejected_deal_is_cancelled_and_owes_nothing(operator):
    engagement = _report_and_confirm("9000", make_category(deal_review_threshold_usd="5000"))
    rejected = engagements.engagement_review_reject(engagement=engagement, operator=operator, reason="Not credible")
    assert rejected.status == EngagementStatus.CANCELLED and rejected.commission_usd == Decimal("0.00")
    assert rejected.cancel_reason == "Not credible" and rejected.bonus_status == BonusStatus.NONE


def test_either_side_may_still_cancel_alone_under_review():
    engagement = _report_and_confirm("9000", make_category(deal_review_threshold_usd="5000"))
    cancelled = engagements.engagement_cancel(engagement=engagement, user=engagement.provider.user, reason="Typo")
    assert cancelled.status == EngagementStatus.CANCELLED


def test_review_decisions_are_for_operators_who_are_not_a_side(operator):
    engagement = _report_and_confirm("9000", make_category(deal_review_threshold_usd="5000"))
    with pytest.raises(PermissionDenied):
        engagements.engagement_review_approve(engagement=engagement, operator=engagement.provider.user)
    # A staff member who is a side of the engagement does not approve their own deal.
    seeker_user = engagement.seeker.user
    seeker_user.is_staff = True
    seeker_user.save(update_fields=["is_staff"])
    with pytest.raises(WrongSide):
        engagements.engagement_review_approve(engagement=engagement, operator=seeker_user)
    with pytest.raises(WrongSide):
        engagements.engagement_review_reject(engagement=engagement, operator=seeker_user)
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.UNDER_REVIEW


def test_an_operator_s_own_confirmation_of_a_big_deal_is_the_approval(operator):
    category = make_category(deal_review_threshold_usd="5000")
    engagement = _report_and_confirm("9000", category, confirmer=operator)
    assert engagement.status == EngagementStatus.CONFIRMED and engagement.reviewed_by == operator


# --- Cancelling after confirmation: the other side agrees, or an operator decides ----------


def test_a_cancel_request_needs_a_reason_and_the_asker_cannot_finish_it_alone():
    engagement = confirmed_engagement()
    seeker_user, provider_user = engagement.seeker.user, engagement.provider.user
    with pytest.raises(DomainError) as refused:
        engagements.engagement_cancel(engagement=engagement, user=seeker_user, reason="  ")
    assert refused.value.code == CommonCode.REQUIRED and refused.value.field == "reason"
    with pytest.raises(WrongSide):
        engagements.engagement_cancel(engagement=engagement, user=UserFactory(), reason="no")
    with pytest.raises(InvalidTransition):  # nothing to dispute yet
        engagements.engagement_cancel_dispute(engagement=engagement, user=provider_user, reason="It stands")

    engagements.engagement_cancel(engagement=engagement, user=seeker_user, reason="Moved")
    with pytest.raises(InvalidTransition):
        engagements.engagement_cancel(engagement=engagement, user=seeker_user, reason="Please")
    with pytest.raises(WrongSide):
        engagements.engagement_cancel_dispute(engagement=engagement, user=seeker_user, reason="Mine")
    with pytest.raises(WrongSide):
        engagements.engagement_cancel_dispute(engagement=engagement, user=UserFactory(), reason="x")
    with pytest.raises(DomainError) as refused:
        engagements.engagement_cancel_dispute(engagement=engagement, user=provider_user, reason="")
    assert refused.value.code == CommonCode.REQUIRED
    with pytest.raises(InvalidTransition):  # not rated while the cancellation is discussed
        ratings.rating_create(engagement=engagement, user=provider_user, stars=4)
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.CANCEL_REQUESTED


def test_a_dispute_waits_for_an_operator_who_cancels_or_keeps(operator):
    kept, cancelled = confirmed_engagement(), confirmed_engagement(category=make_category(name="coaches"))
    for engagement in (kept, cancelled):
        engagements.engagement_cancel(engagement=engagement, user=engagement.seeker.user, reason="Moved")
        disputed = engagements.engagement_cancel_dispute(
            engagement=engagement, user=engagement.provider.user, reason="The plan is delivered"
        )
        assert disputed.status == EngagementStatus.DISPUTED and disputed.dispute_reason == "The plan is delivered"
        with pytest.raises(InvalidTransition):  # the asker still cannot cancel alone
            engagements.engagement_cancel(engagement=engagement, user=engagement.seeker.user, reason="Please")
        with pytest.raises(PermissionDenied):
            engagements.engagement_dispute_resolve(engagement=engagement, operator=engagement.seeker.user, cancel=True)

    assert engagements.engagement_dispute_resolve(engagement=kept, operator=operator, cancel=False).status == (
        EngagementStatus.CONFIRMED
    )
    done = engagements.engagement_dispute_resolve(engagement=cancelled, operator=operator, cancel=True, note="Refund")
    assert done.status == EngagementStatus.CANCELLED and done.cancel_reason == "Refund"
    assert done.cancelled_by == operator and done.commission_usd == 0
    with pytest.raises(InvalidTransition):
        engagements.engagement_dispute_resolve(engagement=kept, operator=operator, cancel=True)


def test_the_side_who_disputed_may_still_agree_later():
    engagement = confirmed_engagement()
    engagements.engagement_cancel(engagement=engagement, user=engagement.seeker.user, reason="Moved")
    engagements.engagement_cancel_dispute(engagement=engagement, user=engagement.provider.user, reason="No")
    agreed = engagements.engagement_cancel(engagement=engagement, user=engagement.provider.user)
    assert agreed.status == EngagementStatus.CANCELLED and agreed.cancel_reason == "Moved"


def test_an_operator_cancels_a_confirmed_engagement_directly(operator):
    engagement = confirmed_engagement()
    cancelled = engagements.engagement_cancel(engagement=engagement, user=operator, reason="Fraud")
    assert cancelled.status == EngagementStatus.CANCELLED and cancelled.cancelled_by == operator


def test_an_invoiced_engagement_is_not_cancelled_by_its_sides(operator):
    engagement = confirmed_engagement()
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    with pytest.raises(InvalidTransition):
        engagements.engagement_cancel(engagement=engagement, user=engagement.seeker.user, reason="Late")
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.CONFIRMED


def test_ratings_of_a_cancelled_engagement_stop_counting_and_their_pot_is_reversed_once():
    engagement = confirmed_engagement()
    seeker_user, provider_user = engagement.seeker.user, engagement.provider.user
    provider = engagement.provider
    pot_fund(seeker_user, 50)  # enough POT for every reversal
    pot_fund(provider_user, 50)
    before = balance_of(seeker_user), balance_of(provider_user)
    five = ratings.rating_create(engagement=engagement, user=seeker_user, stars=5)  # before the commission is paid
    four = ratings.rating_create(engagement=engagement, user=provider_user, stars=4)
    assert Provider.objects.get(pk=provider.pk).rating_count == 1
    assert (balance_of(seeker_user), balance_of(provider_user)) == before  # awards wait for the commission
    # Ratings given before the awards waited for the commission were paid at once:
    for person, rule_key, cause, rating in (
        (seeker_user, "rating_given", ratings.rating_given_cause(five.pk), five),
        (provider_user, "rating_five_star_received", ratings.rating_five_star_cause(five.pk), five),
        (provider_user, "rating_given", ratings.rating_given_cause(four.pk), four),
    ):
        pot_award(user=person, rule_key=rule_key, cause=cause, reference_type="rating", reference_id=rating.pk)
    assert (balance_of(seeker_user) - before[0], balance_of(provider_user) - before[1]) == (10, 110)

    engagements.engagement_cancel(engagement=engagement, user=provider_user, reason="Moved")
    engagements.engagement_cancel(engagement=engagement, user=seeker_user)

    provider.refresh_from_db()
    assert (provider.rating_avg, provider.rating_count) == (Decimal("0.00"), 0)
    assert (balance_of(seeker_user), balance_of(provider_user)) == before
    reversals = PotTransaction.objects.filter(category="award_reversal", reference_type="rating")
    assert sorted(row.amount for row in reversals) == [-100, -10, -10]
    # Recomputed from the ratings that still count: another engagement's rating stays.
    other = confirmed_engagement(category=make_category(name="coaches"))
    Engagement.objects.filter(pk=other.pk).update(provider=provider)
    other.refresh_from_db()
    ratings.rating_create(engagement=other, user=other.seeker.user, stars=3)
    provider.refresh_from_db()
    assert (provider.rating_avg, provider.rating_count) == (Decimal("3.00"), 1)


# --- The money path: one person, two accounts -------------------------------------------


def test_one_person_with_two_accounts_cannot_mint_pot(operator):
    """Issue 9's path: report a huge deal, confirm it, redeem, cancel: no POT without a paid commission."""
    category = make_category(deal_review_threshold_usd="50000")
    match = accepted_match(category)
    seeker_account, provider_account = match.seeker.user, match.provider.user  # one person
    User.objects.filter(pk__in=[seeker_account.pk, provider_account.pk]).update(email_verified_at=timezone.now())
    provider_account.refresh_from_db()
    before = balance_of(seeker_account), balance_of(provider_account)

    huge = engagements.engagement_report(match=match, user=seeker_account, deal_value_usd="9999999999.99")
    huge = engagements.engagement_confirm(engagement=huge, user=provider_account)

    # Above the threshold nothing counts until an operator approves: no POT, nothing to redeem.
    assert huge.status == EngagementStatus.UNDER_REVIEW
    assert (balance_of(seeker_account), balance_of(provider_account)) == before
    with pytest.raises(InsufficientPot):
        redemption_request(user=provider_account, pot_amount=499_999_999, payment_method="bank")
    with pytest.raises(InvalidTransition):
        engagements.engagement_mark_invoiced(engagement=huge, operator=operator)

    # Even approved (say the operator was fooled), the bonus waits for the commission payment.
    huge = engagements.engagement_review_approve(engagement=huge, operator=operator)
    assert huge.status == EngagementStatus.CONFIRMED and huge.pending_bonus_pot == 499_999_999 + 100
    assert (balance_of(seeker_account), balance_of(provider_account)) == before
    with pytest.raises(InsufficientPot):
        redemption_request(user=provider_account, pot_amount=499_999_999, payment_method="bank")

    # Cancelling after confirmation alone is only a request; the other account agreeing cancels it,
    # and there is nothing to claw back because nothing was paid.
    requested = engagements.engagement_cancel(engagement=huge, user=provider_account, reason="Changed my mind")
    assert requested.status == EngagementStatus.CANCEL_REQUESTED
    cancelled = engagements.engagement_cancel(engagement=huge, user=seeker_account)
    assert cancelled.status == EngagementStatus.CANCELLED and cancelled.bonus_status == BonusStatus.NONE
    assert (balance_of(seeker_account), balance_of(provider_account)) == before
    assert _engagement_pot(huge) == 0

    # Below the threshold, a deal confirmed by the two accounts pays only once its commission is
    # paid, and never more than that commission is worth.
    small_match = accepted_match(make_category(name="coaches", deal_review_threshold_usd="50000"))
    small = engagements.engagement_report(match=small_match, user=small_match.seeker.user, deal_value_usd="40000.00")
    small = engagements.engagement_confirm(engagement=small, user=small_match.provider.user)
    assert small.status == EngagementStatus.CONFIRMED
    assert balance_of(small_match.provider.user) == balance_of(provider_account)  # profile award only
    with pytest.raises(InvalidTransition):  # alone after confirmation: refused, it becomes a request
        engagements.engagement_cancel_dispute(engagement=small, user=small_match.provider.user, reason="x")
    paid = _invoice_and_pay(small, operator)
    assert paid.provider_bonus_pot == 2000 and paid.seeker_bonus_pot == 100
    assert _engagement_pot(small) * settings.POT_USD_RATE <= paid.amount_due_usd  # 1,680 USD of 8,000
    with pytest.raises(InvalidTransition):  # paid: the sides cannot cancel (nor claw back) any more
        engagements.engagement_cancel(engagement=small, user=small_match.provider.user, reason="Undo")

    summary = _verify_ledger()
    assert summary
