"""Referral awards pay only for referred people who brought in a commission, within limits.

Issue 9: once a person had one paid engagement, all the referral POT their throwaway
accounts earned became redeemable (~$40 each). Money tests: also run on PostgreSQL.
"""

import itertools
import zoneinfo
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from currency.models import PotTransaction
from currency.selectors import wallet_summary
from marketplace.models import User
from marketplace.services import engagements, matches
from marketplace.services.referrals import email_canonical
from tests.currency.factories import balance_of
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db

_names = itertools.count()


def _paid_engagement_of(person: User, operator, deal_value: str = "5000.00"):
    """`person` (as a seeker) closes a deal with an independent provider; the commission is paid."""
    category = make_category(name=f"planners{next(_names)}")
    seeker = make_seeker(category, user=person)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=person)
    matches.match_accept(match=match, user=match.provider.user)
    engagement = engagements.engagement_report(match=match, user=person, deal_value_usd=deal_value)
    engagement = engagements.engagement_confirm(engagement=engagement, user=match.provider.user)
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    return engagements.engagement_mark_paid(engagement=engagement, operator=operator)


def _referral_rows(referrer):
    return PotTransaction.objects.filter(user=referrer, category="referral").order_by("id")


def test_a_referral_farm_pays_nothing_until_a_referred_person_has_a_paid_engagement(operator):
    main = UserFactory(verified=True)
    farm = [UserFactory(referred_by=main, verified=True) for _ in range(3)]
    for n, account in enumerate(farm):
        make_seeker(make_category(name=f"farm{n}"), user=account)  # a profile each
    _paid_engagement_of(main, operator)  # the person's own paid engagement
    assert not _referral_rows(main).exists()
    summary = wallet_summary(user=main)
    # Their own seeker profile's 50 POT were released by their own commission; no referral award yet.
    assert summary.paid_engagement and summary.promotional_balance == 0 and summary.redeemable == balance_of(main)

    engagement = _paid_engagement_of(farm[0], operator)  # one referred person brings in a commission
    rows = list(_referral_rows(main))
    assert [(row.idempotency_key, row.amount, row.promotional_amount) for row in rows] == [
        (f"award:referral_profile_created:user:{farm[0].pk}", 50, 0),  # earned: the commission paid for it
        (f"award:referral_first_engagement:user:{farm[0].pk}", 200, 0),
    ]
    assert {(row.reference_type, row.reference_id) for row in rows} == {("engagement", engagement.pk)}


def test_referral_awards_stay_within_the_referred_persons_engagement_budget(operator):
    main = UserFactory(verified=True)
    referred = UserFactory(referred_by=main, verified=True)
    _paid_engagement_of(referred, operator, deal_value="600.00")  # $120 = 150 POT: 30 + 100 in bonuses
    assert [row.amount for row in _referral_rows(main)] == [20]  # the profile award, cut to what was left


def test_referrals_beyond_the_monthly_limit_pay_nothing_and_are_recorded(operator, settings):
    settings.REFERRAL_MONTHLY_LIMIT = 2
    main = UserFactory(verified=True)
    referred = [UserFactory(referred_by=main, verified=True) for _ in range(3)]
    for person in referred:
        _paid_engagement_of(person, operator)
    paid_for = {int(row.idempotency_key.rsplit(":", 1)[1]) for row in _referral_rows(main)}
    assert paid_for == {referred[0].pk, referred[1].pk}
    over = User.objects.get(pk=referred[2].pk)
    assert over.referral_over_limit_at is not None
    assert User.objects.filter(referral_over_limit_at__isnull=False).count() == 1
    _paid_engagement_of(over, operator)  # a later paid engagement does not pay an over-limit referral
    assert {int(row.idempotency_key.rsplit(":", 1)[1]) for row in _referral_rows(main)} == paid_for


def test_the_monthly_limit_is_the_servers_calendar_month_whatever_the_requests_zone(operator, settings, monkeypatch):
    """The limit reached on the 20th; on the month's last evening (UTC) the next paid engagement is
    marked in a request whose zone (UTC+14) is already in the next month: it still counts against
    this month's limit (imatch.weeks.calendar_month_start), and pays in the next one."""
    settings.REFERRAL_MONTHLY_LIMIT = 1
    main = UserFactory(verified=True)
    first, late, next_month = (UserFactory(referred_by=main, verified=True) for _ in range(3))
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    _paid_engagement_of(first, operator)
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 30, 20, 0, tzinfo=UTC))  # Dec 1, 10:00 at +14
    with timezone.override(zoneinfo.ZoneInfo("Pacific/Kiritimati")):
        _paid_engagement_of(late, operator)
    assert User.objects.get(pk=late.pk).referral_over_limit_at is not None
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 1, 0, 30, tzinfo=UTC))
    _paid_engagement_of(next_month, operator)
    paid_for = {int(row.idempotency_key.rsplit(":", 1)[1]) for row in _referral_rows(main)}
    assert paid_for == {first.pk, next_month.pk}


@pytest.mark.parametrize(
    ("referrer_email", "referred_email"),
    [
        ("me@example.com", "me+2@example.com"),
        ("me+a@example.com", "ME+b@Example.com"),
        ("john.smith@gmail.com", "johnsmith+x@gmail.com"),
        ("john.smith@gmail.com", "j.o.h.n.s.m.i.t.h@googlemail.com"),
    ],
)
def test_a_self_referral_by_an_email_variant_pays_nothing(operator, referrer_email, referred_email):
    main = UserFactory(email=referrer_email, verified=True)
    variant = UserFactory(email=referred_email, referred_by=main, verified=True)
    _paid_engagement_of(variant, operator)
    assert not _referral_rows(main).exists()


def test_email_canonical_drops_tags_everywhere_and_dots_only_at_gmail():
    assert email_canonical("J.Smith+promo@GoogleMail.com") == "jsmith@gmail.com"
    assert email_canonical("j.smith+promo@example.com") == "j.smith@example.com"
    assert email_canonical("j.smith@example.com") != email_canonical("jsmith@example.com")
    assert email_canonical("me@example.com") != email_canonical("me@example.org")


def test_a_referred_person_with_a_different_address_pays_the_referrer(operator):
    main = UserFactory(email="john.smith@example.com", verified=True)
    friend = UserFactory(email="johnsmith@example.com", referred_by=main, verified=True)  # dots count here
    _paid_engagement_of(friend, operator)
    assert [row.amount for row in _referral_rows(main)] == [50, 200]
