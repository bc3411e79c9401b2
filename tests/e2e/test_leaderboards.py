"""Leaderboards on a phone (390 px), in Chromium: from the dashboard to one's own anonymous row, then
showing one's name on the account page, and the boards with it after their next recompute."""

import re

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from growth.ranking import Month
from marketplace.models import User
from tests.e2e.test_first_sitting import ACTIONS_OFF_SCREEN
from tests.growth.test_leaderboards import _engagement, _provider, _referral
from tests.marketplace.factories import PASSWORD, SeekerFactory, UserFactory
from tests.marketplace.loop import make_category

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _on_screen(page) -> None:
    assert page.evaluate(ACTIONS_OFF_SCREEN) == [], f"actions outside the viewport on {page.url}"


def test_a_seeker_finds_their_anonymous_row_and_shows_their_name(page):
    category = make_category(name="planners", display_name="Planners")
    now = timezone.now()
    _engagement(_provider(category, name="Open Book Planning"), at=now)
    seeker = UserFactory(email="sam@example.com", name="Sam Connector")
    SeekerFactory(user=seeker, category=category)
    _referral(seeker, category=category, at=now)

    page.goto("/login/")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.get_by_role("link", name="This month's leaderboards").click()

    expect(page.get_by_role("heading", name="Leaderboards")).to_be_visible()
    connectors = page.locator('[data-board="connectors"]')
    expect(connectors.locator("tr.you")).to_contain_text("Anonymous")
    expect(page.get_by_role("main")).not_to_contain_text("Sam Connector")
    expect(page.locator('[data-board="providers"]')).to_contain_text("Open Book Planning")
    _on_screen(page)

    connectors.get_by_role("link", name="show your name").click()
    expect(page).to_have_url(re.compile(r"/account/#leaderboards$"))
    page.get_by_label("By my name").check()
    page.get_by_role("button", name="Save my leaderboard name").click()
    expect(page.locator(".messages")).to_contain_text("within 10 minutes")
    assert User.objects.get(pk=seeker.pk).leaderboard_opt_in is True

    cache.clear()  # the boards' next recompute (at most 10 minutes later)
    page.goto("/leaderboards/?category=planners")
    expect(connectors.locator("tr.you")).to_contain_text("Sam Connector")
    _on_screen(page)

    page.get_by_label("Month").select_option(label=Month.of(now).previous().label)
    page.get_by_role("button", name="Show").click()
    expect(page.locator('[data-board="providers"] .empty')).to_contain_text("No engagement was confirmed")
    _on_screen(page)
