"""The pages that run the most script work under the Content-Security-Policy — in Chromium.

The `page` fixture fails a test whenever the browser refuses something under the policy.
"""

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from currency.services import pot_award
from tests.marketplace.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_policy_refusals_are_caught(page):
    """The check itself can fail: an inline script on a page under the policy is reported."""
    page.goto("/login/")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = '1'; document.body.append(s); }")
    page.wait_for_timeout(200)
    assert page.csp_violations and "script-src" in " ".join(page.csp_violations)
    page.csp_violations.clear()


def test_swagger_ui_renders_the_api_from_the_project(page):
    page.goto("/api/v1/docs/")
    expect(page.get_by_text("I MATCH API").first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()  # operations read from /api/v1/schema/


def test_the_economy_page_draws_its_chart(page):
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - earlier transactional tests flushed it
    UserFactory(email="ops@example.com", name="Ops", is_staff=True, is_superuser=True)
    pot_award(user=UserFactory(), rule_key="profile_creation_provider", cause="e2e-chart")
    page.goto(reverse("admin:login"))
    page.get_by_label("Email").fill("ops@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(reverse("admin:currency_economy"))
    expect(page.get_by_role("heading", name="Last 30 days")).to_be_visible()
    # Chart.js (a static file) and the page's chart script (another one) ran and drew the chart.
    page.wait_for_function(
        "() => { const c = document.getElementById('daily-chart');"
        " return Chart.getChart(c) !== undefined && c.width > 0; }"
    )
