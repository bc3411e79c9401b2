"""A newcomer signs up, creates a seeker profile and sees it on the dashboard — in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from marketplace.models import Seeker, User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_up_create_seeker_profile_and_see_it_on_the_dashboard(page, seeded_categories):
    page.goto("/")
    expect(page.get_by_role("link", name="Financial Advisors")).to_be_visible()
    expect(page.get_by_text("Career Coaches")).to_have_count(0)  # inactive: nowhere public

    page.get_by_role("navigation").get_by_role("button", name="Sign up").click()
    page.get_by_label("Email").fill("Dana.Reyes@Example.com")
    page.get_by_label("Name").fill("Dana Reyes")
    page.get_by_label("Password").fill("short")
    page.get_by_role("main").get_by_role("button", name="Sign up").click()
    # A weak password is refused next to its field; what was typed is kept.
    expect(page.locator(".errorlist")).to_contain_text("too short")
    expect(page.get_by_label("Email")).to_have_value("Dana.Reyes@Example.com")

    page.get_by_label("Password").fill("a-long-and-unusual-passphrase")
    page.get_by_role("main").get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_text("Welcome to I MATCH, Dana!")).to_be_visible()
    expect(page.get_by_role("navigation")).to_contain_text("Dana Reyes")

    page.get_by_role("button", name="Find a provider").click()
    page.get_by_role("button", name="Choose").first.click()
    page.get_by_label("Retirement planning").check()
    page.get_by_label("What do you need?").fill("I want to retire at 60 and need a plan.")
    page.get_by_label("Budget from (USD)").fill("300")
    page.get_by_label("Budget up to (USD)").fill("100")
    page.get_by_label("City", exact=True).fill("Austin")
    page.get_by_label("State", exact=True).select_option("TX")
    page.get_by_role("button", name="See my matches").click()
    # Reversed budget: the error stands next to the field and the form keeps the input.
    expect(page.locator(".errorlist")).to_contain_text("minimum must not be more than the maximum")
    expect(page.get_by_label("What do you need?")).to_have_value("I want to retire at 60 and need a plan.")

    page.get_by_label("Budget up to (USD)").fill("500")
    page.get_by_role("button", name="See my matches").click()
    expect(page).to_have_url(re.compile(r"/matches/#seeker-\d+$"))  # the matches, at once
    expect(page.get_by_text("Your Financial Advisors request is saved.")).to_be_visible()
    expect(page.get_by_text("No new compatible provider right now")).to_be_visible()
    page.goto("/dashboard/")
    row = page.get_by_role("row", name=re.compile("Financial Advisors"))
    expect(row).to_contain_text("Austin, TX")
    expect(row).to_contain_text("$300.00 – $500.00")

    user = User.objects.get(email="dana.reyes@example.com")
    seeker = Seeker.objects.get(user=user)
    assert seeker.category.name == "financial_advisors"
    assert [s.slug for s in seeker.specialties.all()] == ["retirement-planning"]
    assert user.account_type == "seeker"
