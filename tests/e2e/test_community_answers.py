"""Asking → answering → accepting a community question, and the POT award in the provider's wallet — in Chromium."""

import os
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from tests.marketplace.factories import PASSWORD, UserFactory
from tests.marketplace.loop import make_category, make_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("COMMUNITY_SCREENSHOTS")  # a folder: save the pages at 390 px to look at them


def log_in(page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_ask_answer_accept_and_the_award_in_the_wallet(page):
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - earlier transactional tests flushed it
    category = make_category()
    UserFactory(
        email="ana@example.com",
        name="Ana Asker",
        email_verified_at=timezone.now(),
        date_joined=timezone.now() - timedelta(days=30),
    )
    provider = make_provider(category, UserFactory(email="rey@example.com"), business_name="Reyes Planning")

    log_in(page, "ana@example.com")
    page.goto(f"/categories/{category.name}/")
    page.get_by_test_id("category-questions").get_by_role("link", name="Ask a question").click()
    page.get_by_label("Your question, in one line").fill("How much should I save at 40?")
    page.get_by_label("Details").fill("About $20,000 saved, <script>alert(1)</script> no plan yet.")
    page.get_by_role("button", name="Ask").click()
    expect(page.get_by_test_id("question-title")).to_have_text("How much should I save at 40?")
    expect(page.get_by_test_id("question-body")).to_contain_text("<script>alert(1)</script>")  # shown as text
    get_matched = page.get_by_test_id("get-matched")
    expect(get_matched).to_be_visible()
    assert "need=How+much+should+I+save+at+40" in get_matched.get_attribute("href")
    question_url = page.url
    shot(page, "question-asked")

    log_in(page, "rey@example.com")
    page.goto(question_url)
    page.get_by_label("Your answer").fill("Aim for 15% of your income, and start with the match at work.")
    page.get_by_role("button", name="Post my answer").click()
    expect(page.get_by_text("Your answer is up.")).to_be_visible()
    expect(page.get_by_test_id("answer")).to_contain_text("Aim for 15%")

    log_in(page, "ana@example.com")
    page.goto(question_url)
    accept = page.get_by_test_id("accept")
    expect(accept).to_be_visible()
    shot(page, "question-answered")
    accept.click()
    expect(page.get_by_test_id("accepted")).to_be_visible()
    expect(page.get_by_test_id("accept")).to_have_count(0)
    shot(page, "question-accepted")

    log_in(page, "rey@example.com")
    page.goto("/wallet/")
    expect(page.get_by_role("row", name=re.compile("Answer accepted"))).to_contain_text("25")
    shot(page, "wallet")
    page.goto(f"/providers/{provider.pk}/")
    expect(page.get_by_test_id("provider-answers")).to_contain_text("How much should I save at 40?")
    page.goto(f"/categories/{category.name}/questions/")
    expect(page.get_by_test_id("questions")).to_contain_text("1 answer")
    shot(page, "questions")
