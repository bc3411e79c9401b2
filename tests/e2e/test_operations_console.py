"""The operations console in Chromium at 1280 px: the index, the economy page and the weekly report
draw their charts (non-empty canvases) and show the same figures as the API."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from currency.services import pot_spend
from marketplace.services import engagements
from tests.currency.factories import pot_fund
from tests.marketplace.factories import PASSWORD, UserFactory
from tests.marketplace.loop import accepted_match, make_category

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  if (!canvas || Chart.getChart(canvas) === undefined || canvas.width === 0) { return false; }
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { return true; } }
  return false;
}"""


@pytest.fixture
def operator_page(page):
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - transactional tests flush it
    UserFactory(email="ops@example.com", name="Ops", is_staff=True, is_superuser=True)
    match = accepted_match(make_category())
    engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="1500.00")
    spender = UserFactory()
    pot_fund(spender, 250)
    pot_spend(user=spender, option_key="extra_matches")  # bars in the burned and spending-pattern charts
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(reverse("admin:login"))
    page.get_by_label("Email").fill("ops@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return page


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_console_economy_and_report_draw_and_agree_with_the_api(operator_page):
    page = operator_page
    page.goto(reverse("admin:index"))
    expect(page.get_by_role("heading", name="Work queue", exact=True)).to_be_visible()
    expect(page.locator("#kpi-deal_value .kpi-value")).to_have_text("$1,500.00")
    _fits(page)

    economy = page.request.get("/api/v1/pot/economy/").json()
    page.get_by_role("link", name="POT economy").first.click()
    page.wait_for_function(DRAWN, arg="daily-chart")
    page.wait_for_function(DRAWN, arg="circulation-chart")
    for chart in ("weekly-flows-chart", "participation-chart", "weekly-earning-chart", "weekly-spending-chart"):
        page.wait_for_function(DRAWN, arg=chart)
    newest_week = page.locator("#economy-weeks tbody tr").last.locator("td")
    expect(newest_week.last).to_have_text(economy["participation_rate_display"])
    expect(newest_week.nth(2)).to_have_text(f"{economy['total_pot_burned_all_time']:,}")  # all of it this week
    today = page.locator("#economy-days tbody tr").last.locator("td")
    expect(today.last).to_have_text(f"{economy['total_pot_in_circulation']:,}")
    spending = page.locator("#economy-weekly-reasons tbody tr", has_text="Spent: Extra matches").locator("td").last
    expect(spending).to_have_text(f"{economy['total_pot_spent_all_time']:,}")
    expect(page.locator("#statistic-participation_rate td.number")).to_have_text(economy["participation_rate_display"])
    expect(page.locator("#statistic-burn_rate td.number")).to_have_text(economy["burn_rate_display"])
    expect(page.locator("#statistic-total_pot_in_circulation td.number")).to_have_text(
        f"{economy['total_pot_in_circulation']:,} POT"
    )
    _fits(page)

    report = page.request.get("/api/v1/operations/weekly-report/?weeks=4").json()
    page.goto(reverse("admin:operations_weekly_report") + "?weeks=4")
    page.wait_for_function(DRAWN, arg="commission-chart")
    page.wait_for_function(DRAWN, arg="funnel-chart")
    for goal in report["goals"]:
        expect(page.locator(f"#goal-{goal['key']} td.number")).to_have_text(goal["actual"])
    [revenue] = report["revenue_by_category"]
    expect(page.locator("#report-revenue tbody tr").first).to_contain_text(f"${revenue['commission_usd']}")
    _fits(page)
