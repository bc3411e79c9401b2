"""The issue's "Done when" path, on a phone (390x844) and a desktop (1280x800), in Chromium.

anonymous search → guided need → inline sign-up → matches at once → introduction and a message in
the thread (no email shown yet) → the provider reads it and accepts (emails shown to both) →
engagement → the seeker confirms → both rate. Each step is a function of its own. At each login
the bell's count is the person's unread notifications and the dashboard's "Action needed" list
says what waits (a lead to answer, an engagement to confirm, a rating to give). On every page: no
action lies outside the viewport.
"""

import re
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from conversations.models import Message
from marketplace.models import Engagement, EngagementStatus, Rating, Seeker, User
from notifications.models import Notification
from tests.e2e.conftest import open_menu
from tests.marketplace.factories import PASSWORD, UserFactory
from tests.marketplace.loop import make_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
SEEKER_EMAIL = "dana.park@example.com"
SEEKER_PASSWORD = "a-long-and-unusual-passphrase"
PROVIDER_NAME = "Reyes Retirement Planning"

# Every visible action on the page (buttons, links styled as buttons, form controls' submit):
# its box, and the page's own width (a page wider than the screen hides actions off to the side).
ACTIONS_OFF_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  const actions = [...document.querySelectorAll('button, [role="button"], input[type="submit"]')];
  const off = actions
    .filter((el) => el.offsetParent !== null)
    .map((el) => [el.textContent.trim() || el.value, el.getBoundingClientRect()])
    .filter(([, box]) => box.width > 0 && (box.left < -1 || box.right > width + 1))
    .map(([name, box]) => `${name} (${Math.round(box.left)}..${Math.round(box.right)} of ${width})`);
  const pageWidth = document.documentElement.scrollWidth;
  if (pageWidth > width + 1) off.push(`page is ${pageWidth}px wide`);
  // A table in a scrolling box hides its last columns (and their actions) behind a sideways scroll.
  for (const box of document.querySelectorAll('.overflow-auto')) {
    if (box.offsetParent !== null && box.scrollWidth > box.clientWidth + 1) {
      off.push(`a box scrolls sideways (${box.scrollWidth}px in ${box.clientWidth}px)`);
    }
  }
  return off;
}"""


@dataclass
class Journey:
    page: Page
    provider_email: str


def actions_on_screen(page: Page) -> None:
    assert page.evaluate(ACTIONS_OFF_SCREEN) == [], f"actions outside the viewport on {page.url}"


def flash(page: Page):
    return page.locator(".messages")


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    actions_on_screen(page)


def bell_counts_unread(page: Page, email: str) -> None:
    """The header's bell shows how many notifications the person has not read (none: no count)."""
    unread = Notification.objects.filter(user__email=email, read_at__isnull=True).count()
    if unread:
        expect(page.get_by_test_id("bell-count")).to_have_text(str(unread))
    else:
        expect(page.get_by_test_id("bell-count")).to_have_count(0)
    actions_on_screen(page)


def log_out(page: Page) -> None:
    open_menu(page)
    page.get_by_role("navigation").get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out")).to_be_visible()


# --- The steps, in order ----------------------------------------------------------------


def anonymous_search(journey: Journey) -> None:
    page = journey.page
    page.goto("/")
    actions_on_screen(page)
    page.get_by_label("What do you need?").fill("Retirement planning")
    page.get_by_label("City or “remote”").fill("Austin, TX")
    page.get_by_role("button", name="Find my matches").click()
    expect(page.get_by_role("heading", name="Find financial advisors")).to_be_visible()
    expect(page.get_by_label("What do you need?")).to_have_value("Retirement planning")
    expect(page.get_by_label("City", exact=True)).to_have_value("Austin")
    actions_on_screen(page)


def guided_need_with_inline_sign_up(journey: Journey) -> None:
    page = journey.page
    page.get_by_label("Retirement planning").check()
    page.get_by_label("What do you need?").fill("I want to retire at 60 with a steady pension income.")
    page.get_by_label("Budget from (USD)").fill("100")
    page.get_by_label("Budget up to (USD)").fill("300")
    page.get_by_label("Name").fill("Dana Park")
    page.get_by_label("Email").fill(SEEKER_EMAIL)
    page.get_by_label("Password").fill(SEEKER_PASSWORD)
    actions_on_screen(page)
    page.get_by_role("button", name="Create my account and see my matches").click()


def matches_at_once(journey: Journey) -> None:
    page = journey.page
    expect(page).to_have_url(re.compile(r"/matches/#seeker-\d+$"))
    expect(flash(page)).to_contain_text("Welcome to I MATCH, Dana!")
    expect(flash(page)).to_contain_text("1 new match.")
    card = page.get_by_role("article", name=f"Match with {PROVIDER_NAME}")
    expect(card).to_contain_text("Specializes in retirement planning")
    expect(card).to_contain_text("License verified")
    expect(card).to_contain_text("$150.00–$250.00 per hour")
    actions_on_screen(page)
    user = User.objects.get(email=SEEKER_EMAIL)
    assert Seeker.objects.filter(user=user, category__name="financial_advisors").exists()
    assert user.time_zone == "America/Chicago"  # the browser's, taken at sign-up


def ask_for_an_introduction(journey: Journey) -> None:
    page = journey.page
    page.get_by_role("article", name=f"Match with {PROVIDER_NAME}").get_by_role("button", name="Introduce me").click()
    expect(flash(page)).to_contain_text(f"We introduced you to {PROVIDER_NAME}")
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))  # the thread opens at once
    expect(page.get_by_role("main")).not_to_contain_text(journey.provider_email)  # not before they accept
    page.get_by_label("Your message").fill("Could we talk on Tuesday about my pension?")
    actions_on_screen(page)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("message")).to_have_count(1)
    bell_counts_unread(page, SEEKER_EMAIL)
    log_out(page)


def provider_reads_the_message_and_accepts(journey: Journey) -> None:
    page = journey.page
    log_in(page, journey.provider_email)
    expect(page.get_by_test_id("action-lead")).to_contain_text(re.compile(r"answer within 7[12] hours"))
    expect(page.get_by_test_id("action-message")).to_contain_text("1 unread message from Dana Park")
    bell_counts_unread(page, journey.provider_email)
    page.get_by_role("link", name="Your leads").click()
    lead = page.get_by_role("article", name="Lead from Dana Park")
    expect(lead).to_contain_text("steady pension income")
    expect(lead).not_to_contain_text(SEEKER_EMAIL)
    actions_on_screen(page)
    lead.get_by_role("button", name="Message").click()
    expect(page.get_by_test_id("message")).to_contain_text("Could we talk on Tuesday")
    assert Message.objects.get().read_at is not None  # opening the thread read it
    bell_counts_unread(page, journey.provider_email)
    page.get_by_label("Your message").fill("Tuesday at 4 pm works. I accept the introduction.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("message")).to_have_count(2)
    page.get_by_role("link", name="Your leads").click()
    page.get_by_role("article", name="Lead from Dana Park").get_by_role("button", name="Accept").click()
    expect(flash(page)).to_contain_text("You accepted Dana Park")
    expect(page.get_by_role("article", name="Lead from Dana Park")).to_contain_text(SEEKER_EMAIL)
    actions_on_screen(page)


def provider_reports_the_engagement(journey: Journey) -> None:
    page = journey.page
    page.get_by_role("button", name="Report the engagement").click()
    page.get_by_label("Deal value (USD)").fill("2000")
    actions_on_screen(page)
    page.get_by_role("button", name="Report the engagement").click()
    expect(flash(page)).to_contain_text("Engagement reported. Dana Park is asked to confirm it")
    actions_on_screen(page)
    log_out(page)


def seeker_confirms(journey: Journey) -> None:
    page = journey.page
    log_in(page, SEEKER_EMAIL, SEEKER_PASSWORD)
    expect(page.get_by_test_id("action-confirm")).to_contain_text("confirm it")
    expect(page.get_by_test_id("action-message")).to_contain_text("1 unread message from Rosa Reyes")
    bell_counts_unread(page, SEEKER_EMAIL)
    page.goto("/conversations/")
    expect(page.get_by_test_id("thread-unread")).to_have_text("1 new")
    page.get_by_role("link", name=PROVIDER_NAME).click()
    expect(page.get_by_test_id("contact")).to_contain_text(journey.provider_email)  # accepted: emails shared
    actions_on_screen(page)
    page.goto("/dashboard/")
    page.get_by_role("link", name="Your engagements").click()
    row = page.get_by_role("row", name=re.compile(r"Engagement \d+"))
    expect(row).to_contain_text("$2,000.00")
    expect(row).not_to_contain_text("$400.00")  # a seeker never sees the commission
    actions_on_screen(page)
    row.get_by_role("button", name="Confirm").click()
    expect(flash(page)).to_contain_text("Engagement confirmed.")
    actions_on_screen(page)
    page.goto("/dashboard/")
    expect(page.get_by_test_id("action-rate")).to_contain_text("Rate Rosa Reyes")
    page.goto("/engagements/")


def seeker_rates(journey: Journey) -> None:
    page = journey.page
    page.get_by_role("button", name="Rate").click()
    page.get_by_label("★★★★★ Excellent").check()
    page.get_by_label("Review (optional)").fill("Clear plan, no jargon.")
    actions_on_screen(page)
    page.get_by_role("button", name="Save my rating").click()
    expect(flash(page)).to_contain_text(f"your rating of {PROVIDER_NAME} is saved")
    log_out(page)


def provider_rates(journey: Journey) -> None:
    page = journey.page
    log_in(page, journey.provider_email)
    page.get_by_role("link", name="Your engagements").click()
    expect(page.get_by_role("row", name=re.compile(r"Engagement \d+"))).to_contain_text("$400.00")
    actions_on_screen(page)
    page.get_by_role("button", name="Rate").click()
    page.get_by_label("★★★★ Good").check()
    page.get_by_role("button", name="Save my rating").click()
    expect(flash(page)).to_contain_text("your rating of Dana Park is saved")
    actions_on_screen(page)


def provider_looks_at_every_other_page(journey: Journey) -> None:
    """The pages the path does not act on, with what the path left on them: still no action off screen."""
    page = journey.page
    page.goto("/dashboard/")
    expect(page.get_by_test_id("action-message")).to_have_count(0)  # the thread was read
    for path, heading in (
        ("/commission/", "Commission statement"),
        ("/wallet/", "Your wallet"),
        ("/notifications/", "Notifications"),
        ("/conversations/", "Conversations"),
        ("/account/", "Your account"),
        ("/badges/", "Badges"),
        (f"/providers/{Engagement.objects.get().provider_id}/edit/", "profile"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        actions_on_screen(page)


STEPS = [
    anonymous_search,
    guided_need_with_inline_sign_up,
    matches_at_once,
    ask_for_an_introduction,
    provider_reads_the_message_and_accepts,
    provider_reports_the_engagement,
    seeker_confirms,
    seeker_rates,
    provider_rates,
    provider_looks_at_every_other_page,
]


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_from_a_search_to_ratings_in_one_sitting(browser, live_server, seeded_categories, viewport):
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - earlier transactional tests flushed it
    provider_user = UserFactory(name="Rosa Reyes", email="rosa@example.com")
    make_provider(
        seeded_categories["financial_advisors"],
        user=provider_user,
        verified=True,
        business_name=PROVIDER_NAME,
        specialties=["retirement-planning"],
        bio="Fee-only planner: retirement income, pensions and Social Security.",
    )
    context = browser.new_context(base_url=live_server.url, viewport=viewport, timezone_id="America/Chicago")
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    try:
        journey = Journey(page=page, provider_email=provider_user.email)
        for step in STEPS:
            step(journey)
    finally:
        context.close()
    assert refused == [], "the Content-Security-Policy refused something on these pages"
    engagement = Engagement.objects.get()
    assert engagement.status == EngagementStatus.CONFIRMED and engagement.deal_value_usd == 2000
    assert Rating.objects.filter(engagement=engagement).count() == 2
