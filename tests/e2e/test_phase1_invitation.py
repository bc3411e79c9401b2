"""A Phase 1 advisor follows the invite_v1 link, sets a password and lands on "add your license" — in Chromium."""

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from marketplace.models import User
from tests.marketplace.test_import_v1 import customer, legacy_file, provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-and-unusual-passphrase"


def test_import_invite_and_follow_the_emailed_link(page, seeded_categories, tmp_path, settings, live_server):
    settings.SITE_URL = live_server.url
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[customer(1, "casey@example.com", needs_description="")],
        providers=[provider(1, "avery@example.com", name="Avery Stone")],
    )
    call_command("import_v1", str(path), stdout=StringIO())
    call_command("invite_v1", stdout=StringIO())
    assert len(mail.outbox) == 2
    call_command("invite_v1", stdout=StringIO())
    assert len(mail.outbox) == 2  # the second run sends nothing

    [email] = [message for message in mail.outbox if message.to == ["avery@example.com"]]
    link = re.search(r"http://\S+/welcome/\S+/", email.body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Your I MATCH account is ready")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()

    advisor = User.objects.get(email="avery@example.com")
    expect(page).to_have_url(re.compile(rf"/providers/{advisor.providers.get().pk}/edit/$"))
    expect(page.get_by_text("Welcome to I MATCH, Avery.")).to_be_visible()
    expect(page.get_by_role("navigation")).to_contain_text("Avery Stone")
    assert User.objects.get(pk=advisor.pk).check_password(PASSWORD)

    # The customer without a need is taken to the request form of financial advisors.
    page.context.clear_cookies()
    [email] = [message for message in mail.outbox if message.to == ["casey@example.com"]]
    page.goto(re.search(r"http://\S+/welcome/\S+/", email.body).group(0))
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    expect(page).to_have_url(re.compile(r"/seekers/new/\?category=financial_advisors$"))
    expect(page.get_by_label("What do you need?")).to_be_visible()
