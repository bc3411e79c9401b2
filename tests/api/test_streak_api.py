"""GET /api/v1/pot/streak/: the person's own streak, its next bonus and what counts; pinned queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from imatch.weeks import calendar_week, calendar_week_start
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider
from tests.marketplace.test_streaks import streak_weeks

pytestmark = pytest.mark.django_db
WEEK = timedelta(days=7)


def test_anonymous_is_refused(api_client):
    response = api_client.get("/api/v1/pot/streak/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_a_newcomer_has_no_streak_and_the_first_bonus_ahead(user_api):
    body = user_api.get("/api/v1/pot/streak/").json()
    this_week = calendar_week(timezone.now())
    assert body["weeks"] == 0 and body["started_on"] is None and body["at_risk"] is False
    assert body["next_bonus"]["weeks"] == 4 and body["next_bonus"]["pot"] == 50
    assert body["next_bonus"]["week_starts_at"].startswith((this_week + WEEK * 3).isoformat())
    assert body["ways"] == ["Rate the other side of an engagement"]


def test_a_provider_sees_their_own_streak_in_three_queries_and_two_for_the_rules(django_assert_num_queries):
    category = make_category()
    provider = make_provider(category)
    streak_weeks(category, provider, [1, 2, 3])
    api = client_for(provider.user)
    with django_assert_num_queries(6):  # the token's user, the three facts, the rules and options (not kept in tests)
        body = api.get("/api/v1/pot/streak/").json()
    this_week = calendar_week(timezone.now())
    assert body["weeks"] == 3 and body["at_risk"] is True and body["done_this_week"] is False
    assert body["started_on"] == (this_week - WEEK * 3).isoformat()
    assert body["next_bonus"]["weeks"] == 4
    assert body["week_ends_at"].startswith(calendar_week_start(this_week + WEEK).date().isoformat())
    assert any("24 hours" in way for way in body["ways"])
    # Someone else sees their own (empty) streak, never this one.
    assert client_for(UserFactory()).get("/api/v1/pot/streak/").json()["weeks"] == 0
