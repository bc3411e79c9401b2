"""Leaderboards on the web and the API: pickers, boards, anonymity, refusals, links, pinned queries;
the name setting on the account page, the API and the admin."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from growth.ranking import Month
from imatch.throttling import RequestRateThrottle
from marketplace.models import AccountType, ReferralStatus, User
from tests.conftest import client_for
from tests.growth.test_leaderboards import _engagement, _provider, _referral
from tests.library.factories import PublishedArticleFactory
from tests.marketplace.factories import SeekerFactory, UserFactory
from tests.marketplace.loop import make_category

pytestmark = pytest.mark.django_db

PAGE = "/leaderboards/"
API = "/api/v1/leaderboards/"
SECRET_SEEKER = "Zelda Hiddenname"
SECRET_PROVIDER = "Quietly Private Planning"


def _this_month():
    return Month.of(timezone.now())


def _now_in_month():
    return max(_this_month().start, timezone.now() - timedelta(minutes=1))


@pytest.fixture
def category():
    return make_category(name="planners", display_name="Planners")


@pytest.fixture
def board(category):
    """One of each: a provider shown by name, one who opted out, a seeker who did not opt in, one who did."""
    now = _now_in_month()
    public = _provider(category, name="Open Book Planning")
    private = _provider(category, name=SECRET_PROVIDER, opt_in=False)
    for provider in (public, public, private):
        _engagement(provider, at=now)
    PublishedArticleFactory(author=private, published_at=now)
    hidden = UserFactory(name=SECRET_SEEKER, email="zelda.hiddenname@example.com")
    shown = UserFactory(name="Cleo Chosen", leaderboard_opt_in=True)
    for referrer in (hidden, hidden, shown):
        _referral(referrer, category=category, at=now)
    return {"public": public, "private": private, "hidden": hidden, "shown": shown}


def _browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# --- The page -------------------------------------------------------------------------------------


def test_the_page_shows_the_current_month_of_the_first_category_by_default(category, board):
    make_category(name="zz_last", display_name="Zz Last")
    response = _browser().get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Planners · {_this_month().label} so far" in html
    assert (
        'data-board="providers"' in html and 'data-board="contributors"' in html and 'data-board="connectors"' in html
    )
    assert "Open Book Planning" in html and "Cleo Chosen" in html and "Anonymous" in html
    assert f'href="/providers/{board["public"].pk}/"' in html
    assert "recomputed at most every 10 minutes" in html and "within 10 minutes" in html


def test_a_name_nobody_opted_in_never_appears_in_the_html_or_the_json(category, board):
    logged_in = UserFactory(leaderboard_opt_in=True)
    for client in (_browser(), _browser(logged_in)):
        html = client.get(f"{PAGE}?category=planners").content.decode()
        assert SECRET_SEEKER not in html and SECRET_PROVIDER not in html and "zelda.hiddenname" not in html
        assert html.count("Anonymous") >= 3  # the opted-out provider (twice: two boards) and the seeker
    for client in (APIClient(), client_for(logged_in)):
        response = client.get(f"{API}?category=planners")
        text = response.content.decode()
        assert response.status_code == 200
        assert SECRET_SEEKER not in text and SECRET_PROVIDER not in text and "zelda.hiddenname" not in text
        for kind in ("providers", "contributors", "connectors"):
            for row in response.json()[kind]["rows"]:
                if row["anonymous"]:
                    assert row["name"] == "Anonymous" and row["badges"] == []
                    assert row.get("provider_id") is None and row.get("rating") is None
        assert str(board["private"].pk) not in {str(row["provider_id"]) for row in response.json()["providers"]["rows"]}


def test_the_api_answers_the_three_boards(category, board):
    response = APIClient().get(f"{API}?category=planners&month={_this_month().key}")
    assert response.status_code == 200
    body = response.json()
    assert (body["category"], body["category_display_name"], body["month"]) == (
        "planners",
        "Planners",
        _this_month().key,
    )
    assert body["refresh_seconds"] == 600
    first = body["providers"]["rows"][0]
    assert {key: first[key] for key in ("rank", "name", "anonymous", "is_you", "provider_id", "engagements")} == {
        "rank": 1,
        "name": "Open Book Planning",
        "anonymous": False,
        "is_you": False,
        "provider_id": board["public"].pk,
        "engagements": 2,
    }
    [contributor] = body["contributors"]["rows"]
    assert (contributor["name"], contributor["contributions"], contributor["published_articles"]) == ("Anonymous", 1, 1)
    assert [(row["rank"], row["name"], row["activated_referrals"]) for row in body["connectors"]["rows"]] == [
        (1, "Anonymous", 2),
        (2, "Cleo Chosen", 1),
    ]


def test_a_person_finds_their_own_row_even_when_anonymous(category, board):
    hidden = board["hidden"]
    html = _browser(hidden).get(f"{PAGE}?category=planners").content.decode()
    assert (
        'aria-current="true"' in html and "show your name</a>" in html and SECRET_SEEKER not in html.split("<main")[1]
    )
    rows = client_for(hidden).get(f"{API}?category=planners").json()["connectors"]["rows"]
    assert [(row["name"], row["is_you"]) for row in rows] == [("Anonymous", True), ("Cleo Chosen", False)]


def test_a_past_month_is_shown_and_offered_in_the_picker(category):
    provider = _provider(category, name="Back Then Planning")
    old = Month(2024, 3)
    _engagement(provider, at=old.start + timedelta(days=3))
    html = _browser().get(f"{PAGE}?category=planners&month=2024-03").content.decode()
    assert "Back Then Planning" in html and 'value="2024-03" selected' in html and "so far" not in html
    assert "Back Then Planning" not in _browser().get(f"{PAGE}?category=planners").content.decode()


def test_empty_boards_say_what_to_do_to_appear(category):
    html = _browser().get(f"{PAGE}?category=planners").content.decode()
    assert "offer this service</a>" in html and "answering questions</a>" in html and "writing an article</a>" in html
    assert "sign up</a> to get yours" in html
    logged_in = _browser(UserFactory()).get(f"{PAGE}?category=planners").content.decode()
    assert "copy yours from your dashboard</a>" in logged_in and "You appear as “Anonymous”" in logged_in


def test_without_a_launched_category_the_page_says_so(db):
    make_category(name="sleepers", active=False)
    response = _browser().get(PAGE)
    assert response.status_code == 200 and "No category is open yet" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("category=nothing", "category", "no launched category"),
        ("category=sleepers", "category", "no launched category"),
        ("category=planners&month=2026-13", "month", "YYYY-MM"),
        ("category=planners&month=nov", "month", "YYYY-MM"),
        ("category=planners&month=1999-12", "month", "2000-01"),
        ("category=planners&month=2999-01", "month", "not started"),
    ],
)
def test_a_bad_category_or_month_is_a_400_with_the_message_at_the_field(category, query, field, words):
    make_category(name="sleepers", active=False)
    page = _browser().get(f"{PAGE}?{query}")
    assert page.status_code == 400
    html = page.content.decode()
    assert words in html and 'aria-invalid="true"' in html and "data-board" not in html
    api = APIClient().get(f"{API}?{query}")
    assert api.status_code == 400
    assert words in api.json()["fields"][field][0] and api.json()["code"] in ("unknown_category", "invalid_month")


def test_the_api_needs_a_category(category):
    response = APIClient().get(API)
    assert response.status_code == 400 and response.json()["code"] == "required"
    assert response.json()["fields"]["category"]


def test_the_api_is_throttled_like_other_public_reads(category, monkeypatch):
    monkeypatch.setattr(
        RequestRateThrottle, "THROTTLE_RATES", {**RequestRateThrottle.THROTTLE_RATES, "anon": "2/minute"}
    )
    client = APIClient()
    assert [client.get(f"{API}?category=planners").status_code for _ in range(3)] == [200, 200, 429]


def test_only_get_is_allowed(category):
    assert APIClient().post(f"{API}?category=planners").status_code == 405
    assert _browser().post(PAGE).status_code == 405


# --- Links -----------------------------------------------------------------------------------------


def test_the_category_page_the_dashboard_and_the_footer_link_to_the_leaderboards(category):
    assert 'href="/leaderboards/?category=planners"' in _browser().get("/categories/planners/").content.decode()
    provider = _provider(category)
    dashboard = _browser(provider.user).get("/dashboard/").content.decode()
    assert 'href="/leaderboards/?category=planners"' in dashboard and "(shown by name)" in dashboard
    seeker = SeekerFactory(category=category).user
    assert "show your name</a>" in _browser(seeker).get("/dashboard/").content.decode()
    assert '<a href="/leaderboards/">Leaderboards</a>' in _browser().get("/").content.decode()


# --- Pinned queries ------------------------------------------------------------------------------------


def _fill(category, people: int) -> None:
    now = _now_in_month()
    for number in range(people):
        provider = _provider(category, opt_in=bool(number % 2))
        _engagement(provider, at=now)
        PublishedArticleFactory(author=provider, published_at=now)
        _referral(provider.user, category=category, at=now, status=ReferralStatus.ENGAGED)


@pytest.mark.parametrize("people", [2, 12])
def test_page_queries_are_pinned_and_do_not_grow_with_the_rows(category, people, django_assert_num_queries):
    _fill(category, people)
    viewer = UserFactory()
    # The catalogue of categories (2, then kept); computing the three boards: their figures (4), the
    # ranked people (3), the badges of those shown by name (3 x 7).
    with django_assert_num_queries(30):
        assert _browser().get(f"{PAGE}?category=planners").status_code == 200
    with django_assert_num_queries(0):  # kept: the cache only
        assert _browser().get(f"{PAGE}?category=planners").status_code == 200
    browser = _browser(viewer)
    with django_assert_num_queries(3):  # user, the nav wallet, the bell (the session is cached); the boards are kept
        assert browser.get(f"{PAGE}?category=planners").status_code == 200


@pytest.mark.parametrize("people", [2, 12])
def test_api_queries_are_pinned_and_do_not_grow_with_the_rows(category, people, django_assert_num_queries):
    _fill(category, people)
    with django_assert_num_queries(30):  # as the page
        assert APIClient().get(f"{API}?category=planners").status_code == 200
    with django_assert_num_queries(0):
        assert APIClient().get(f"{API}?category=planners").status_code == 200
    api = client_for(UserFactory())
    with django_assert_num_queries(1):  # the token's user
        assert api.get(f"{API}?category=planners").status_code == 200


# --- The name setting: account page, API, admin -----------------------------------------------------------


def test_the_account_page_sets_the_name_on_leaderboards(category):
    seeker = UserFactory(account_type=AccountType.SEEKER)
    browser = _browser(seeker)
    page = browser.get("/account/").content.decode()
    assert 'value="anonymous" id="id_leaderboard_name_1" required checked' in page  # a seeker's default
    response = browser.post("/account/leaderboards/", {"leaderboard_name": "shown"}, follow=True)
    assert "Leaderboards show your name from their next update, within 10 minutes." in response.content.decode()
    seeker.refresh_from_db()
    assert seeker.leaderboard_opt_in is True and seeker.leaderboard_name_shown
    browser.post("/account/leaderboards/", {"leaderboard_name": "anonymous"})
    seeker.refresh_from_db()
    assert seeker.leaderboard_opt_in is False


@pytest.mark.parametrize("body", [{}, {"leaderboard_name": "everyone"}, {"leaderboard_name": ""}])
def test_a_bad_choice_on_the_account_page_is_a_400_and_changes_nothing(body):
    person = UserFactory()
    response = _browser(person).post("/account/leaderboards/", body)
    assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
    person.refresh_from_db()
    assert person.leaderboard_opt_in is None


def test_an_opt_out_shows_at_the_next_recompute(category, board):
    public = board["public"]
    assert "Open Book Planning" in _browser().get(f"{PAGE}?category=planners").content.decode()
    _browser(public.user).post("/account/leaderboards/", {"leaderboard_name": "anonymous"})
    assert "Open Book Planning" in _browser().get(f"{PAGE}?category=planners").content.decode()  # still kept
    cache.clear()  # what the 10 minutes do (tests/growth/test_leaderboards.py checks the clock)
    assert "Open Book Planning" not in _browser().get(f"{PAGE}?category=planners").content.decode()


def test_the_api_reads_and_sets_the_name_on_leaderboards(user, user_api):
    assert user_api.get("/api/v1/me/").json()["leaderboard_name_shown"] is False
    response = user_api.patch("/api/v1/me/", {"leaderboard_name_shown": True}, format="json")
    assert response.status_code == 200 and response.json()["leaderboard_name_shown"] is True
    user.refresh_from_db()
    assert user.leaderboard_opt_in is True


@pytest.mark.parametrize(
    "body",
    [
        {"leaderboard_name_shown": "perhaps"},
        {"leaderboard_name_shown": None},
        {"leaderboard_name_shown": True, "time_zone": "Mars/Olympus"},
    ],
)
def test_a_bad_setting_on_the_api_is_a_400_and_saves_nothing(user, user_api, body):
    response = user_api.patch("/api/v1/me/", body, format="json")
    assert response.status_code == 400 and response.json()["fields"]
    user.refresh_from_db()
    assert user.leaderboard_opt_in is None and user.time_zone == "UTC"


def test_operators_see_the_setting_in_the_admin_but_do_not_change_it(operator):
    person = UserFactory(leaderboard_opt_in=False)
    admin = _browser(operator)
    page = admin.get(f"/admin/marketplace/user/{person.pk}/change/").content.decode()
    assert "Name on leaderboards" in page and "Anonymous" in page
    assert 'name="leaderboard_opt_in"' not in page  # read-only: the person's own choice
    listing = admin.get("/admin/marketplace/user/?leaderboard_opt_in__exact=0").content.decode()
    assert person.email in listing
    assert User.objects.get(pk=person.pk).leaderboard_opt_in is False
