"""The whole core loop in Chromium: ask → matches → introduce → accept → engagement → confirm → rate → pay → wallets."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from currency.models import PotTransaction, Wallet
from marketplace.models import BillingStatus, BonusStatus, Engagement, EngagementStatus, Rating
from marketplace.services import engagements
from tests.e2e.conftest import open_menu
from tests.marketplace.factories import PASSWORD, UserFactory
from tests.marketplace.loop import make_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def log_out(page: Page) -> None:
    open_menu(page)
    page.get_by_role("navigation").get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out")).to_be_visible()


def flash(page: Page):
    return page.locator(".messages")


def test_the_whole_loop_in_the_browser(page: Page, seeded_categories):
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - earlier transactional tests flushed it
    advisors = seeded_categories["financial_advisors"]
    provider_user = UserFactory(name="Rosa Reyes", email="rosa@example.com")
    provider = make_provider(
        advisors,
        user=provider_user,
        verified=True,
        business_name="Reyes Retirement Planning",
        specialties=["retirement-planning"],
        bio="Fee-only planner: retirement income, pensions and Social Security.",
    )
    seeker_user = UserFactory(name="Dana Park", email="dana@example.com")

    # The seeker says what they need, then asks for matches.
    log_in(page, seeker_user.email)
    page.get_by_role("button", name="Find a provider").click()
    page.get_by_role("button", name="Choose").first.click()
    page.get_by_label("Retirement planning").check()
    page.get_by_label("What do you need?").fill("I want to retire at 60 with a steady pension income.")
    page.get_by_label("Budget from (USD)").fill("100")
    page.get_by_label("Budget up to (USD)").fill("300")
    page.get_by_label("City", exact=True).fill("Austin")
    page.get_by_label("State", exact=True).select_option("TX")
    page.get_by_role("button", name="See my matches").click()
    expect(page).to_have_url(re.compile(r"/matches/#seeker-\d+$"))  # matched at once
    expect(flash(page)).to_contain_text("1 new match.")
    card = page.get_by_role("article", name="Match with Reyes Retirement Planning")
    expect(card).to_contain_text("Specializes in retirement planning")
    expect(card).to_contain_text("Under 1 km away")
    expect(card).to_contain_text(re.compile(r"Match \d+%"))
    card.get_by_role("button", name="Introduce me").click()
    expect(flash(page)).to_contain_text("We introduced you to Reyes Retirement Planning")
    # The seeker lands in the conversation; emails are shared once the provider accepts.
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))
    expect(page.get_by_role("main")).not_to_contain_text(provider_user.email)
    log_out(page)

    # The provider accepts the lead and reports the engagement.
    log_in(page, provider_user.email)
    page.get_by_role("link", name="Your leads").click()
    lead = page.get_by_role("article", name="Lead from Dana Park")
    expect(lead).to_contain_text("steady pension income")
    expect(lead).to_contain_text("Email shared once you accept")
    lead.get_by_role("button", name="Accept").click()
    expect(flash(page)).to_contain_text("You accepted Dana Park")
    expect(page.get_by_role("article", name="Lead from Dana Park")).to_contain_text(seeker_user.email)
    page.get_by_role("button", name="Report the engagement").click()
    page.get_by_label("Deal value (USD)").fill("-20")
    page.get_by_role("button", name="Report the engagement").click()
    expect(page.locator(".errorlist")).to_be_visible()
    page.get_by_label("Deal value (USD)").fill("2000")
    page.get_by_role("button", name="Report the engagement").click()
    expect(flash(page)).to_contain_text("Engagement reported. Dana Park is asked to confirm it")
    log_out(page)

    # The seeker confirms and rates.
    log_in(page, seeker_user.email)
    page.get_by_role("link", name="Your engagements").click()
    page.get_by_role("button", name="Confirm").click()
    expect(flash(page)).to_contain_text("Engagement confirmed.")
    expect(flash(page)).to_contain_text("Your engagement bonus is pending")
    row = page.get_by_role("row", name=re.compile(r"Engagement \d+"))
    expect(row).to_contain_text("100 POT")
    expect(row).to_contain_text("pending: paid when the engagement is settled")  # a seeker never sees the commission
    page.get_by_role("button", name="Rate").click()
    page.get_by_label("★★★★★ Excellent").check()
    page.get_by_label("Review (optional)").fill("Clear plan, no jargon.")
    page.get_by_role("button", name="Save my rating").click()
    expect(flash(page)).to_contain_text("your rating of Reyes Retirement Planning is saved")
    page.get_by_role("link", name=re.compile(r"\d+ POT")).click()
    seeker_balance = Wallet.objects.get(user=seeker_user).balance
    expect(page.get_by_test_id("pot-balance")).to_have_text(f"{seeker_balance:,} POT")
    log_out(page)

    # The provider rates the seeker; the engagement bonus is not in the wallet yet.
    log_in(page, provider_user.email)
    page.get_by_role("link", name="Your engagements").click()
    page.get_by_role("button", name="Rate").click()
    page.get_by_label("★★★★ Good").check()
    page.get_by_role("button", name="Save my rating").click()
    expect(flash(page)).to_contain_text("your rating of Dana Park is saved")
    assert not PotTransaction.objects.filter(category="engagement_bonus").exists()

    # An operator invoices the commission and marks it paid: now both bonuses are paid.
    engagement = Engagement.objects.get()
    operator = UserFactory(is_staff=True)
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    engagements.engagement_mark_paid(engagement=engagement, operator=operator)
    page.reload()  # the rating led back to the engagements page
    expect(page.get_by_role("row", name=re.compile(r"Engagement \d+"))).to_contain_text("paid to your wallet")
    page.get_by_role("link", name=re.compile(r"\d+ POT")).click()
    provider_balance = Wallet.objects.get(user=provider_user).balance
    expect(page.get_by_test_id("pot-balance")).to_have_text(f"{provider_balance:,} POT")

    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.CONFIRMED and engagement.commission_usd == 400
    assert engagement.billing_status == BillingStatus.PAID and engagement.bonus_status == BonusStatus.PAID
    assert Rating.objects.count() == 2
    provider.refresh_from_db()
    assert (provider.rating_avg, provider.rating_count) == (5, 1)
    earned = {
        (row.user_id, row.category): row.amount
        for row in PotTransaction.objects.filter(category__in=["engagement_bonus", "rating_given", "rating_received"])
    }
    assert earned == {
        (provider_user.pk, "engagement_bonus"): 100,  # 5% of 2,000 USD
        (seeker_user.pk, "engagement_bonus"): 100,
        (seeker_user.pk, "rating_given"): 10,
        (provider_user.pk, "rating_given"): 10,
        (provider_user.pk, "rating_received"): 100,  # the seeker gave five stars
    }
    seeker_balance = Wallet.objects.get(user=seeker_user).balance
    assert seeker_balance == sum(PotTransaction.objects.filter(user=seeker_user).values_list("amount", flat=True))
    assert provider_balance == sum(PotTransaction.objects.filter(user=provider_user).values_list("amount", flat=True))
