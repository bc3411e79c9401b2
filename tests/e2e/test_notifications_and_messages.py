"""The bell and a message exchange in Chromium, on a phone-sized screen (390x844).

The seeker asks for an introduction and writes; the provider sees the bell's count and the
lead's hours left on the dashboard, opens the notification, answers and accepts; then each
side sees the other's email in the conversation.
"""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from conversations.models import Message
from marketplace.services import matches
from notifications.models import Notification
from tests.e2e.conftest import open_menu
from tests.marketplace.factories import PASSWORD, UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def log_out(page: Page) -> None:
    open_menu(page)  # on a phone "Log out" folds behind "Menu"
    page.get_by_role("navigation").get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out")).to_be_visible()


def bell(page: Page):
    return page.get_by_test_id("bell")


def on_screen(page: Page, locator) -> None:
    """The control is inside the 390 px wide viewport: nobody has to scroll sideways to reach it."""
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]


def test_the_bell_and_a_message_exchange(page: Page):
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - earlier transactional tests flushed it
    category = make_category()
    seeker_user = UserFactory(name="Dana Park", email="dana@example.com")
    provider_user = UserFactory(name="Rosa Reyes", email="rosa@example.com")
    seeker = make_seeker(category, user=seeker_user)
    make_provider(category, user=provider_user, business_name="Reyes Planning")
    matches.match_run_for_seeker(seeker=seeker)

    # The seeker: the bell counts the new match and the profile's POT; the page lists them; mark all read.
    log_in(page, seeker_user.email)
    unread = Notification.objects.filter(user=seeker_user, read_at__isnull=True).count()
    assert unread >= 2
    expect(page.get_by_test_id("bell-count")).to_have_text(str(unread))
    on_screen(page, bell(page))
    bell(page).click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    expect(page.get_by_test_id("notification").first).to_contain_text("new match")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_test_id("bell-count")).to_have_count(0)

    # Introduce, and write in the conversation that opens.
    page.goto("/matches/")
    page.get_by_role("article", name="Match with Reyes Planning").get_by_role("button", name="Introduce me").click()
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))
    expect(page.get_by_role("main")).not_to_contain_text(provider_user.email)
    page.get_by_label("Your message").fill("Hello Rosa, <b>can</b> we talk on Tuesday?")
    send = page.get_by_role("button", name="Send")
    on_screen(page, send)
    send.click()
    expect(page.get_by_test_id("message")).to_have_count(1)
    expect(page.get_by_test_id("message").first).to_contain_text("<b>can</b> we talk")  # shown as text
    log_out(page)

    # The provider: the bell counts the introduction and the message; the dashboard says what to do.
    log_in(page, provider_user.email)
    expect(page.get_by_test_id("action-lead")).to_contain_text(re.compile(r"answer within 7[12] hours"))
    on_screen(page, page.get_by_test_id("action-lead").get_by_role("button", name="Answer"))
    before = Notification.objects.filter(user=provider_user, read_at__isnull=True).count()
    expect(page.get_by_test_id("bell-count")).to_have_text(str(before))
    bell(page).click()
    message_note = page.get_by_test_id("notification").filter(has_text="sent you a message")
    message_note.get_by_role("button", name="Open").click()
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))
    expect(page.get_by_test_id("message")).to_contain_text("can</b> we talk on Tuesday?")
    expect(page.get_by_test_id("bell-count")).to_have_text(str(before - 1))
    assert Message.objects.get().read_at is not None
    page.get_by_label("Your message").fill("Tuesday at 4 pm works for me.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("message")).to_have_count(2)

    # Accepting shares the emails.
    page.get_by_role("link", name="Your leads").click()
    page.get_by_role("article", name="Lead from Dana Park").get_by_role("button", name="Accept").click()
    expect(page.get_by_role("article", name="Lead from Dana Park")).to_contain_text(seeker_user.email)
    page.get_by_role("article", name="Lead from Dana Park").get_by_role("button", name="Message").click()
    expect(page.get_by_test_id("contact")).to_contain_text(seeker_user.email)
    log_out(page)

    # The seeker reads the answer; the provider's email is there now.
    log_in(page, seeker_user.email)
    expect(page.get_by_test_id("bell-count")).to_be_visible()
    page.goto("/conversations/")
    expect(page.get_by_test_id("thread-unread")).to_have_text("1 new")
    page.get_by_role("link", name="Reyes Planning").click()
    expect(page.get_by_test_id("message").last).to_contain_text("Tuesday at 4 pm works for me.")
    expect(page.get_by_test_id("contact")).to_contain_text(provider_user.email)
