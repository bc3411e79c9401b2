"""Engagements through the services: report, confirm, complete, cancel, invoice; POT bonuses; emails."""

from decimal import Decimal

import pytest
from django.core import mail

from currency.models import PotTransaction
from currency.services import pot_spend
from imatch.errors import DomainError, PermissionDenied
from marketplace.errors import InvalidTransition, WrongSide
from marketplace.models import BillingStatus, Engagement, EngagementStatus, Match, MatchStatus
from marketplace.services import engagements, matches
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


def test_confirmation_snapshots_the_commission_and_pays_both_bonuses_once(reported, django_capture_on_commit_callbacks):
    provider_user, seeker_user = reported.provider.user, reported.seeker.user
    before = balance_of(provider_user), balance_of(seeker_user)
    category = reported.category
    category.commission_rate = Decimal("0.15")  # changed between report and confirmation
    category.save()

    with django_capture_on_commit_callbacks(execute=True):
        engagement = engagements.engagement_confirm(engagement=reported, user=provider_user)

    assert engagement.status == EngagementStatus.CONFIRMED and engagement.confirmed_by == provider_user
    assert engagement.commission_rate == Decimal("0.15") and engagement.commission_usd == Decimal("300.00")
    assert balance_of(provider_user) - before[0] == 100  # 5% of 2,000 USD in POT
    assert balance_of(seeker_user) - before[1] == 100
    assert sorted(m.to[0] for m in mail.outbox) == sorted([provider_user.email, seeker_user.email])

    # A retried confirmation is refused and pays nothing more.
    with pytest.raises(InvalidTransition):
        engagements.engagement_confirm(engagement=reported, user=provider_user)
    assert balance_of(provider_user) - before[0] == 100
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


def test_a_referred_person_s_first_engagement_pays_the_referrer_once():
    referrer = UserFactory()
    category = make_category()
    seeker = make_seeker(category, user=UserFactory(referred_by=referrer, verified=True))
    for _ in range(2):
        make_provider(category)
    first, second = matches.match_run_for_seeker(seeker=seeker)[:2]
    for match in (first, second):
        matches.match_introduce(match=match, user=seeker.user)
        matches.match_accept(match=match, user=match.provider.user)
        engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="100")
        engagements.engagement_confirm(engagement=engagement, user=match.provider.user)
    rows = PotTransaction.objects.filter(user=referrer, idempotency_key__startswith="award:referral_first_engagement")
    assert [row.amount for row in rows] == [200]


def test_cancelling_a_referred_person_s_first_engagement_takes_the_referral_bonus_back():
    referrer = UserFactory()
    pot_fund(referrer, 500)
    category = make_category()
    seeker = make_seeker(category, user=UserFactory(referred_by=referrer, verified=True))
    make_provider(category)
    match = matches.match_run_for_seeker(seeker=seeker)[0]
    matches.match_introduce(match=match, user=seeker.user)
    matches.match_accept(match=match, user=match.provider.user)
    engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="100")
    before = balance_of(referrer)
    engagements.engagement_confirm(engagement=engagement, user=match.provider.user)
    assert balance_of(referrer) == before + 200

    engagements.engagement_cancel(engagement=engagement, user=seeker.user, reason="Fell through")
    assert balance_of(referrer) == before
    reversal = PotTransaction.objects.get(user=referrer, amount=-200)
    assert reversal.category == "award_reversal"


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


def test_cancelling_owes_nothing_and_takes_the_bonuses_back(django_capture_on_commit_callbacks):
    engagement = confirmed_engagement("2000.00")
    provider_user, seeker_user = engagement.provider.user, engagement.seeker.user
    before = balance_of(provider_user), balance_of(seeker_user)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = engagements.engagement_cancel(engagement=engagement, user=seeker_user, reason="Plans changed")

    assert cancelled.status == EngagementStatus.CANCELLED and cancelled.commission_usd == Decimal("0.00")
    assert cancelled.cancel_reason == "Plans changed" and cancelled.cancelled_by == seeker_user
    assert balance_of(provider_user) == before[0] - 100
    assert balance_of(seeker_user) == before[1] - 100
    assert [m.to for m in mail.outbox] == [[provider_user.email]]
    with pytest.raises(InvalidTransition):
        engagements.engagement_cancel(engagement=engagement, user=seeker_user)
    assert balance_of(provider_user) == before[0] - 100  # reversed once


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


def test_a_reported_engagement_is_not_invoiced(reported, operator):
    with pytest.raises(InvalidTransition):
        engagements.engagement_mark_invoiced(engagement=reported, operator=operator)
