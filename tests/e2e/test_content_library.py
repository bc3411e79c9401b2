"""Write a premium article, publish it in the admin, unlock it as another person — in Chromium."""

import os
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from library.models import Article, ArticleStatus, ArticleUnlock
from tests.currency.factories import balance_of, pot_fund
from tests.marketplace.factories import PASSWORD, ProviderFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("LIBRARY_SCREENSHOTS")  # a folder: save the pages at 390 px there to look at them


def _shot(page, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], name
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _login(page, email: str, *, admin: bool = False) -> None:
    page.goto(reverse("admin:login") if admin else "/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_write_publish_and_unlock_an_article(browser, live_server, page):
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - transactional tests flush it
    author = ProviderFactory(user=UserFactory(email="ada@example.com", name="Ada Author"), license_verified=True)
    UserFactory(email="ops@example.com", name="Ops", is_staff=True, is_superuser=True)
    reader = UserFactory(email="rey@example.com", name="Rey Reader")
    pot_fund(reader, 100)

    _login(page, "ada@example.com")
    page.goto(reverse("dashboard"))
    page.get_by_role("link", name="My articles").click()
    _shot(page, "my-articles-empty")
    page.get_by_role("button", name="Write an article").click()
    page.get_by_label("Title").fill("Retirement in ten steps")
    page.get_by_label("Summary").fill("What to do at 45, 55 and 65.")
    page.get_by_label("Body").fill("## Step one\n\nWrite down **everything** you spend.\n\n<script>alert(1)</script>")
    page.get_by_label("Premium: readers unlock it with POT").check()
    page.get_by_label("Price in POT").fill("40")
    _shot(page, "article-form")
    page.get_by_test_id("submit-article").click()
    expect(page.get_by_text("Submitted: an operator reviews it")).to_be_visible()
    _shot(page, "my-articles-submitted")
    article = Article.objects.get()
    assert article.status == ArticleStatus.SUBMITTED

    operator = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}).new_page()
    _login(operator, "ops@example.com", admin=True)
    operator.goto(reverse("admin:library_article_change", args=[article.pk]))
    expect(operator.locator(".content-preview strong")).to_have_text("everything")
    operator.goto(reverse("admin:library_article_changelist") + "?status__exact=submitted")
    operator.locator(f'input[name="_selected_action"][value="{article.pk}"]').check()
    operator.locator('select[name="action"]').select_option("publish")
    operator.get_by_role("button", name="Go").click()
    expect(operator.get_by_text("Published 1 article.")).to_be_visible()
    operator.context.close()
    assert balance_of(author.user) == 50  # the content_published award

    page.context.clear_cookies()
    _login(page, "rey@example.com")
    page.goto(reverse("library"))
    _shot(page, "library")
    page.get_by_role("link", name="Retirement in ten steps").click()
    expect(page.get_by_text("Read the whole article for 40 POT")).to_be_visible()
    _shot(page, "article-locked")
    page.get_by_test_id("unlock").click()
    expect(page.get_by_text("Unlocked for 40 POT")).to_be_visible()
    expect(page.get_by_test_id("article-body").locator("strong")).to_have_text("everything")
    expect(page.get_by_test_id("get-matched")).to_be_visible()
    _shot(page, "article-unlocked")
    assert balance_of(reader) == 60 and balance_of(author.user) == 70
    assert ArticleUnlock.objects.count() == 1
    page.get_by_test_id("article-author").click()
    expect(page).to_have_url(re.compile(rf"/providers/{author.pk}/$"))
    expect(page.get_by_role("link", name="Retirement in ten steps")).to_be_visible()
    _shot(page, "provider-page")
