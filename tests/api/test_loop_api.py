"""The core loop through the API: matching, matches, engagements, ratings; refusals and query counts."""

import pytest

from currency.models import PotTransaction
from marketplace.models import Engagement, EngagementStatus, Match, MatchStatus, Rating
from marketplace.services import engagements, matches
from tests.conftest import client_for
from tests.currency.factories import balance_of
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import accepted_match, confirmed_engagement, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


@pytest.fixture
def category():
    return make_category()


@pytest.fixture
def seeker(category):
    return make_seeker(category)


def test_matching_a_seeker_answers_with_scored_matches(category, seeker):
    providers = [make_provider(category) for _ in range(4)]
    api = client_for(seeker.user)

    response = api.post(f"/api/v1/seekers/{seeker.pk}/match/")

    assert response.status_code == 201, response.json()
    body = response.json()["matches"]
    assert len(body) == 3
    first = body[0]
    assert set(first) >= {"id", "provider", "score", "rank", "reasons", "breakdown", "status", "featured"}
    assert first["provider"]["id"] in {p.pk for p in providers}
    assert 0 < float(first["score"]) <= 1 and first["rank"] == 1
    assert "Specializes in retirement planning" in first["reasons"]
    assert first["contact"] is None  # no contact before the introduction
    again = api.post(f"/api/v1/seekers/{seeker.pk}/match/")
    assert again.status_code == 200 and [m["id"] for m in again.json()["matches"]] == [m["id"] for m in body]


def test_nobody_matches_someone_else_s_seeker_profile(seeker, other_user):
    response = client_for(other_user).post(f"/api/v1/seekers/{seeker.pk}/match/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not Match.objects.exists()


def test_matching_needs_a_login(api_client, seeker):
    assert api_client.post(f"/api/v1/seekers/{seeker.pk}/match/").status_code == 401


@pytest.fixture
def suggested(category, seeker):
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    return match


def test_a_provider_sees_a_match_only_once_introduced(suggested, operator):
    provider_api = client_for(suggested.provider.user)
    assert provider_api.get("/api/v1/matches/").json()["count"] == 0
    assert provider_api.get(f"/api/v1/matches/{suggested.pk}/").status_code == 404
    assert provider_api.post(f"/api/v1/matches/{suggested.pk}/introduce/").status_code == 404
    assert client_for(UserFactory()).get(f"/api/v1/matches/{suggested.pk}/").status_code == 404
    assert client_for(operator).get(f"/api/v1/matches/{suggested.pk}/").status_code == 200

    seeker_api = client_for(suggested.seeker.user)
    response = seeker_api.post(f"/api/v1/matches/{suggested.pk}/introduce/")
    assert response.status_code == 200 and response.json()["status"] == "introduced"
    assert response.json()["contact"] is None  # emails are shared once the provider accepts
    lead = provider_api.get(f"/api/v1/matches/{suggested.pk}/").json()
    assert lead["contact"] is None
    assert lead["seeker"]["needs_description"] == suggested.seeker.needs_description

    accepted = provider_api.post(f"/api/v1/matches/{suggested.pk}/accept/").json()
    assert accepted["contact"] == suggested.seeker.user.email
    assert seeker_api.get(f"/api/v1/matches/{suggested.pk}/").json()["contact"] == suggested.provider.user.email


def test_each_action_belongs_to_its_side(suggested):
    seeker_api, provider_api = client_for(suggested.seeker.user), client_for(suggested.provider.user)
    early = client_for(suggested.provider.user).post(f"/api/v1/matches/{suggested.pk}/accept/")
    assert early.status_code == 404  # not introduced yet: the provider does not know of it
    seeker_api.post(f"/api/v1/matches/{suggested.pk}/introduce/")
    refused = seeker_api.post(f"/api/v1/matches/{suggested.pk}/accept/")
    assert refused.status_code == 403 and refused.json()["code"] == "wrong_side"
    again = seeker_api.post(f"/api/v1/matches/{suggested.pk}/introduce/")
    assert again.status_code == 400 and again.json()["code"] == "invalid_transition"
    response = provider_api.post(f"/api/v1/matches/{suggested.pk}/accept/")
    assert response.status_code == 200 and response.json()["status"] == "accepted"


def test_decline_with_a_reason(suggested):
    api = client_for(suggested.seeker.user)
    response = api.post(f"/api/v1/matches/{suggested.pk}/decline/", {"reason": "Too far"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "declined" and response.json()["decline_reason"] == "Too far"
    long = api.post(f"/api/v1/matches/{suggested.pk}/decline/", {"reason": "x" * 1001}, format="json")
    assert long.status_code == 400 and "reason" in long.json()["fields"]


def test_matches_list_query_count_does_not_grow(category, seeker, django_assert_max_num_queries):
    for _ in range(3):
        make_provider(category)
    matches.match_run_for_seeker(seeker=seeker)
    api = client_for(seeker.user)
    with django_assert_max_num_queries(3):  # token, count, page (match + seeker + provider + users joined)
        assert api.get("/api/v1/matches/").json()["count"] == 3
    other = make_seeker(make_category(name="more", display_name="More"), user=seeker.user)
    for _ in range(3):
        make_provider(other.category)
    matches.match_run_for_seeker(seeker=other)
    with django_assert_max_num_queries(3):
        assert api.get("/api/v1/matches/").json()["count"] == 6


# --- Engagements ----------------------------------------------------------------------


@pytest.fixture
def accepted(category):
    return accepted_match(category)


@pytest.mark.parametrize("value", ["-5", "0", "abc", "NaN", "12.345", ""])
def test_a_bad_deal_value_is_a_400_and_writes_nothing(accepted, value):
    api = client_for(accepted.seeker.user)
    response = api.post(f"/api/v1/matches/{accepted.pk}/engagement/", {"deal_value_usd": value}, format="json")
    assert response.status_code == 400, response.json()
    assert "deal_value_usd" in response.json()["fields"]
    assert not Engagement.objects.exists()


def test_report_confirm_complete_through_the_api_pays_the_bonuses_with_the_commission(accepted, operator):
    seeker_api, provider_api = client_for(accepted.seeker.user), client_for(accepted.provider.user)
    response = seeker_api.post(
        f"/api/v1/matches/{accepted.pk}/engagement/", {"deal_value_usd": "1200.00"}, format="json"
    )
    assert response.status_code == 201, response.json()
    engagement = response.json()
    assert engagement["status"] == "reported" and engagement["commission_usd"] == "240.00"
    url = f"/api/v1/engagements/{engagement['id']}/"

    own = seeker_api.post(url + "confirm/")
    assert own.status_code == 403 and own.json()["code"] == "wrong_side"
    assert client_for(UserFactory()).post(url + "confirm/").status_code == 404
    before = balance_of(accepted.provider.user)

    confirmed = provider_api.post(url + "confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    body = confirmed.json()
    assert body["bonus_status"] == "pending" and body["pending_bonus_pot"] == 160  # 60 (5% of 1,200) + 100
    assert (body["provider_bonus_pot"], body["seeker_bonus_pot"]) == (60, 100)
    retried = provider_api.post(url + "confirm/")
    assert retried.status_code == 400 and retried.json()["code"] == "invalid_transition"
    assert balance_of(accepted.provider.user) == before  # nothing before the commission is paid
    assert not PotTransaction.objects.filter(reference_type="engagement", reference_id=engagement["id"]).exists()

    completed = seeker_api.post(url + "complete/")
    assert completed.status_code == 200 and completed.json()["status"] == "completed"

    stored = Engagement.objects.get(pk=engagement["id"])
    engagements.engagement_mark_invoiced(engagement=stored, operator=operator)
    engagements.engagement_mark_paid(engagement=stored, operator=operator)
    body = provider_api.get(url).json()
    assert body["bonus_status"] == "paid" and body["pending_bonus_pot"] == 0
    assert balance_of(accepted.provider.user) - before == 60
    bonuses = PotTransaction.objects.filter(
        reference_type="engagement", reference_id=engagement["id"], category="engagement_bonus"
    )
    assert bonuses.count() == 2


def test_a_reported_engagement_is_cancelled_by_one_side():
    match = accepted_match()
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="1000")
    api = client_for(engagement.provider.user)
    response = api.post(f"/api/v1/engagements/{engagement.pk}/cancel/", {"reason": "Client moved"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["commission_usd"] == "0.00"
    assert response.json()["bonus_status"] == "none"
    again = api.post(f"/api/v1/engagements/{engagement.pk}/cancel/", {"reason": "again"}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "invalid_transition"


def test_after_confirmation_a_cancel_is_a_request_the_other_side_agrees_to():
    engagement = confirmed_engagement("1000.00")
    provider_api, seeker_api = client_for(engagement.provider.user), client_for(engagement.seeker.user)
    url = f"/api/v1/engagements/{engagement.pk}/"

    no_reason = provider_api.post(url + "cancel/", {}, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "required"
    requested = provider_api.post(url + "cancel/", {"reason": "Client moved"}, format="json")
    assert requested.status_code == 200, requested.json()
    assert requested.json()["status"] == "cancel_requested"
    assert requested.json()["cancel_requested_by"] == engagement.provider.user_id
    alone = provider_api.post(url + "cancel/", {"reason": "please"}, format="json")
    assert alone.status_code == 400 and alone.json()["code"] == "invalid_transition"
    own_dispute = provider_api.post(url + "dispute/", {"reason": "no"}, format="json")
    assert own_dispute.status_code == 403 and own_dispute.json()["code"] == "wrong_side"

    agreed = seeker_api.post(url + "cancel/", {}, format="json")
    assert agreed.status_code == 200 and agreed.json()["status"] == "cancelled"
    assert agreed.json()["commission_usd"] == "0.00"


def test_the_other_side_disputes_a_cancellation_and_an_operator_decides(operator):
    engagement = confirmed_engagement("1000.00")
    provider_api, seeker_api = client_for(engagement.provider.user), client_for(engagement.seeker.user)
    url = f"/api/v1/engagements/{engagement.pk}/"
    premature = seeker_api.post(url + "dispute/", {"reason": "It stands"}, format="json")
    assert premature.status_code == 400 and premature.json()["code"] == "invalid_transition"
    provider_api.post(url + "cancel/", {"reason": "Client moved"}, format="json")

    blank = seeker_api.post(url + "dispute/", {"reason": ""}, format="json")
    assert blank.status_code == 400
    assert client_for(UserFactory()).post(url + "dispute/", {"reason": "x"}, format="json").status_code == 404
    disputed = seeker_api.post(url + "dispute/", {"reason": "The work started"}, format="json")
    assert disputed.status_code == 200, disputed.json()
    assert disputed.json()["status"] == "disputed" and disputed.json()["dispute_reason"] == "The work started"
    assert provider_api.post(url + "cancel/", {"reason": "again"}, format="json").status_code == 400

    engagements.engagement_dispute_resolve(engagement=engagement, operator=operator, cancel=False, note="Work done")
    assert seeker_api.get(url).json()["status"] == "confirmed"


def test_engagements_are_seen_by_their_two_sides_and_staff(operator):
    engagement = confirmed_engagement()
    for user, visible in ((engagement.seeker.user, 1), (engagement.provider.user, 1), (UserFactory(), 0)):
        assert client_for(user).get("/api/v1/engagements/").json()["count"] == visible
    assert client_for(UserFactory()).get(f"/api/v1/engagements/{engagement.pk}/").status_code == 404
    assert client_for(operator).get(f"/api/v1/engagements/{engagement.pk}/").status_code == 200


def test_engagements_list_query_count_does_not_grow(category, django_assert_max_num_queries):
    provider = make_provider(category)
    for _ in range(4):
        seeker = make_seeker(category)
        [match] = matches.match_run_for_seeker(seeker=seeker)
        matches.match_introduce(match=match, user=seeker.user)
        matches.match_accept(match=match, user=provider.user)
        engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="100")
    api = client_for(provider.user)
    with django_assert_max_num_queries(3):  # token, count, page (sides, users, category joined)
        assert api.get("/api/v1/engagements/").json()["count"] == 4


# --- Ratings --------------------------------------------------------------------------


def test_rate_once_after_confirmation():
    engagement = confirmed_engagement()
    api = client_for(engagement.seeker.user)
    payload = {"engagement": engagement.pk, "stars": 5, "review": "Great"}
    response = api.post("/api/v1/ratings/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["rated"] == engagement.provider.user_id and response.json()["rated_role"] == "provider"
    twice = api.post("/api/v1/ratings/", payload, format="json")
    assert twice.status_code == 400 and twice.json()["code"] == "already_rated"
    assert Rating.objects.count() == 1
    provider_view = client_for(engagement.provider.user).get("/api/v1/ratings/").json()
    assert provider_view["count"] == 1


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"engagement": 999999, "stars": 5}, 404),
        ({"engagement": "x", "stars": 5}, 400),
        ({"stars": 5}, 400),
        ({"engagement": None, "stars": 6}, 400),
    ],
)
def test_rating_refusals(payload, status):
    engagement = confirmed_engagement()
    if payload.get("engagement") is None and "engagement" in payload:
        payload = {**payload, "engagement": engagement.pk}
    response = client_for(engagement.seeker.user).post("/api/v1/ratings/", payload, format="json")
    assert response.status_code == status, response.json()
    assert not Rating.objects.exists()


def test_no_rating_without_a_confirmed_engagement_or_by_a_stranger(accepted):
    reported = engagements.engagement_report(match=accepted, user=accepted.seeker.user, deal_value_usd="100")
    payload = {"engagement": reported.pk, "stars": 4}
    early = client_for(accepted.seeker.user).post("/api/v1/ratings/", payload, format="json")
    assert early.status_code == 400 and early.json()["code"] == "invalid_transition"
    engagements.engagement_confirm(engagement=reported, user=accepted.provider.user)
    stranger = client_for(UserFactory()).post("/api/v1/ratings/", payload, format="json")
    assert stranger.status_code == 404
    assert not Rating.objects.exists()
    assert Engagement.objects.get(pk=reported.pk).status == EngagementStatus.CONFIRMED


def test_status_filter_on_matches(suggested):
    api = client_for(suggested.seeker.user)
    assert api.get("/api/v1/matches/?status=suggested").json()["count"] == 1
    assert api.get(f"/api/v1/matches/?status={MatchStatus.ACCEPTED}").json()["count"] == 0


def test_ratings_list_query_count_does_not_grow(category, django_assert_max_num_queries):
    provider = make_provider(category)
    for _ in range(3):
        seeker = make_seeker(category)
        [match] = matches.match_run_for_seeker(seeker=seeker)
        matches.match_introduce(match=match, user=seeker.user)
        matches.match_accept(match=match, user=provider.user)
        engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="100")
        engagements.engagement_confirm(engagement=engagement, user=provider.user)
        client_for(seeker.user).post("/api/v1/ratings/", {"engagement": engagement.pk, "stars": 4}, format="json")
    api = client_for(provider.user)
    with django_assert_max_num_queries(3):
        assert api.get("/api/v1/ratings/").json()["count"] == 3
