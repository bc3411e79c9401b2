"""Logged-in reads stay cheap (issue 11, bench/request_cost.py): the token and its user in one
query, the lists of matches and engagements joined only to what they show, sessions read from
the shared cache, and each list still only the person's own rows."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from currency.models import PotTransaction
from currency.services import pot_adjust
from marketplace.models import Match
from marketplace.services import matches
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import confirmed_engagement, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


def _page_query(context: CaptureQueriesContext, table: str) -> str:
    found = [q["sql"] for q in context.captured_queries if q["sql"].startswith(f'SELECT "{table}"."id"')]
    assert len(found) == 1, [q["sql"][:120] for q in context.captured_queries]
    return found[0]


def test_the_match_and_engagement_lists_join_only_what_they_show(django_assert_num_queries):
    someone_else = confirmed_engagement(category=make_category(name="other", display_name="Other"))  # never listed
    engagement = confirmed_engagement()
    category = engagement.category
    seeker = engagement.seeker
    for _ in range(3):
        make_provider(category)
    matches.match_run_for_seeker(seeker=seeker)
    api = client_for(seeker.user)

    with django_assert_num_queries(2) as listed:  # token and user, page (a short page is the total: no count)
        body = api.get("/api/v1/engagements/").json()
    assert [row["id"] for row in body["results"]] == [engagement.pk]
    assert body["results"][0]["category"] == category.name
    assert body["results"][0]["seeker_name"] == seeker.user.name
    sql = _page_query(listed, "engagements")
    assert 'JOIN "categories"' not in sql and sql.count("JOIN") == 3  # seeker, its user, provider

    with django_assert_num_queries(2) as listed:
        body = api.get("/api/v1/matches/").json()
    assert body["count"] == Match.objects.filter(seeker=seeker).count() > 1
    assert someone_else.match_id not in {row["id"] for row in body["results"]}
    assert {row["category"] for row in body["results"]} == {category.name}
    sql = _page_query(listed, "matches")
    assert 'JOIN "categories"' not in sql and sql.count("JOIN") == 4  # both sides and their users


def test_a_provider_lists_only_introduced_matches(django_assert_num_queries):
    category = make_category()
    provider = make_provider(category)
    seeker = make_seeker(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    api = client_for(provider.user)
    assert api.get("/api/v1/matches/").json()["count"] == 0  # a suggestion is the seeker's private shortlist
    matches.match_introduce(match=match, user=seeker.user)
    assert [row["id"] for row in api.get("/api/v1/matches/").json()["results"]] == [match.pk]


def test_a_token_call_reads_its_token_and_user_in_one_query(django_assert_num_queries, operator):
    user = UserFactory()
    pot_adjust(user=user, operator=operator, amount=50, reason="test")
    api = client_for(user)
    with django_assert_num_queries(2):  # token with its user, wallet
        body = api.get("/api/v1/pot/balance/").json()
    assert body["user_id"] == user.pk and body["pot_balance"] == 50
    assert PotTransaction.objects.filter(user=user).count() == 1


def test_a_logged_in_page_reads_its_session_from_the_cache():
    browser = Client()
    browser.force_login(UserFactory())
    browser.get("/wallet/")
    with CaptureQueriesContext(connection) as pages:
        assert browser.get("/wallet/").status_code == 200
    assert not [q for q in pages.captured_queries if "django_session" in q["sql"]]
