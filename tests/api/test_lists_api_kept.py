"""The lists of matches and engagements kept per person (`imatch.person_cache`, `Scope.MATCHES`).

The kept pages must be the bytes today's code writes, for the seeker and the provider, with
filters and on a second page; a hit makes only the token query; and after each kind of write
(by the services, on either side) the list shows it. The tests read with `PERSON_CACHE_VERIFY`
off, as production does, so a write that forgot to forget fails them.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from categories.models import Category
from categories.selectors import catalog_forget
from imatch import session_auth
from imatch.api_input import KeptPageResponse, RowsListMixin
from marketplace import selectors
from marketplace.api import views
from marketplace.models import MatchStatus, User
from marketplace.services import engagements, matches, profiles, ratings
from marketplace.services.tokens import api_token_issue
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_verify")]

MATCH_URLS = [
    "/api/v1/matches/",
    "/api/v1/matches/?limit=2&offset=2",
    "/api/v1/matches/?status=introduced",
    "/api/v1/matches/?category=planners&limit=1",
]
ENGAGEMENT_URLS = [
    "/api/v1/engagements/",
    "/api/v1/engagements/?limit=1&offset=1",
    "/api/v1/engagements/?status=confirmed",
    "/api/v1/engagements/?category=advisors",
]


@pytest.fixture
def world():
    """One seeker person with profiles in two categories: four matches, two of them engagements.

    `provider` is on two of the seeker's matches' other side: engaged on one, introduced on one.
    """
    seeker = UserFactory()
    planners = make_category(name="planners", display_name="Planners")
    advisors = make_category(name="advisors", display_name="Advisors")
    provider = UserFactory()
    make_provider(planners, user=provider)
    make_provider(planners)
    make_provider(planners)
    make_provider(advisors, user=provider)
    made = matches.match_run_for_seeker(seeker=make_seeker(planners, user=seeker))
    [advised] = matches.match_run_for_seeker(seeker=make_seeker(advisors, user=seeker))
    assert len(made) == 3
    theirs = next(match for match in made if match.provider.user_id == provider.pk)
    other = next(match for match in made if match.provider.user_id != provider.pk)
    for match in (theirs, other, advised):
        matches.match_introduce(match=match, user=seeker)
    deals = []
    for match in (theirs, advised):
        match = matches.match_accept(match=match, user=match.provider.user)
        reported = engagements.engagement_report(match=match, user=seeker, deal_value_usd="900.00")
        deals.append(engagements.engagement_confirm(engagement=reported, user=match.provider.user))
    return SimpleNamespace(
        seeker=seeker,
        provider=provider,
        other=other,
        deals=deals,
        seeker_api=client_for(seeker),
        provider_api=client_for(provider),
    )


def _same_as_today(api, url, monkeypatch, view):
    miss = api.get(url)
    hit = api.get(url)
    with monkeypatch.context() as patch:  # today's code: the list built on every request
        patch.setattr(view, "list", RowsListMixin.list)
        today = api.get(url)
    assert miss.status_code == hit.status_code == today.status_code == 200
    assert miss.content == hit.content == today.content
    assert today.json()["results"]


@pytest.mark.parametrize("side", ["seeker_api", "provider_api"])
@pytest.mark.parametrize("url", MATCH_URLS)
def test_the_kept_matches_are_todays_bytes(world, monkeypatch, side, url):
    if side == "provider_api" and "offset=2" in url:
        url = "/api/v1/matches/?limit=1&offset=1"  # the provider is on two matches
    if side == "provider_api" and "status=introduced" in url:
        url = "/api/v1/matches/?status=engaged"  # both of the provider's matches are engagements
    _same_as_today(getattr(world, side), url, monkeypatch, views.MatchViewSet)


@pytest.mark.parametrize("side", ["seeker_api", "provider_api"])
@pytest.mark.parametrize("url", ENGAGEMENT_URLS)
def test_the_kept_engagements_are_todays_bytes(world, monkeypatch, side, url):
    _same_as_today(getattr(world, side), url, monkeypatch, views.EngagementViewSet)


def test_a_hit_makes_no_query(world, django_assert_num_queries):
    world.seeker_api.get("/api/v1/me/")  # a token's first check in a process reads it; the second keeps it
    for url in ("/api/v1/matches/?limit=2", "/api/v1/engagements/?limit=1"):
        world.seeker_api.get(url)
        with django_assert_num_queries(0):  # the API token check is kept too (imatch.authentication)
            assert world.seeker_api.get(url).status_code == 200


def test_a_hit_hashes_its_address_once(world, monkeypatch):
    """The kept page's name (the whole URL, hashed) is worked out once per request: the
    throttle's `kept_keys` and `list` share it."""
    import hashlib

    from imatch import api_input

    hashed = []
    monkeypatch.setattr(
        api_input, "hashlib", SimpleNamespace(sha256=lambda data: hashed.append(data) or hashlib.sha256(data))
    )
    for url in ("/api/v1/matches/?limit=2", "/api/v1/engagements/?limit=1"):
        world.seeker_api.get(url)
        hashed.clear()
        response = world.seeker_api.get(url)
        assert response.status_code == 200 and response.json()["results"]
        assert hashed == [f"http://testserver{url}".encode()]


def test_a_kept_page_is_written_in_the_requests_time_zone(world):
    """The rows are kept written per time zone: a page kept in UTC is not served in Kolkata, nor back."""
    url = "/api/v1/engagements/"
    utc = world.seeker_api.get(url).json()["results"][0]["created_at"]  # a token client: UTC
    world.seeker.time_zone = "Asia/Kolkata"
    world.seeker.save()
    browser = Client()
    browser.force_login(world.seeker)  # the session's person: their own zone (imatch.time_zones)
    kolkata = browser.get(url, HTTP_ACCEPT="application/json").json()["results"][0]["created_at"]
    assert kolkata != utc and kolkata.endswith("+05:30")
    assert browser.get(url, HTTP_ACCEPT="application/json").json()["results"][0]["created_at"] == kolkata  # a hit
    assert world.seeker_api.get(url).json()["results"][0]["created_at"] == utc


def test_a_token_request_is_answered_in_utc_whatever_session_it_carries(world, monkeypatch):
    """A request with a token is the token's person's (imatch.time_zones): answered in UTC, and the
    session's person is not read, even when it carries the session of a person with a zone."""
    url = "/api/v1/engagements/"
    utc = world.seeker_api.get(url).json()["results"][0]["created_at"]
    world.seeker.time_zone = "Asia/Kolkata"
    world.seeker.save()
    both = Client()
    both.force_login(world.seeker)
    token = f"Token {api_token_issue(user=world.seeker)}"
    monkeypatch.setattr(session_auth, "session_user", lambda request: pytest.fail("the session's person was read"))
    for header in (token, token.replace("Token", "token", 1)):  # the scheme's word in any case, as DRF reads it
        answer = both.get(url, HTTP_AUTHORIZATION=header, HTTP_ACCEPT="application/json")
        assert answer.status_code == 200 and answer.json()["results"][0]["created_at"] == utc


@pytest.mark.parametrize("url", ["/api/v1/matches/", "/api/v1/engagements/?limit=1"])
def test_a_kept_written_page_is_the_whole_pages_json(world, monkeypatch, url):
    """A hit's body is the kept `results` JSON put into the page's head: the bytes DRF writes for
    the whole page; `data` (read by other renderers) is that page; `; indent=` and the browsable
    API render it as they always did."""
    world.seeker_api.get(url)
    hit = world.seeker_api.get(url)
    assert isinstance(hit, KeptPageResponse) and hit["Content-Type"] == "application/json"
    assert hit.content == JSONRenderer().render(hit.json())
    with monkeypatch.context() as patch:  # today's code: the list built on every request
        patch.setattr(views.MatchViewSet if "matches" in url else views.EngagementViewSet, "list", RowsListMixin.list)
        today = world.seeker_api.get(url, HTTP_ACCEPT="application/json; indent=2")
        browsable = world.seeker_api.get(url, HTTP_ACCEPT="text/html")
    indented = world.seeker_api.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert indented["Content-Type"] == today["Content-Type"] and indented.content == today.content
    assert b"\n" not in hit.content and b"\n  " in indented.content
    assert hit.data == today.data == indented.data
    kept_browsable = world.seeker_api.get(url, HTTP_ACCEPT="text/html")
    assert kept_browsable.status_code == browsable.status_code == 200
    assert kept_browsable["Content-Type"] == browsable["Content-Type"]


@pytest.fixture
def steady_catalog(monkeypatch):
    """The categories' version held still: providers' and ratings' writes also renew the public
    directory's, which would hide a missed forget of the lists."""
    monkeypatch.setattr(views, "catalog_version", lambda: "steady")


def _statuses(api, url="/api/v1/matches/"):
    return sorted(row["status"] for row in api.get(url).json()["results"])


def test_match_moves_are_read_at_once_by_both_sides(world):
    _statuses(world.seeker_api), _statuses(world.provider_api)
    fresh = next(m for m in selectors.matches_of_seeker(seeker=world.other.seeker) if m.status == MatchStatus.SUGGESTED)
    matches.match_introduce(match=fresh, user=world.seeker)
    assert _statuses(world.seeker_api).count("introduced") == 2
    matches.match_accept(match=world.other, user=world.other.provider.user)
    assert _statuses(world.seeker_api).count("accepted") == 1

    count = len(_statuses(world.seeker_api))
    matches.match_decline(match=fresh, user=fresh.provider.user)  # the seeker gets no one new: no provider left
    assert _statuses(world.seeker_api).count("declined") == 1
    assert len(_statuses(world.seeker_api)) == count


def test_new_matches_and_expiry_are_read_at_once(world, steady_catalog):
    count = len(_statuses(world.seeker_api))
    fresh = next(m for m in selectors.matches_of_seeker(seeker=world.other.seeker) if m.status == MatchStatus.SUGGESTED)
    matches.match_introduce(match=fresh, user=world.seeker)
    provider_api = client_for(fresh.provider.user)
    assert _statuses(provider_api) == ["introduced"]
    make_provider(fresh.category)
    matches.match_expire_stale(now=timezone.now() + timedelta(days=4))  # the seeker gets the new provider
    assert _statuses(provider_api) == ["expired"]
    assert len(_statuses(world.seeker_api)) == count + 1


def test_engagement_moves_are_read_at_once_by_both_sides(world):
    url = "/api/v1/engagements/"
    deal = world.deals[0]
    assert _statuses(world.provider_api, url) == ["confirmed", "confirmed"]
    engagements.engagement_cancel(engagement=deal, user=world.seeker, reason="Plans changed")
    assert _statuses(world.provider_api, url) == ["cancel_requested", "confirmed"]
    engagements.engagement_cancel(engagement=deal, user=world.provider, reason="Agreed")
    assert _statuses(world.seeker_api, url) == ["cancelled", "confirmed"]

    operator = UserFactory(is_staff=True)
    other = world.deals[1]
    engagements.engagement_complete(engagement=other, user=world.seeker)
    assert _statuses(world.provider_api, url) == ["cancelled", "completed"]
    engagements.engagement_mark_invoiced(engagement=other, operator=operator)
    assert {row["billing_status"] for row in world.seeker_api.get(url).json()["results"]} >= {"invoiced"}
    engagements.engagement_mark_paid(engagement=other, operator=operator)
    assert {row["billing_status"] for row in world.seeker_api.get(url).json()["results"]} >= {"paid"}


def _provider_rows(api):
    return [row["provider"] for row in api.get("/api/v1/matches/").json()["results"]]


def test_a_rating_is_read_at_once_in_the_other_sides_list(world, steady_catalog):
    deal = world.deals[0]
    engagements.engagement_complete(engagement=deal, user=world.seeker)
    assert {row["rating_count"] for row in _provider_rows(world.seeker_api)} == {0}
    ratings.rating_create(engagement=deal, user=world.seeker, stars=4)
    assert {row["rating_count"] for row in _provider_rows(world.seeker_api)} == {0, 1}


def test_profile_changes_are_read_at_once_in_the_other_sides_list(world, steady_catalog):
    engaged = world.deals[0]
    world.seeker_api.get("/api/v1/engagements/")
    profiles.provider_update(provider=engaged.provider, changes={"business_name": "Renamed Planning"})
    assert "Renamed Planning" in {row["business_name"] for row in _provider_rows(world.seeker_api)}
    names = {row["provider_business_name"] for row in world.seeker_api.get("/api/v1/engagements/").json()["results"]}
    assert "Renamed Planning" in names

    url = "/api/v1/matches/?category=planners"
    world.provider_api.get(url)
    profiles.seeker_update(seeker=engaged.seeker, changes={"needs_description": "Retire at 55, travel a lot."})
    needs = {row["seeker"]["needs_description"] for row in world.provider_api.get(url).json()["results"]}
    assert needs == {"Retire at 55, travel a lot."}

    assert {row["license_verified"] for row in _provider_rows(world.seeker_api)} == {False}
    engaged.provider.license_number = "LIC-9"
    engaged.provider.save(update_fields=["license_number"])  # set up only: not shown in the lists
    profiles.provider_verify_license(provider=engaged.provider, operator=UserFactory(is_staff=True))
    assert True in {row["license_verified"] for row in _provider_rows(world.seeker_api)}


def test_an_operators_name_edit_in_the_admin_is_read_at_once(world):
    assert world.provider.name in {
        row["provider"]["name"] for row in world.seeker_api.get("/api/v1/matches/").json()["results"]
    }
    world.provider.name = "Renamed Person"
    request = RequestFactory().post("/admin/")
    admin.site._registry[User].save_model(request, world.provider, SimpleNamespace(changed_data=["name"]), True)
    names = {row["provider"]["name"] for row in world.seeker_api.get("/api/v1/matches/").json()["results"]}
    assert "Renamed Person" in names


def test_a_category_rename_is_read_at_once(world):
    assert world.seeker_api.get("/api/v1/matches/?category=planners").json()["count"] == 3
    Category.objects.filter(name="planners").update(name="planning")
    catalog_forget()  # what the category services do on a change
    assert world.seeker_api.get("/api/v1/matches/?category=planners").json()["count"] == 0
    assert {row["category"] for row in world.seeker_api.get("/api/v1/matches/").json()["results"]} >= {"planning"}


def test_staff_read_the_lists_live(world, operator_api):
    assert operator_api.get("/api/v1/engagements/").json()["count"] == 2
    engagements.engagement_complete(engagement=world.deals[0], user=world.seeker)
    statuses = {row["status"] for row in operator_api.get("/api/v1/engagements/").json()["results"]}
    assert "completed" in statuses
