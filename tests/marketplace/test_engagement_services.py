"""Engagements through the services: report, confirm, complete, cancel, invoice; POT bonuses; emails.

Review, dispute and the money rules (bonuses at payment, within the commission) are in
test_engagement_money.py.
"""

from decimal import Decimal

import pytest
from django.core import mail

from currency.models import PotTransaction
from currency.services import pot_award, pot_spend
from imatch.errors import DomainError, PermissionDenied
from marketplace.errors import InvalidTransition, WrongSide
from marketplace.models import BillingStatus, BonusStatus, Engagement, EngagementStatus, Match, MatchStatus
from marketplace.services import engagements, matches
from marketplace.services.referrals import referral_first_engagement_cause
from tests.currency.factories import balance_of, pot_fund
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import accepted_match, confirmed_engagement, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


def test_either_side_reports_an_engagement_and_the_other_is_asked_to_confirm(django_capture_on_commit_callbacks):
    match = accepted_match()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        engagement = engagements.engagement_report(match=match, user=match.provider.user, deal_value_usd="1500.00")

    assert engagement.status == EngagementStatus.REPORTED
    assert engagement.deal_value_usd == Decimal("1500.00")
    assert engagement.commission_usd == Decimal("300.00")
    assert engagement.category_name == "Planners"
    assert Match.objects.get(pk=match.pk).status == MatchStatus.ENGAGED
    assert [m.to for m in mail.outbox] == [[match.seeker.user.email]]
    assert "$1500.00" in mail.outbox[0].body


@pytest.mark.parametrize("value", ["0", "-10", "abc", "NaN", "Infinity", "10.001", "99999999999", None])
def test_a_bad_deal_value_is_refused_and_nothing_is_written(value):
    match = accepted_match()
    with pytest.raises(DomainError) as refused:
        engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd=value)
    assert refused.value.field == "deal_value_usd"
    assert not Engagement.objects.exists()
    assert Match.objects.get(pk=match.pk).status == MatchStatus.ACCEPTED


def test_only_an_accepted_match_becomes_an_engagement():
    category = make_category()
    seeker = make_seeker(category)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    with pytest.raises(InvalidTransition):
        engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="100")
    matches.match_introduce(match=match, user=seeker.user)
    with pytest.raises(InvalidTransition):
        engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="100")
    assert not Engagement.objects.exists()


def test_a_stranger_cannot_report_and_a_match_is_engaged_once():
    match = accepted_match()
    with pytest.raises(WrongSide):
        engagements.engagement_report(match=match, user=UserFactory(), deal_value_usd="100")
    engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="100")
    with pytest.raises(InvalidTransition):
        engagements.engagement_report(match=match, user=match.provider.user, deal_value_usd="100")
    assert Engagement.objects.count() == 1


@pytest.fixture
def reported():
    match = accepted_match()
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="2000.00")
    mail.outbox.clear()
    return engagement


def test_the_reporter_cannot_confirm_their_own_report(reported):
    with pytest.raises(WrongSide):
        engagements.engagement_confirm(engagement=reported, user=reported.seeker.user)
    with pytest.raises(WrongSide):
        engagements.engagement_confirm(engagement=reported, user=UserFactory())
    assert Engagement.objects.get(pk=reported.pk).status == EngagementStatus.REPORTED


def test_confirmation_snapshots_the_commission_and_pays_the_bonuses_only_with_the_commission(
    reported, operator, django_capture_on_commit_callbacks
):
    provider_user, seeker_user = reported.provider.user, reported.seeker.user
    before = balance_of(provider_user), balance_of(seeker_user)
    category = reported.category
    category.commission_rate = Decimal("0.15")  # changed between report and confirmation
    category.save()

    with django_capture_on_commit_callbacks(execute=True):
        engagement = engagements.engagement_confirm(engagement=reported, user=provider_user)

    assert engagement.status == EngagementStatus.CONFIRMED and engagement.confirmed_by == provider_user
    assert engagement.commission_rate == Decimal("0.15") and engagement.commission_usd == Decimal("300.00")
    # Confirmed: the bonuses are pending, not paid.
    assert (balance_of(provider_user), balance_of(seeker_user)) == before
    assert engagement.bonus_status == BonusStatus.PENDING
    assert (engagement.provider_bonus_pot, engagement.seeker_bonus_pot) == (100, 100)  # 5% of 2,000 USD; 100
    assert engagement.pending_bonus_pot == 200
    assert not PotTransaction.objects.filter(category="engagement_bonus").exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([provider_user.email, seeker_user.email])
    assert all("pending" in m.body and "in your wallet" not in m.body for m in mail.outbox)

    # A retried confirmation is refused and changes nothing.
    with pytest.raises(InvalidTransition):
        engagements.engagement_confirm(engagement=reported, user=provider_user)

    # The commission is invoiced, still nothing; paid: both bonuses, once.
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    assert (balance_of(provider_user), balance_of(seeker_user)) == before
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        paid = engagements.engagement_mark_paid(engagement=engagement, operator=operator)
    assert paid.bonus_status == BonusStatus.PAID and paid.pending_bonus_pot == 0
    assert balance_of(provider_user) - before[0] == 100
    assert balance_of(seeker_user) - before[1] == 100
    assert PotTransaction.objects.filter(category="engagement_bonus").count() == 2
    assert all("in your wallet" in m.body for m in mail.outbox) and len(mail.outbox) == 2
    with pytest.raises(InvalidTransition):
        engagements.engagement_mark_paid(engagement=engagement, operator=operator)
    assert PotTransaction.objects.filter(category="engagement_bonus").count() == 2

    # Later edits of the category do not rewrite history.
    category.commission_rate = Decimal("0.30")
    category.display_name = "Renamed"
    category.save()
    engagement.refresh_from_db()
    assert engagement.commission_usd == Decimal("300.00") and engagement.category_name == "Planners"


def test_an_operator_can_confirm(reported, operator):
    engagement = engagements.engagement_confirm(engagement=reported, user=operator)
    assert engagement.status == EngagementStatus.CONFIRMED and engagement.confirmed_by == operator


def _referred_engagements(referrer, count: int, deal_value: str):
    category = make_category()
    seeker = make_seeker(category, user=UserFactory(referred_by=referrer, verified=True))
    for _ in range(count):
        make_provider(category)
    result = []
    for match in matches.match_run_for_seeker(seeker=seeker)[:count]:
        matches.match_introduce(match=match, user=seeker.user)
        matches.match_accept(match=match, user=match.provider.user)
        engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd=deal_value)
        result.append(engagements.engagement_confirm(engagement=engagement, user=match.provider.user))
    return result


def _pay(engagement, operator):
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    return engagements.engagement_mark_paid(engagement=engagement, operator=operator)


def test_a_referred_person_s_first_paid_engagement_pays_the_referrer_once(operator):
    referrer = UserFactory()
    first, second = _referred_engagements(referrer, 2, "5000")  # commission 1,000 USD: room for every award
    rows = PotTransaction.objects.filter(user=referrer, idempotency_key__startswith="award:referral_first_engagement")
    assert not rows.exists()  # confirmed is not enough
    for engagement in (first, second):
        _pay(engagement, operator)
    assert [row.amount for row in rows] == [200]
    assert rows.get().reference_id == first.pk


def test_a_referred_person_s_engagement_cancelled_before_payment_pays_the_referrer_nothing(operator):
    referrer = UserFactory()
    first, second = _referred_engagements(referrer, 2, "5000")
    before = balance_of(referrer)
    engagements.engagement_cancel(engagement=first, user=first.seeker.user, reason="Fell through")
    engagements.engagement_cancel(engagement=first, user=first.provider.user)  # agrees
    assert Engagement.objects.get(pk=first.pk).status == EngagementStatus.CANCELLED
    assert balance_of(referrer) == before
    _pay(second, operator)  # the next engagement whose commission is paid is the one that pays
    assert balance_of(referrer) == before + 50 + 200  # the profile award and the first-engagement award


def test_cancelling_an_engagement_paid_at_confirmation_before_this_rule_takes_the_bonuses_back():
    """Engagements confirmed under the old rule had their bonuses (and referral award) paid at once."""
    referrer = UserFactory()
    [engagement] = _referred_engagements(referrer, 1, "2000")
    for role, person in (("provider", engagement.provider.user), ("seeker", engagement.seeker.user)):
        pot_award(
            user=person,
            rule_key=f"engagement_bonus_{role}",
            cause=engagements.engagement_bonus_cause(engagement.pk, role),
            deal_value_usd=engagement.deal_value_usd,
            reference_type="engagement",
            reference_id=engagement.pk,
        )
    pot_award(
        user=referrer,
        rule_key="referral_first_engagement",
        cause=referral_first_engagement_cause(engagement.seeker.user.pk),
        reference_type="engagement",
        reference_id=engagement.pk,
    )
    Engagement.objects.filter(pk=engagement.pk).update(bonus_status=BonusStatus.PAID)
    before = balance_of(referrer), balance_of(engagement.provider.user), balance_of(engagement.seeker.user)

    engagements.engagement_cancel(engagement=engagement, user=engagement.seeker.user, reason="Fell through")
    engagements.engagement_cancel(engagement=engagement, user=engagement.provider.user)

    after = balance_of(referrer), balance_of(engagement.provider.user), balance_of(engagement.seeker.user)
    assert [b - a for a, b in zip(before, after, strict=True)] == [-200, -100, -100]
    assert PotTransaction.objects.filter(category="award_reversal").count() == 3


def test_complete_then_nothing_more():
    engagement = confirmed_engagement()
    with pytest.raises(WrongSide):
        engagements.engagement_complete(engagement=engagement, user=UserFactory())
    engagement = engagements.engagement_complete(engagement=engagement, user=engagement.seeker.user)
    assert engagement.status == EngagementStatus.COMPLETED and engagement.completed_at
    for action in (engagements.engagement_complete, engagements.engagement_confirm):
        with pytest.raises(InvalidTransition):
            action(engagement=engagement, user=engagement.provider.user)
    with pytest.raises(InvalidTransition):
        engagements.engagement_cancel(engagement=engagement, user=engagement.provider.user, reason="late")


def test_a_reported_engagement_cannot_be_completed(reported):
    with pytest.raises(InvalidTransition):
        engagements.engagement_complete(engagement=reported, user=reported.provider.user)


def test_either_side_cancels_a_reported_engagement_alone_and_nothing_is_owed(
    reported, django_capture_on_commit_callbacks
):
    provider_user, seeker_user = reported.provider.user, reported.seeker.user
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = engagements.engagement_cancel(engagement=reported, user=provider_user, reason="Plans changed")

    assert cancelled.status == EngagementStatus.CANCELLED and cancelled.commission_usd == Decimal("0.00")
    assert cancelled.cancel_reason == "Plans changed" and cancelled.cancelled_by == provider_user
    assert cancelled.bonus_status == BonusStatus.NONE
    assert [m.to for m in mail.outbox] == [[seeker_user.email]]
    with pytest.raises(InvalidTransition):
        engagements.engagement_cancel(engagement=reported, user=seeker_user)


def test_a_confirmed_engagement_is_cancelled_when_the_other_side_agrees(django_capture_on_commit_callbacks):
    engagement = confirmed_engagement("2000.00")
    provider_user, seeker_user = engagement.provider.user, engagement.seeker.user
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        requested = engagements.engagement_cancel(engagement=engagement, user=seeker_user, reason="Plans changed")
    assert requested.status == EngagementStatus.CANCEL_REQUESTED
    assert requested.cancel_requested_by == seeker_user and requested.cancel_reason == "Plans changed"
    assert requested.commission_usd == Decimal("400.00")  # still owed until it is cancelled
    assert [m.to for m in mail.outbox] == [[provider_user.email]] and "Plans changed" in mail.outbox[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = engagements.engagement_cancel(engagement=engagement, user=provider_user)
    assert cancelled.status == EngagementStatus.CANCELLED and cancelled.commission_usd == Decimal("0.00")
    assert cancelled.cancelled_by == provider_user and cancelled.cancel_reason == "Plans changed"
    assert cancelled.bonus_status == BonusStatus.NONE and cancelled.pending_bonus_pot == 0
    assert [m.to for m in mail.outbox] == [[seeker_user.email]]
    assert not PotTransaction.objects.filter(category__in=["engagement_bonus", "award_reversal"]).exists()
    with pytest.raises(InvalidTransition):
        engagements.engagement_cancel(engagement=engagement, user=seeker_user)


def test_a_stranger_cannot_cancel_and_a_long_reason_is_refused(reported):
    with pytest.raises(WrongSide):
        engagements.engagement_cancel(engagement=reported, user=UserFactory(), reason="no")
    with pytest.raises(DomainError) as refused:
        engagements.engagement_cancel(engagement=reported, user=reported.seeker.user, reason="x" * 1001)
    assert refused.value.field == "reason"
    assert Engagement.objects.get(pk=reported.pk).status == EngagementStatus.REPORTED


# --- Commission: invoiced and paid ----------------------------------------------------


def test_operators_invoice_and_mark_paid_with_the_pot_credit_applied(operator):
    engagement = confirmed_engagement("1000.00")  # commission 200.00
    provider_user = engagement.provider.user
    pot_fund(provider_user, 300)
    pot_spend(user=provider_user, option_key="commission_credit")  # 250 POT = 200.00 USD at 0.80

    with pytest.raises(PermissionDenied):
        engagements.engagement_mark_invoiced(engagement=engagement, operator=provider_user)
    with pytest.raises(InvalidTransition):
        engagements.engagement_mark_paid(engagement=engagement, operator=operator)

    invoiced = engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    assert invoiced.billing_status == BillingStatus.INVOICED
    assert invoiced.commission_credit_usd == Decimal("200.00") and invoiced.amount_due_usd == Decimal("0.00")
    with pytest.raises(InvalidTransition):
        engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    with pytest.raises(InvalidTransition):
        engagements.engagement_cancel(engagement=engagement, user=provider_user, reason="too late")

    paid = engagements.engagement_mark_paid(engagement=engagement, operator=operator)
    assert paid.billing_status == BillingStatus.PAID and paid.paid_at
    # The whole commission was paid in POT: the platform received no USD, so no bonus is paid.
    assert paid.bonus_status == BonusStatus.PAID and (paid.provider_bonus_pot, paid.seeker_bonus_pot) == (0, 0)
    assert not PotTransaction.objects.filter(category="engagement_bonus").exists()


def test_a_reported_engagement_is_not_invoiced(reported, operator):
    with pytest.raises(InvalidTransition):
        engagements.engagement_mark_invoiced(engagement=reported, operator=operator)
