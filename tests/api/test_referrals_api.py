"""`GET /api/v1/referrals/`: the people I referred; staff see everyone's, with filters."""

import pytest

from marketplace.models import Referral, ReferralStatus
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db

FIELDS = {
    "id",
    "referrer",
    "referred",
    "referred_name",
    "code",
    "status",
    "signed_up_at",
    "activated_at",
    "engaged_at",
    "activation_pot",
    "engagement_pot",
    "activation_award",
    "engagement_award",
}


def _referral(referrer, **fields) -> Referral:
    referred = UserFactory(referred_by=referrer)
    return Referral.objects.create(referrer=referrer, referred=referred, code=referrer.referral_code, **fields)


def test_a_person_lists_only_the_people_they_referred(user, other_user):
    mine = _referral(user)
    _referral(other_user)
    _referral(mine.referred)  # someone I referred who referred someone: not mine
    body = client_for(user).get("/api/v1/referrals/").json()
    assert body["count"] == 1
    [row] = body["results"]
    assert set(row) == FIELDS
    assert (row["id"], row["referrer"], row["referred"], row["status"]) == (
        mine.pk,
        user.pk,
        mine.referred_id,
        "signed_up",
    )
    assert (row["activation_pot"], row["engagement_pot"], row["activation_award"]) == (0, 0, None)


def test_the_referrer_filter_does_not_widen_what_a_person_sees(user, other_user):
    _referral(other_user)
    body = client_for(user).get(f"/api/v1/referrals/?referrer={other_user.pk}").json()
    assert body["count"] == 0


def test_staff_see_everyones_referrals_and_filter_them(operator, user, other_user):
    _referral(user)
    _referral(user, status=ReferralStatus.ACTIVATED)
    _referral(other_user)
    api = client_for(operator)
    assert api.get("/api/v1/referrals/").json()["count"] == 3
    assert api.get(f"/api/v1/referrals/?referrer={user.pk}").json()["count"] == 2
    assert api.get(f"/api/v1/referrals/?referrer={user.pk}&status=activated").json()["count"] == 1


@pytest.mark.parametrize("query", ["status=nonsense", "referrer=abc"])
def test_a_bad_filter_is_a_400_naming_the_field(operator, query):
    response = client_for(operator).get(f"/api/v1/referrals/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["fields"]


def test_an_unknown_referrer_is_an_empty_list(operator):
    assert client_for(operator).get("/api/v1/referrals/?referrer=999999").json()["count"] == 0


def test_the_list_query_count_does_not_grow_with_referrals(user, django_assert_max_num_queries):
    api = client_for(user)
    _referral(user)
    with django_assert_max_num_queries(10) as few:
        assert api.get("/api/v1/referrals/").status_code == 200
    for _ in range(5):
        _referral(user)
    with django_assert_max_num_queries(len(few)):
        assert api.get("/api/v1/referrals/").json()["count"] == 6


def test_anonymous_is_refused(api_client):
    assert api_client.get("/api/v1/referrals/").status_code == 401
