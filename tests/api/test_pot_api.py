"""The POT API: balance, history, rates, spend, redeem, redemptions, economy, adjustments."""

import json

import pytest
from rest_framework.renderers import JSONRenderer

from currency.api.serializers import SpendResultSerializer
from currency.ledger import ledger_atomic, ledger_post
from currency.models import PotTransaction, Purchase, Redemption, SpendOption, Wallet
from currency.services import SpendResult, pot_award, pot_award_reverse
from tests.conftest import client_for
from tests.currency.factories import balance_of, pot_fund, rows_of
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db

ECONOMY_KEYS = {
    "total_users",
    "users_with_pot",
    "participation_rate",
    "total_pot_in_circulation",
    "total_pot_earned_all_time",
    "total_pot_spent_all_time",
    "total_pot_burned_all_time",
    "burn_rate",
    "transactions_last_7_days",
}
DISPLAY_KEYS = {"participation_rate_display", "burn_rate_display"}


@pytest.fixture
def user(db):
    """Redeeming POT needs a verified email address."""
    return UserFactory(verified=True)


@pytest.fixture
def other_user(db):
    return UserFactory(verified=True)


@pytest.fixture
def provider_user(db):
    return UserFactory(account_type="provider")


@pytest.fixture
def provider_api(provider_user):
    return client_for(provider_user)


# --- Balance ----------------------------------------------------------------------------


def test_balance_of_a_new_user_is_zero(user_api, user):
    response = user_api.get("/api/v1/pot/balance/")
    assert response.status_code == 200
    assert response.json() == {
        "user_id": user.pk,
        "pot_balance": 0,
        "usd_value": "0.00",
        "spendable": 0,
        "redeemable": 0,
        "redeemable_usd": "0.00",
        "promotional": 0,
        "debt": 0,
        "paid_engagement": False,
        "email_verified": True,
        "not_redeemable_because": [],
        "level": {
            "number": 1,
            "name": "Newcomer",
            "lifetime_pot_earned": 0,
            "next_level": "Member",
            "next_level_at": 100,
        },
    }


def test_balance_shows_pot_usd_value_and_level(user_api, user):
    pot_award(user=user, rule_key="profile_creation_provider", cause="c1")
    pot_fund(user, 400)
    body = user_api.get("/api/v1/pot/balance/").json()
    assert body["pot_balance"] == 500 and body["usd_value"] == "400.00"
    assert body["level"]["name"] == "Member" and body["level"]["lifetime_pot_earned"] == 100


def test_balance_needs_authentication(api_client):
    assert api_client.get("/api/v1/pot/balance/").status_code == 401


def test_someone_elses_balance_is_refused_staff_may_read_it(user_api, operator_api, other_user, user):
    pot_fund(other_user, 70)
    response = user_api.get(f"/api/v1/pot/balance/?user={other_user.pk}")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert user_api.get(f"/api/v1/pot/balance/?user={user.pk}").status_code == 200
    assert operator_api.get(f"/api/v1/pot/balance/?user={other_user.pk}").json()["pot_balance"] == 70
    assert operator_api.get("/api/v1/pot/balance/?user=999999").status_code == 404
    assert operator_api.get("/api/v1/pot/balance/?user=abc").status_code == 400


# --- Transactions -----------------------------------------------------------------------


def test_transactions_newest_first_with_plain_reasons(user_api, user, other_user):
    pot_award(
        user=user, rule_key="rating_given", cause="rating_given:rating:1", reference_type="rating", reference_id=1
    )
    pot_fund(user, 300)
    pot_fund(other_user, 5)
    body = user_api.get("/api/v1/pot/transactions/").json()
    assert body["count"] == 2
    first, second = body["results"]
    assert (first["transaction_type"], first["amount"], first["balance_after"]) == ("adjust", 300, 310)
    assert (second["category"], second["reason"], second["reference_type"]) == (
        "rating_given",
        "Rating given",
        "rating",
    )
    assert second["effect"] is None


def test_transactions_filter_by_type_and_reason_and_paginate(user_api, user):
    for n in range(5):
        pot_award(user=user, rule_key="rating_given", cause=f"r{n}")
    pot_fund(user, 300)
    assert user_api.get("/api/v1/pot/transactions/?transaction_type=earn").json()["count"] == 5
    assert user_api.get("/api/v1/pot/transactions/?category=rating_given").json()["count"] == 5
    assert user_api.get("/api/v1/pot/transactions/?reason=adjustment").json()["count"] == 1
    page = user_api.get("/api/v1/pot/transactions/?limit=2&offset=2").json()
    assert page["count"] == 6 and len(page["results"]) == 2 and page["next"] and page["previous"]
    response = user_api.get("/api/v1/pot/transactions/?transaction_type=steal")
    assert response.status_code == 400 and "transaction_type" in response.json()["fields"]


def test_transactions_of_someone_else_are_refused_staff_see_all(user_api, operator_api, user, other_user):
    pot_fund(user, 1)
    pot_fund(other_user, 2)
    assert user_api.get(f"/api/v1/pot/transactions/?user={other_user.pk}").status_code == 403
    assert operator_api.get("/api/v1/pot/transactions/").json()["count"] == 2
    staff_view = operator_api.get(f"/api/v1/pot/transactions/?user={other_user.pk}").json()
    assert [row["amount"] for row in staff_view["results"]] == [2]


def test_transactions_list_query_count_does_not_grow(user_api, user, django_assert_max_num_queries):
    pot_fund(user, 10_000)
    for _ in range(15):
        user_api.post("/api/v1/pot/spend/", {"option": "extra_matches"}, format="json")
    with django_assert_max_num_queries(4):  # token, count, page (rows + purchases joined)
        response = user_api.get("/api/v1/pot/transactions/?limit=50")
    assert len(response.json()["results"]) == 16


# --- Rates ------------------------------------------------------------------------------


def test_rates_list_rules_options_and_usd_rate(api_client, django_assert_max_num_queries):
    SpendOption.objects.filter(key="commission_credit").update(active=False)
    with django_assert_max_num_queries(2):
        body = api_client.get("/api/v1/pot/rates/").json()
    assert body["usd_rate"] == "0.8000" and body["min_redemption"] == 500
    rules = {rule["key"]: rule for rule in body["earning_rules"]}
    assert rules["profile_creation_seeker"]["amount"] == 50
    assert rules["engagement_bonus_provider"]["percent_of_deal_value"] == "5.00"
    # Pro is listed with its price (bought at /api/v1/pot/pro/purchase/); an article unlock is priced per article
    assert [option["key"] for option in body["spend_options"]] == ["extra_matches", "profile_boost", "pro_monthly"]


# --- Spend ------------------------------------------------------------------------------


def test_spend_burns_pot_and_records_the_effect(provider_api, provider_user):
    pot_fund(provider_user, 1000)
    response = provider_api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["balance_after"] == 800
    assert body["transaction"]["transaction_type"] == "spend" and body["transaction"]["amount"] == -200
    assert body["effect"]["effect"] == "profile_boost" and body["effect"]["ends_at"]
    assert balance_of(provider_user) == 800
    history = provider_api.get("/api/v1/pot/transactions/?transaction_type=spend").json()["results"]
    assert history[0]["effect"]["effect"] == "profile_boost"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"option": "no_such_option"}, 400, "unknown_option"),
        ({"option": "extra_matches"}, 400, "wrong_audience"),  # a seeker option, asked by a provider
        ({"option": "profile_boost", "expected_cost": 150}, 409, "price_changed"),
        ({}, 400, "invalid"),
        ({"option": ""}, 400, "invalid"),
        ({"option": "profile_boost", "expected_cost": "lots"}, 400, "invalid"),
    ],
)
def test_spend_refusals_write_nothing(provider_api, provider_user, payload, status, code):
    pot_fund(provider_user, 1000)
    response = provider_api.post("/api/v1/pot/spend/", payload, format="json")
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert balance_of(provider_user) == 1000 and len(rows_of(provider_user)) == 1
    assert not Purchase.objects.exists()


def test_spend_more_than_the_balance_is_refused(provider_api, provider_user):
    pot_fund(provider_user, 199)
    response = provider_api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "insufficient_pot"
    assert balance_of(provider_user) == 199


def test_inactive_option_is_refused(provider_api, provider_user):
    pot_fund(provider_user, 1000)
    SpendOption.objects.filter(key="profile_boost").update(active=False)
    response = provider_api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "unknown_option"


def test_a_spend_answers_what_the_serializer_gives_for_the_stored_row_first_and_replayed(provider_api, provider_user):
    pot_fund(provider_user, 1000)
    headers = {"HTTP_IDEMPOTENCY_KEY": "spend-shape-1"}
    first = provider_api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json", **headers)
    retry = provider_api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json", **headers)
    row = PotTransaction.objects.select_related("purchase").get(idempotency_key__endswith="spend-shape-1")
    stored = json.loads(JSONRenderer().render(SpendResultSerializer(SpendResult(row, row.purchase)).data))
    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json() == stored


def test_spend_retry_with_same_key_returns_first_result_and_charges_once(provider_api, provider_user):
    pot_fund(provider_user, 1000)
    headers = {"HTTP_IDEMPOTENCY_KEY": "spend-abc-1"}
    first = provider_api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json", **headers)
    retry = provider_api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json", **headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert balance_of(provider_user) == 800 and Purchase.objects.count() == 1


def test_spend_retry_after_the_balance_ran_out_still_returns_the_first_result(provider_api, provider_user):
    pot_fund(provider_user, 200)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k"}
    first = provider_api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json", **headers)
    retry = provider_api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json", **headers)
    assert retry.status_code == 201 and retry.json() == first.json()
    assert balance_of(provider_user) == 0


def test_same_key_with_a_different_body_is_a_conflict(provider_api, provider_user):
    pot_fund(provider_user, 1000)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-2"}
    provider_api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json", **headers)
    response = provider_api.post("/api/v1/pot/spend/", {"option": "commission_credit"}, format="json", **headers)
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_reused"
    assert balance_of(provider_user) == 800


def test_the_same_key_from_two_people_is_two_requests(provider_user):
    other = UserFactory(account_type="provider")
    for person in (provider_user, other):
        pot_fund(person, 1000)
        response = client_for(person).post(
            "/api/v1/pot/spend/", {"option": "profile_boost"}, format="json", HTTP_IDEMPOTENCY_KEY="same"
        )
        assert response.status_code == 201
        assert balance_of(person) == 800


def test_an_overlong_idempotency_key_is_refused(provider_api, provider_user):
    pot_fund(provider_user, 1000)
    response = provider_api.post(
        "/api/v1/pot/spend/", {"option": "profile_boost"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 121
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"


# --- Redeem and redemptions -----------------------------------------------------------


def test_redeem_holds_pot_at_once(user_api, user):
    pot_fund(user, 800)
    response = user_api.post(
        "/api/v1/pot/redeem/", {"pot_amount": 500, "payment_method": "PayPal me@x.io"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["pot_amount"], body["usd_amount"], body["status"]) == (500, "400.00", "pending")
    assert balance_of(user) == 300
    held = rows_of(user)[-1]
    assert (held.transaction_type, held.amount, held.reference_type, held.reference_id) == (
        "redeem",
        -500,
        "redemption",
        body["id"],
    )


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"pot_amount": 499, "payment_method": "PayPal"}, "below_minimum", "pot_amount"),
        ({"pot_amount": 0, "payment_method": "PayPal"}, "invalid", "pot_amount"),
        ({"pot_amount": -600, "payment_method": "PayPal"}, "invalid", "pot_amount"),
        ({"pot_amount": 600.5, "payment_method": "PayPal"}, "invalid", "pot_amount"),
        ({"pot_amount": "six hundred", "payment_method": "PayPal"}, "invalid", "pot_amount"),
        ({"pot_amount": 600}, "invalid", "payment_method"),
        ({"pot_amount": 600, "payment_method": "   "}, "invalid", "payment_method"),
        ({"pot_amount": 1001, "payment_method": "PayPal"}, "insufficient_pot", "amount"),
    ],
)
def test_redeem_refusals_write_nothing(user_api, user, payload, code, field):
    pot_fund(user, 1000)
    response = user_api.post("/api/v1/pot/redeem/", payload, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code and field in response.json()["fields"]
    assert balance_of(user) == 1000 and not Redemption.objects.exists()


def test_redeem_retry_with_same_key_holds_once_and_different_body_conflicts(user_api, user):
    pot_fund(user, 2000)
    payload = {"pot_amount": 600, "payment_method": "PayPal me@x.io"}
    first = user_api.post("/api/v1/pot/redeem/", payload, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    retry = user_api.post("/api/v1/pot/redeem/", payload, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert retry.status_code == 201 and retry.json() == first.json()
    assert Redemption.objects.count() == 1 and balance_of(user) == 1400
    other = user_api.post(
        "/api/v1/pot/redeem/", {**payload, "pot_amount": 700}, format="json", HTTP_IDEMPOTENCY_KEY="r-1"
    )
    assert other.status_code == 409
    assert Redemption.objects.count() == 1 and balance_of(user) == 1400


def test_redemptions_list_own_only_staff_all(user_api, operator_api, user, other_user):
    for person in (user, other_user):
        pot_fund(person, 600)
        client_for(person).post("/api/v1/pot/redeem/", {"pot_amount": 500, "payment_method": "x"}, format="json")
    mine = user_api.get("/api/v1/pot/redemptions/").json()
    assert mine["count"] == 1 and mine["results"][0]["user"] == user.pk
    theirs = Redemption.objects.get(user=other_user)
    assert user_api.get(f"/api/v1/pot/redemptions/{theirs.pk}/").status_code == 404
    assert user_api.get(f"/api/v1/pot/redemptions/?user={other_user.pk}").status_code == 403
    assert operator_api.get("/api/v1/pot/redemptions/?status=pending").json()["count"] == 2
    assert operator_api.get(f"/api/v1/pot/redemptions/?user={other_user.pk}").json()["count"] == 1


def test_redemptions_list_query_count(operator_api, django_assert_max_num_queries):
    for _ in range(8):
        person = UserFactory(verified=True)
        pot_fund(person, 500)
        client_for(person).post("/api/v1/pot/redeem/", {"pot_amount": 500, "payment_method": "x"}, format="json")
    with django_assert_max_num_queries(3):
        assert operator_api.get("/api/v1/pot/redemptions/").json()["count"] == 8


def _pending_redemption(person, amount=500) -> int:
    pot_fund(person, amount)
    response = client_for(person).post(
        "/api/v1/pot/redeem/", {"pot_amount": amount, "payment_method": "PayPal"}, format="json"
    )
    return response.json()["id"]


def test_staff_approve_once(operator_api, operator, user):
    redemption_id = _pending_redemption(user)
    url = f"/api/v1/pot/redemptions/{redemption_id}/approve/"
    response = operator_api.post(url, {"payout_reference": "PP-123"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["payout_reference"]) == ("approved", "PP-123")
    assert response.json()["decided_by"] == operator.pk
    again = operator_api.post(url, {"payout_reference": "PP-124"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    reject = operator_api.post(f"/api/v1/pot/redemptions/{redemption_id}/reject/", {"reason": "x"}, format="json")
    assert reject.status_code == 409
    assert balance_of(user) == 0


def test_staff_reject_returns_the_pot_once(operator_api, user):
    redemption_id = _pending_redemption(user, 600)
    url = f"/api/v1/pot/redemptions/{redemption_id}/reject/"
    response = operator_api.post(url, {"reason": "Payment details invalid"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert balance_of(user) == 600
    refund = rows_of(user)[-1]
    assert (refund.transaction_type, refund.amount, refund.reference_id) == ("refund", 600, redemption_id)
    assert operator_api.post(url, {"reason": "again"}, format="json").status_code == 409
    assert balance_of(user) == 600


def test_deciding_needs_staff_and_input(user_api, operator_api, user):
    redemption_id = _pending_redemption(user)
    assert (
        user_api.post(f"/api/v1/pot/redemptions/{redemption_id}/approve/", {"payout_reference": "x"}).status_code == 403
    )
    assert user_api.post(f"/api/v1/pot/redemptions/{redemption_id}/reject/", {"reason": "x"}).status_code == 403
    missing = operator_api.post(f"/api/v1/pot/redemptions/{redemption_id}/approve/", {}, format="json")
    assert missing.status_code == 400 and "payout_reference" in missing.json()["fields"]
    assert operator_api.post("/api/v1/pot/redemptions/999999/approve/", {"payout_reference": "x"}).status_code == 404
    assert Redemption.objects.get(pk=redemption_id).status == "pending"


# --- Economy ----------------------------------------------------------------------------


def test_economy_has_exactly_the_design_statistics(operator_api, user, other_user):
    provider = UserFactory(account_type="provider")
    pot_award(user=user, rule_key="profile_creation_seeker", cause="a")  # 50
    pot_award(user=provider, rule_key="profile_creation_provider", cause="b")  # 100
    pot_fund(provider, 300)
    client_for(provider).post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json")  # -200
    response = operator_api.get("/api/v1/pot/economy/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == ECONOMY_KEYS | DISPLAY_KEYS
    assert body["total_users"] == 3  # user, other_user, provider: the operator's staff account is not counted
    assert body["users_with_pot"] == 2
    assert body["participation_rate"] == round(2 / 3, 4)
    assert body["participation_rate_display"] == "66.7%"
    assert body["total_pot_in_circulation"] == 250
    assert body["total_pot_earned_all_time"] == 150
    assert body["total_pot_spent_all_time"] == 200
    assert body["total_pot_burned_all_time"] == 200
    assert body["burn_rate"] == 1.0  # burned / spent, as the plan's example (2,500 / 2,500 = "100.0%")
    assert body["burn_rate_display"] == "100.0%"
    assert body["transactions_last_7_days"] == 4


def test_burned_is_spent_less_what_was_passed_on_and_never_counts_awards_taken_back(operator_api):
    reader, author = UserFactory(verified=True), UserFactory(account_type="provider")
    pot_fund(reader, 300)
    client_for(reader).post("/api/v1/pot/spend/", {"option": "extra_matches"}, format="json")  # -100
    # A premium article's unlock passes part of the spend on to its author (library app): an earn row.
    ledger_atomic(ledger_post)(user_id=author.pk, amount=40, transaction_type="earn", category="content_author_share")
    pot_award(user=author, rule_key="profile_creation_provider", cause="author-profile")
    pot_award_reverse(cause="author-profile", reason="test")  # taken back: leaves circulation, is not spending
    body = operator_api.get("/api/v1/pot/economy/").json()
    assert (body["total_pot_spent_all_time"], body["total_pot_burned_all_time"]) == (100, 60)
    assert (body["burn_rate"], body["burn_rate_display"]) == (0.6, "60.0%")


def test_economy_counts_no_staff_and_reads_zero_without_users(operator_api, operator):
    pot_fund(operator, 50)  # an operator's own POT: in circulation, but the operator is no marketplace user
    body = operator_api.get("/api/v1/pot/economy/").json()
    assert (body["total_users"], body["users_with_pot"], body["participation_rate"]) == (0, 0, 0.0)
    assert (body["participation_rate_display"], body["burn_rate"], body["burn_rate_display"]) == ("0.0%", 0.0, "0.0%")
    assert body["total_pot_in_circulation"] == 50


def test_economy_schema_documents_each_statistic(operator_api):
    schema = operator_api.get("/api/v1/schema/?format=json").json()
    properties = schema["components"]["schemas"]["Economy"]["properties"]
    assert set(properties) == ECONOMY_KEYS | DISPLAY_KEYS
    assert all(properties[name].get("description") for name in properties)
    assert "burned" in properties["burn_rate"]["description"] and properties["participation_rate"]["maximum"] == 1


def test_economy_is_staff_only(user_api, api_client):
    assert user_api.get("/api/v1/pot/economy/").status_code == 403
    assert api_client.get("/api/v1/pot/economy/").status_code == 401


# --- Adjustments ------------------------------------------------------------------------


def test_staff_adjustment_is_an_adjust_row_with_operator_and_reason(operator_api, operator, user):
    response = operator_api.post(
        "/api/v1/pot/adjustments/", {"user": user.pk, "amount": 120, "reason": "Missed award, ticket 42"}, format="json"
    )
    assert response.status_code == 201, response.json()
    row = PotTransaction.objects.get(pk=response.json()["id"])
    assert (row.transaction_type, row.amount, row.actor_id, row.note) == (
        "adjust",
        120,
        operator.pk,
        "Missed award, ticket 42",
    )
    assert response.json()["reason"] == "Correction by an operator: Missed award, ticket 42"
    down = operator_api.post(
        "/api/v1/pot/adjustments/", {"user": user.pk, "amount": -20, "reason": "Typo"}, format="json"
    )
    assert down.status_code == 201 and balance_of(user) == 100


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"amount": -101, "reason": "too much"}, 400, "insufficient_pot"),
        ({"amount": 0, "reason": "nothing"}, 400, "invalid"),
        ({"amount": 10}, 400, "invalid"),
        ({"amount": 10, "reason": "  "}, 400, "invalid"),
        ({"amount": 1.5, "reason": "half"}, 400, "invalid"),
        ({"amount": 10, "reason": "x", "user": 999999}, 404, "not_found"),
    ],
)
def test_adjustment_refusals(operator_api, user, payload, status, code):
    pot_fund(user, 100)
    response = operator_api.post("/api/v1/pot/adjustments/", {"user": user.pk, **payload}, format="json")
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert balance_of(user) == 100 and len(rows_of(user)) == 1


def test_adjustment_is_staff_only(user_api, user):
    response = user_api.post(
        "/api/v1/pot/adjustments/", {"user": user.pk, "amount": 1000, "reason": "me"}, format="json"
    )
    assert response.status_code == 403
    assert balance_of(user) == 0 and not Wallet.objects.filter(user=user).exists()


def test_adjustment_retry_with_same_key_posts_once(operator_api, user):
    payload = {"user": user.pk, "amount": 50, "reason": "Goodwill"}
    first = operator_api.post("/api/v1/pot/adjustments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="adj-1")
    retry = operator_api.post("/api/v1/pot/adjustments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="adj-1")
    assert first.json()["id"] == retry.json()["id"] and balance_of(user) == 50


def test_schema_documents_the_pot_endpoints(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    for path in ("/api/v1/pot/balance/", "/api/v1/pot/spend/", "/api/v1/pot/redemptions/{id}/approve/"):
        assert path in schema["paths"]
