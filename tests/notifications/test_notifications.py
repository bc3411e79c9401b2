"""In-app notifications: one beside every event email, the bell, the page, the API; only one's own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from marketplace.errors import WrongSide
from marketplace.models import Match
from marketplace.services import engagements, matches, profiles, ratings
from notifications.models import Notification, NotificationKind
from notifications.services import notify
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import hours_ago, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def kinds_of(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


@pytest.fixture
def category():
    return make_category()


def test_every_email_of_the_loop_is_also_a_notification(category, django_capture_on_commit_callbacks):
    seeker = make_seeker(category)
    provider = make_provider(category)
    with django_capture_on_commit_callbacks(execute=True):
        [match] = matches.match_run_for_seeker(seeker=seeker)
        matches.match_introduce(match=match, user=seeker.user)
        matches.match_accept(match=match, user=provider.user)
        engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="1000.00")
        engagement = engagements.engagement_confirm(engagement=engagement, user=provider.user)
        ratings.rating_create(engagement=engagement, user=seeker.user, stars=5, review="Clear")

    assert mail.outbox, "the loop sends emails"
    for email in mail.outbox:
        subject = email.subject.removeprefix("I MATCH: ")
        if subject.startswith("you accepted"):  # the provider's own action, with the seeker's email: no notification
            continue
        text = subject[:1].upper() + subject[1:]
        assert Notification.objects.filter(user__email=email.to[0], text=text).exists(), email.subject
    seeker_kinds, provider_kinds = kinds_of(seeker.user), kinds_of(provider.user)
    for kind in (NotificationKind.NEW_MATCHES, NotificationKind.INTRODUCTION, NotificationKind.MATCH_ACCEPTED):
        assert kind in seeker_kinds
    for kind in (NotificationKind.INTRODUCTION, NotificationKind.ENGAGEMENT_REPORTED, NotificationKind.RATING_RECEIVED):
        assert kind in provider_kinds
    confirmed = NotificationKind.ENGAGEMENT_CONFIRMED
    assert confirmed in seeker_kinds and confirmed in provider_kinds
    assert NotificationKind.POT_EARNED in seeker_kinds  # the profile award
    lead = Notification.objects.get(user=provider.user, kind=NotificationKind.INTRODUCTION)
    assert lead.link == reverse("leads") and lead.read_at is None


def test_declines_expiries_cancellations_and_license_verification_notify(category):
    seeker = make_seeker(category)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=seeker.user)
    Match.objects.filter(pk=match.pk).update(introduced_at=hours_ago(73))
    matches.match_expire_stale()
    assert NotificationKind.MATCH_EXPIRED in kinds_of(seeker.user)
    assert NotificationKind.MATCH_EXPIRED in kinds_of(match.provider.user)

    other = make_provider(category)
    matches.match_run_for_seeker(seeker=seeker)
    second = Match.objects.get(seeker=seeker, provider=other)
    matches.match_introduce(match=second, user=seeker.user)
    matches.match_decline(match=second, user=other.user, reason="Fully booked")
    declined = Notification.objects.get(user=seeker.user, kind=NotificationKind.MATCH_DECLINED)
    assert declined.link == reverse("matches")

    licensed = make_category(name="therapists", display_name="Therapists", requires_license=True)
    therapist = make_provider(licensed, license_number="LIC-9")
    profiles.provider_verify_license(provider=therapist, operator=UserFactory(is_staff=True))
    verified = Notification.objects.get(user=therapist.user, kind=NotificationKind.LICENSE_VERIFIED)
    assert verified.text == "Your license is verified"
    assert verified.link == reverse("provider-detail", args=[therapist.pk])


def test_a_refused_action_notifies_nobody(category):
    seeker = make_seeker(category)
    provider = make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    before = Notification.objects.count()
    with pytest.raises(WrongSide):
        matches.match_introduce(match=match, user=provider.user)
    assert Notification.objects.count() == before


@override_settings(SITE_URL="https://imatch.example.com")
def test_email_links_use_the_public_address(category, django_capture_on_commit_callbacks):
    seeker = make_seeker(category)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    with django_capture_on_commit_callbacks(execute=True):
        matches.match_introduce(match=match, user=seeker.user)
    for email in mail.outbox:
        links = [word for word in email.body.split() if "://" in word]
        assert links and all(link.startswith("https://imatch.example.com/") for link in links), email.body
    # The notification keeps the path only: it works on whatever address the person uses.
    assert Notification.objects.get(user=seeker.user, kind=NotificationKind.INTRODUCTION).link == reverse(
        "thread", args=[match.pk]
    )


# --- The bell and the page ---------------------------------------------------------------


def test_the_bell_shows_the_unread_count_and_the_page_lists_newest_first():
    person = UserFactory()
    old = notify(user=person, kind=NotificationKind.POT_EARNED, text="You earned 50 POT.", link="/wallet/")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=1))
    notify(user=person, kind=NotificationKind.RATING_RECEIVED, text="You received a 5-star rating", link="/dashboard/")
    notify(user=UserFactory(), kind=NotificationKind.POT_EARNED, text="Someone else's award")
    browser = browser_of(person)

    page = browser.get(reverse("dashboard")).content.decode()
    assert 'data-testid="bell-count">2<' in page
    page = browser.get(reverse("notifications")).content.decode()
    assert page.index("5-star rating") < page.index("You earned 50 POT.")
    assert "Someone else" not in page


def test_open_marks_read_and_goes_to_the_page_then_mark_all_read():
    person = UserFactory()
    first = notify(user=person, kind=NotificationKind.POT_EARNED, text="You earned 50 POT.", link="/wallet/")
    notify(user=person, kind=NotificationKind.POT_EARNED, text="You earned 10 POT.", link="/wallet/")
    browser = browser_of(person)

    response = browser.post(reverse("notification-read", args=[first.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/wallet/"
    first.refresh_from_db()
    assert first.read_at is not None
    response = browser.post(reverse("notifications-read-all"), follow=True)
    assert "Marked 1 notification read." in response.content.decode()
    assert not Notification.objects.filter(user=person, read_at__isnull=True).exists()
    assert 'data-testid="bell-count"' not in browser.get(reverse("notifications")).content.decode()


def test_an_empty_page_says_what_comes_here():
    page = browser_of(UserFactory()).get(reverse("notifications")).content.decode()
    assert 'data-testid="no-notifications"' in page


def test_nobody_reads_or_marks_another_person_s_notification():
    owner, stranger, operator = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    note = notify(user=owner, kind=NotificationKind.POT_EARNED, text="Private", link="/wallet/")
    for person in (stranger, operator):
        assert browser_of(person).post(reverse("notification-read", args=[note.pk])).status_code == 404
        api = client_for(person)
        assert api.post(f"/api/v1/notifications/{note.pk}/read/").status_code == 404
        assert api.get("/api/v1/notifications/").json()["count"] == 0
        assert "Private" not in browser_of(person).get(reverse("notifications")).content.decode()
    note.refresh_from_db()
    assert note.read_at is None


def test_the_notifications_page_query_count_is_pinned(django_assert_num_queries):
    person = UserFactory()
    browser = browser_of(person)
    browser.get(reverse("notifications"))  # warm the session and the categories' cache
    for number in range(3):
        notify(user=person, kind=NotificationKind.POT_EARNED, text=f"Award {number}", link="/wallet/")
    with django_assert_num_queries(5) as few:
        browser.get(reverse("notifications"))
    for number in range(20):
        notify(user=person, kind=NotificationKind.POT_EARNED, text=f"More {number}", link="/wallet/")
    with django_assert_num_queries(len(few.captured_queries)):
        browser.get(reverse("notifications"))


# --- API -----------------------------------------------------------------------------------


def test_the_api_lists_marks_one_and_marks_all_read():
    person = UserFactory()
    first = notify(user=person, kind=NotificationKind.POT_EARNED, text="You earned 50 POT.", link="/wallet/")
    notify(user=person, kind=NotificationKind.RATING_RECEIVED, text="A rating", link="/dashboard/")
    api = client_for(person)

    listed = api.get("/api/v1/notifications/").json()
    assert listed["count"] == 2 and [item["text"] for item in listed["results"]] == ["A rating", "You earned 50 POT."]
    assert listed["results"][0]["link"] == "/dashboard/" and listed["results"][0]["read_at"] is None
    assert api.get("/api/v1/notifications/?kind=rating_received").json()["count"] == 1
    assert api.get("/api/v1/notifications/?kind=nonsense").status_code == 400

    read = api.post(f"/api/v1/notifications/{first.pk}/read/")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert api.post("/api/v1/notifications/read-all/").json() == {"marked_read": 1}
    assert api.post("/api/v1/notifications/read-all/").json() == {"marked_read": 0}
    assert client_for(person).get("/api/v1/notifications/").status_code == 200
    assert Client().get("/api/v1/notifications/").status_code == 401


def test_locally_the_public_address_follows_the_port_make_run_serves_on():
    """`PORT=9123 make run`: email links point at :9123 (SITE_URL, when set, wins)."""
    root = Path(__file__).resolve().parents[2]
    environment = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT", "DJANGO_SETTINGS_MODULE")}
    environment.update(DJANGO_DEBUG="true", DJANGO_SECRET_KEY="x" * 50, PORT="9123")
    script = "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'imatch.settings'; django.setup(); "
    script += "from django.conf import settings; print(settings.SITE_URL)"
    run = subprocess.run([sys.executable, "-c", script], cwd=root, env=environment, capture_output=True, text=True)
    assert run.stdout.strip() == "http://localhost:9123", run.stderr
    environment["SITE_URL"] = "https://imatch.example.com"
    run = subprocess.run([sys.executable, "-c", script], cwd=root, env=environment, capture_output=True, text=True)
    assert run.stdout.strip() == "https://imatch.example.com", run.stderr
    dry_run = subprocess.run(["make", "-n", "serve", "PORT=9123"], cwd=root, capture_output=True, text=True)
    assert "PORT=9123 .venv/bin/gunicorn" in dry_run.stdout, dry_run.stdout + dry_run.stderr
