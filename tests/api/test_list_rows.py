"""The busiest lists build their rows as plain dicts (`imatch.api_rows`); their serializers stay the
schema. These tests hold the two to the same JSON, byte for byte, for every kind of row the lists
can show: each transaction kind with and without an effect, each match and engagement state from
both sides, nullable fields empty and set, in UTC and in another time zone."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from currency import selectors as pot_selectors
from currency.api.serializers import (
    TRANSACTION_ROW_COLUMNS,
    PotTransactionSerializer,
    SpendResultSerializer,
    spend_answer,
    transaction_rows,
)
from currency.models import PotTransaction, Purchase, SpendEffect, SpendOption, TransactionType
from currency.services import SpendResult
from imatch.db import page_values
from marketplace import selectors
from marketplace.api.serializers import (
    MATCH_ROW_COLUMNS,
    EngagementSerializer,
    MatchSerializer,
    engagement_rows,
    match_rows,
)
from marketplace.models import (
    BillingStatus,
    BonusStatus,
    Engagement,
    EngagementStatus,
    Match,
    MatchStatus,
    Seeker,
)
from marketplace.services import matches
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import confirmed_engagement, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db
# The transaction tests write one row of every kind directly (how each looks, not a ledger that adds up).
LEDGER_TAMPERED = True

ZONES = ["UTC", "America/Los_Angeles", "Asia/Kolkata"]


def _json(data) -> bytes:
    return JSONRenderer().render(data)


def _same(fast: list[dict], drf) -> None:
    assert fast, "the test must list rows"
    for fast_row, drf_row in zip(fast, drf, strict=True):
        assert list(fast_row) == list(drf_row)  # the same keys in the same order
        assert fast_row == drf_row
    assert _json(fast) == _json(drf)


# --- Transactions -------------------------------------------------------------------------


def _row(user, kind: str, amount: int, *, balance: int, **fields) -> PotTransaction:
    return PotTransaction.objects.create(
        user=user,
        transaction_type=kind,
        category=fields.pop("category", "adjustment"),
        amount=amount,
        balance_after=balance,
        idempotency_key=f"test:{PotTransaction.objects.count()}",
        **fields,
    )


def _spend(user, effect: str, *, balance: int, **purchase) -> PotTransaction:
    row = _row(user, TransactionType.SPEND, -100, balance=balance, category=effect, actor=user, note=effect)
    Purchase.objects.create(
        user=user,
        option=SpendOption.objects.order_by("id").first(),
        transaction=row,
        effect=effect,
        cost=100,
        **purchase,
    )
    return row


def _every_kind_of_transaction(user, operator) -> None:
    now = timezone.now()
    week = timedelta(days=7)
    _row(user, TransactionType.EARN, 5000, balance=5000, category="profile_creation", reference_type="seeker")
    _row(user, TransactionType.EARN, 50, balance=5050, category="rating_given", reference_type="rating", reference_id=7)
    _row(user, TransactionType.ADJUST, 10, balance=5060, actor=operator, note="Ticket 4312")
    _row(user, TransactionType.ADJUST, -10, balance=5050, actor=operator)  # no note: the label alone
    _row(user, TransactionType.BURN, -50, balance=5000, category="award_reversal", debt_change=0)
    _row(user, TransactionType.DEBT, 0, balance=5000, category="award_reversal", debt_change=20)
    _row(user, TransactionType.REDEEM, -500, balance=4500, category="redemption", actor=user, reference_id=3)
    _row(user, TransactionType.REFUND, 500, balance=5000, category="redemption", note="Redemption rejected")
    _row(user, TransactionType.RELEASE, 0, balance=5000, category="release", promotional_amount=-50)
    _spend(user, SpendEffect.PROFILE_BOOST, balance=4900, starts_at=now - week, ends_at=now + week)  # active
    _spend(user, SpendEffect.PROFILE_BOOST, balance=4800, starts_at=now - 2 * week, ends_at=now - week)  # ended
    _spend(user, SpendEffect.PROFILE_BOOST, balance=4700, starts_at=now + week, ends_at=now + 2 * week)  # starts
    _spend(user, SpendEffect.EXTRA_MATCHES, balance=4600, matches_granted=3)  # not used yet
    _spend(user, SpendEffect.EXTRA_MATCHES, balance=4500, matches_granted=5, matches_taken_at=now - week)
    _spend(
        user, SpendEffect.COMMISSION_CREDIT, balance=4400, credit_usd=Decimal("80.00"), credit_used_usd=Decimal("12.5")
    )
    _spend(user, SpendEffect.CONTENT_UNLOCK, balance=4300)
    _spend(
        user,
        SpendEffect.PRO_TIER,
        balance=4200,
        starts_at=now - week,
        ends_at=now + 3 * week,
        credit_usd=Decimal("40.00"),
        credit_used_usd=Decimal("7.25"),
    )
    _row(user, TransactionType.SPEND, -100, balance=4100, category="profile_boost")  # a spend without its purchase


@pytest.mark.parametrize("zone", ZONES)
def test_transaction_rows_are_what_the_serializer_gives(user, operator, zone):
    _every_kind_of_transaction(user, operator)
    listed = pot_selectors.transactions_visible(user=user)
    with timezone.override(zone):
        fast = transaction_rows(listed)
        drf = PotTransactionSerializer(listed, many=True).data
    assert {row["transaction_type"] for row in fast} == set(TransactionType.values)
    assert {row["effect"]["effect"] for row in fast if row["effect"]} == set(SpendEffect.values)
    assert any(row["effect"] is None and row["transaction_type"] == "spend" for row in fast)
    _same(fast, drf)


@pytest.mark.parametrize("zone", ZONES)
def test_a_spends_answer_is_what_the_serializer_gives(user, operator, zone):
    _every_kind_of_transaction(user, operator)
    spends = list(PotTransaction.objects.filter(purchase__isnull=False).select_related("purchase"))
    assert {row.purchase.effect for row in spends} == set(SpendEffect.values)
    with timezone.override(zone):
        for row in spends:
            fast = spend_answer(row, row.purchase)
            drf = SpendResultSerializer(SpendResult(transaction=row, purchase=row.purchase)).data
            assert list(fast) == list(drf) and list(fast["effect"]) == list(drf["effect"])
            assert _json(fast) == _json(drf)


def test_the_transactions_api_answers_the_serializers_rows_and_counts_past_one_page(user, operator):
    _every_kind_of_transaction(user, operator)
    api = client_for(user)
    body = api.get("/api/v1/pot/transactions/?limit=5&offset=5").json()
    listed = pot_selectors.transactions_visible(user=user)
    assert body["count"] == listed.count() == 18
    assert body["next"].endswith("limit=5&offset=10") and body["previous"].endswith("limit=5")
    assert _json(body["results"]) == _json(PotTransactionSerializer(listed[5:10], many=True).data)
    last = api.get("/api/v1/pot/transactions/?limit=5&offset=15").json()  # a short last page: its own total
    assert last["count"] == 18 and len(last["results"]) == 3 and last["next"] is None
    beyond = api.get("/api/v1/pot/transactions/?offset=40").json()  # past the end: counted
    assert beyond["count"] == 18 and beyond["results"] == []
    spends = api.get("/api/v1/pot/transactions/?transaction_type=spend").json()
    assert spends["count"] == 9 and {row["transaction_type"] for row in spends["results"]} == {"spend"}


def test_page_values_reads_what_values_list_reads(user, operator):
    _every_kind_of_transaction(user, operator)
    rows = PotTransaction.objects.filter(user=user).order_by("-created_at", "id")
    pages = [rows[3:9], rows.filter(transaction_type="spend")[0:4], rows[40:60], rows.order_by()[0:5]]
    for page in pages:
        assert page_values(page, TRANSACTION_ROW_COLUMNS) == list(page.values_list(*TRANSACTION_ROW_COLUMNS))
    assert len(page_values(rows[3:9], TRANSACTION_ROW_COLUMNS)) == 6


# --- Matches ------------------------------------------------------------------------------


def _matches_in_every_state():
    """A person whose matches (as a seeker in three categories) are in every status, budgets set
    and not; the providers of the matches."""
    user, found = UserFactory(), []
    for index in range(3):
        category = make_category(name=f"field_{index}", display_name=f"Field {index}")
        budget = (
            {"budget_min": Decimal("100"), "budget_max": Decimal("2500.5")}
            if index < 2
            else {"budget_min": None, "budget_max": None}
        )
        seeker = make_seeker(category, user=user, **budget)
        for number in range(3):
            make_provider(category, business_name=f"Studio {index}-{number}", remote=number % 2 == 0)
        found += matches.match_run_for_seeker(seeker=seeker)
    Seeker.objects.filter(user=user, budget_min__isnull=True).update(needs_description="")
    now = timezone.now()
    for match, status in zip(found, MatchStatus.values, strict=False):
        introduced = None if status == MatchStatus.SUGGESTED else now - timedelta(days=2)
        responded = now - timedelta(days=1) if status not in (MatchStatus.SUGGESTED, MatchStatus.INTRODUCED) else None
        Match.objects.filter(pk=match.pk).update(
            status=status,
            introduced_at=introduced,
            responded_at=responded,
            decline_reason="Not this month" if status == MatchStatus.DECLINED else "",
            featured=status == MatchStatus.ACCEPTED,
        )
    return SimpleNamespace(user=user), found


def _request_of(user):
    return SimpleNamespace(user=user)


@pytest.mark.parametrize("zone", ZONES)
def test_match_rows_are_what_the_serializer_gives_each_side(zone):
    seeker, found = _matches_in_every_state()
    # The providers of the introduced ones (a suggestion is the seeker's own shortlist).
    shown = Match.objects.filter(pk__in=[match.pk for match in found], introduced_at__isnull=False)
    viewers = [seeker.user] + [match.provider.user for match in shown.select_related("provider__user")]
    assert len(viewers) == 1 + len(MatchStatus.values) - 1
    for viewer in viewers:
        listed = selectors.match_list_for(user=viewer)
        with timezone.override(zone):
            fast = match_rows(listed, viewer=viewer)
            drf = MatchSerializer(listed, many=True, context={"request": _request_of(viewer)}).data
        _same(fast, drf)
    as_seeker = match_rows(selectors.match_list_for(user=seeker.user), viewer=seeker.user)
    assert {row["status"] for row in as_seeker} == set(MatchStatus.values)
    assert {row["contact"] is None for row in as_seeker} == {True, False}
    assert {row["seeker"]["budget_min"] is None for row in as_seeker} == {True, False}


def test_page_values_makes_the_annotations_the_columns_name():
    seeker, _ = _matches_in_every_state()
    listed = selectors.match_list_for(user=seeker.user)  # not annotated: the page's ids need no category
    named = listed.annotate(**selectors.list_annotations())
    fast = page_values(listed[1:4], MATCH_ROW_COLUMNS, annotations=selectors.list_annotations)
    assert fast == list(named[1:4].values_list(*MATCH_ROW_COLUMNS)) and len(fast) == 3
    unordered = page_values(listed.order_by()[0:9], MATCH_ROW_COLUMNS, annotations=selectors.list_annotations)
    assert sorted(unordered) == sorted(named.values_list(*MATCH_ROW_COLUMNS))
    assert {row[1] for row in unordered} == {"field_0", "field_1", "field_2"}


def test_staff_see_every_match_as_the_serializer_writes_it(operator):
    _matches_in_every_state()
    listed = selectors.match_list_for(user=operator)
    _same(
        match_rows(listed, viewer=operator),
        MatchSerializer(listed, many=True, context={"request": _request_of(operator)}).data,
    )


def test_the_matches_api_answers_the_serializers_rows(django_assert_num_queries):
    seeker, _ = _matches_in_every_state()
    api = client_for(seeker.user)
    with django_assert_num_queries(2):  # token and user, page (short: it is the total)
        body = api.get("/api/v1/matches/").json()
    listed = selectors.match_list_for(user=seeker.user)
    assert body["count"] == listed.count()
    assert _json(body["results"]) == _json(
        MatchSerializer(listed, many=True, context={"request": _request_of(seeker.user)}).data
    )
    with django_assert_num_queries(3):  # token and user, a full page, count
        assert api.get("/api/v1/matches/?limit=2").json()["count"] == listed.count()


# --- Engagements --------------------------------------------------------------------------


def _engagements_in_every_state():
    made = []
    for index, status in enumerate(EngagementStatus.values):
        category = make_category(name=f"deal_{index}", display_name=f"Deal {index}")
        engagement = confirmed_engagement(deal_value="1234.50", category=category)
        Engagement.objects.filter(pk=engagement.pk).update(status=status)
        made.append(engagement)
    now = timezone.now()
    first, second, third = made[:3]
    Engagement.objects.filter(pk=first.pk).update(
        billing_status=BillingStatus.PAID,
        bonus_status=BonusStatus.PAID,
        commission_credit_usd=Decimal("10.5"),
        reviewed_at=now,
        completed_at=now,
    )
    Engagement.objects.filter(pk=second.pk).update(
        billing_status=BillingStatus.INVOICED,
        bonus_status=BonusStatus.NONE,
        cancel_requested_by=second.seeker.user,
        cancel_requested_at=now - timedelta(hours=3),
        cancel_reason="Changed plans",
        dispute_reason="The work was done",
        cancelled_at=now,
    )
    Engagement.objects.filter(pk=third.pk).update(confirmed_at=None, provider_bonus_pot=0, seeker_bonus_pot=0)
    return made


@pytest.mark.parametrize("zone", ZONES)
def test_engagement_rows_are_what_the_serializer_gives_each_side(zone, operator):
    made = _engagements_in_every_state()
    viewers = [made[0].seeker.user, made[0].provider.user, made[1].seeker.user, operator]
    for viewer in viewers:
        listed = selectors.engagement_list_for(user=viewer)
        with timezone.override(zone):
            fast = engagement_rows(listed)
            drf = EngagementSerializer(listed, many=True).data
        _same(fast, drf)
    every = engagement_rows(selectors.engagement_list_for(user=operator))
    assert {row["status"] for row in every} >= set(EngagementStatus.values)
    assert {row["bonus_status"] for row in every} >= set(BonusStatus.values)
    assert {row["billing_status"] for row in every} >= set(BillingStatus.values)
    assert {row["cancel_requested_by"] is None for row in every} == {True, False}


def test_the_engagements_api_answers_the_serializers_rows(django_assert_num_queries):
    made = _engagements_in_every_state()
    viewer = made[0].provider.user
    api = client_for(viewer)
    with django_assert_num_queries(2):  # token and user, page (short: it is the total)
        body = api.get("/api/v1/engagements/").json()
    listed = selectors.engagement_list_for(user=viewer)
    assert body["count"] == listed.count() == 1
    assert _json(body["results"]) == _json(EngagementSerializer(listed, many=True).data)
