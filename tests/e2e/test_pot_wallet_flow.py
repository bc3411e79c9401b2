"""A seeker opens the wallet, buys extra matches after confirming the price, and asks to redeem — in Chromium."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from currency.models import Purchase, Redemption
from tests.currency.factories import balance_of, pot_fund
from tests.marketplace.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_wallet_spend_with_confirmation_and_redeem(page):
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - earlier transactional tests flushed it
    seeker = UserFactory(email="sam@example.com", name="Sam Lee", verified=True)  # redeeming needs it
    pot_fund(seeker, 1200)

    page.goto("/login/")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    nav_balance = page.get_by_role("navigation").get_by_role("link", name=re.compile("POT"))
    expect(nav_balance).to_have_text("1,200 POT")

    nav_balance.click()
    expect(page).to_have_url(re.compile(r"/wallet/$"))
    expect(page.get_by_test_id("pot-balance")).to_have_text("1,200 POT")
    expect(page.get_by_text("Worth $960.00")).to_be_visible()
    expect(page.get_by_test_id("pot-redeemable")).to_have_text("1,200 POT ($960.00)")

    page.get_by_role("button", name="Buy extra matches").click()
    # The confirmation step: the price and the balance after, before anything is charged.
    expect(page.get_by_test_id("spend-cost")).to_have_text("100 POT")
    expect(page.get_by_test_id("spend-balance-after")).to_have_text("1,100 POT")
    assert balance_of(seeker) == 1200
    page.get_by_role("button", name="Confirm: spend 100 POT").click()
    expect(page.get_by_text("You spent 100 POT on Extra matches")).to_be_visible()
    expect(nav_balance).to_have_text("1,100 POT")
    expect(page.get_by_role("row", name=re.compile("Extra matches"))).to_contain_text("-100")

    page.get_by_label("POT to redeem").fill("200")
    page.get_by_label("Pay me at").fill("PayPal sam@example.com")
    page.get_by_role("button", name="Ask to redeem").click()
    expect(page.locator(".errorlist")).to_contain_text("The minimum redemption is 500 POT.")
    expect(page.get_by_label("Pay me at")).to_have_value("PayPal sam@example.com")

    page.get_by_label("POT to redeem").fill("600")
    page.get_by_role("button", name="Ask to redeem").click()
    expect(page.get_by_text("Your redemption of 600 POT ($480.00) is on hold")).to_be_visible()
    expect(nav_balance).to_have_text("500 POT")

    assert Purchase.objects.filter(user=seeker, effect="extra_matches").count() == 1
    assert Redemption.objects.get(user=seeker).status == "pending"
