"""Polish every page shares: money and dates, the person's time zone, error pages, the API's front door."""

import zoneinfo
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.template import Context, Template
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from imatch.templatetags.display import day, pot, usd, when
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import confirmed_engagement


def _boom(request):
    raise RuntimeError("a defect")


def _forbidden(request):
    raise PermissionDenied


urlpatterns = [
    path("boom/", _boom),
    path("forbidden/", _forbidden),
    path("", include("imatch.urls")),
]


@pytest.mark.parametrize(
    ("value", "text"),
    [(Decimal("2400"), "$2,400.00"), (Decimal("0.5"), "$0.50"), (Decimal("-5"), "-$5.00"), (None, "—"), ("x", "—")],
)
def test_money_reads_as_money(value, text):
    assert usd(value) == text


def test_pot_reads_with_thousands_and_its_name():
    assert (pot(1250), pot(0), pot(None)) == ("1,250 POT", "0 POT", "—")


def test_moments_show_the_time_zone_of_the_person():
    moment = datetime(2026, 1, 15, 18, 30, tzinfo=UTC)
    with timezone.override(zoneinfo.ZoneInfo("America/Chicago")):
        assert when(moment) == "Jan 15, 2026, 12:30 CST"
        assert day(datetime(2026, 1, 15, 3, 0, tzinfo=UTC)) == "Jan 14, 2026"
    assert when(moment) == "Jan 15, 2026, 18:30 UTC"
    assert Template("{{ value|usd }} · {{ n|pot }}").render(Context({"value": Decimal("12"), "n": 3})) == (
        "$12.00 · 3 POT"
    )


def test_pages_use_the_logged_in_persons_time_zone(client, db):
    user = UserFactory(time_zone="Asia/Tokyo")
    client.force_login(user)
    assert "JST" in client.get(reverse("account")).content.decode()


def test_sign_up_takes_the_browsers_time_zone_and_falls_back_to_utc(client, db):
    form = {"name": "Tess", "password": "a-long-and-unusual-passphrase"}
    client.post(reverse("signup"), {**form, "email": "tess@example.com", "time_zone": "Europe/Berlin"})
    client.post(reverse("logout"))
    client.post(reverse("signup"), {**form, "email": "ula@example.com", "time_zone": "Not/AZone"})
    from marketplace.models import User

    zones = dict(User.objects.values_list("email", "time_zone"))
    assert zones == {"tess@example.com": "Europe/Berlin", "ula@example.com": "UTC"}


def test_a_seeker_never_sees_the_commission_a_provider_does(client, db):
    engagement = confirmed_engagement("2000.00")
    client.force_login(engagement.seeker.user)
    seeker_page = client.get(reverse("engagements")).content.decode()
    assert "$2,000.00" in seeker_page
    assert "commission" not in seeker_page.lower() and "$400.00" not in seeker_page
    client.force_login(engagement.provider.user)
    provider_page = client.get(reverse("engagements")).content.decode()
    assert "Commission (you owe)" in provider_page and "$400.00" in provider_page


def test_the_api_answers_at_its_root_with_links_to_its_docs(client, db):
    body = client.get("/api/v1/").json()
    assert body == {
        "docs": "http://testserver/api/v1/docs/",
        "redoc": "http://testserver/api/v1/redoc/",
        "schema": "http://testserver/api/v1/schema/",
    }
    redoc = client.get("/api/v1/redoc/")
    assert redoc.status_code == 200
    page = redoc.content.decode()
    assert "fonts.googleapis.com" not in page and "<style" not in page and "/static/drf_spectacular_sidecar/" in page


@pytest.fixture
def debug_run(settings):
    """A `make run`: DEBUG on; Django's technical pages only with DJANGO_DEBUG_PAGES=true."""
    settings.DEBUG = True
    settings.DEBUG_PAGES = False
    settings.ROOT_URLCONF = __name__
    return settings


def test_a_debug_run_shows_the_branded_pages(debug_run, db):
    browser = Client(raise_request_exception=False)
    missing = browser.get("/no-such-page/")
    assert missing.status_code == 404 and "Page not found" in missing.content.decode()
    assert "URLconf" not in missing.content.decode()  # not Django's technical 404
    boom = browser.get("/boom/")
    assert boom.status_code == 500 and "Something went wrong on our side" in boom.content.decode()
    assert "Traceback" not in boom.content.decode()
    forbidden = browser.get("/forbidden/")
    assert forbidden.status_code == 403 and "You cannot do this" in forbidden.content.decode()
    assert browser.get("/api/v1/no-such-endpoint/").json()["code"] == "not_found"
    assert browser.get("/dashboard").status_code == 301  # a missing slash is still added


def test_debug_pages_only_when_asked_for(debug_run, db):
    debug_run.DEBUG_PAGES = True
    missing = Client().get("/no-such-page/")
    assert missing.status_code == 404 and "URLconf" in missing.content.decode()


def test_the_500_page_is_plain_html():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "templates" / "500.html").read_text()
    assert "{%" not in text and "{{" not in text
