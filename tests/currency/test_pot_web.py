"""The wallet pages and the navigation balance, through Django's test client."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from currency import selectors, services
from currency.models import Purchase, Redemption, SpendOption
from currency.services import pot_award
from tests.currency.factories import balance_of, funded_user, pot_fund, rows_of
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


def _key(page: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)


def test_wallet_needs_login(client):
    response = client.get(reverse("wallet"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_wallet_shows_balance_usd_level_and_history_in_plain_words(client, user):
    pot_award(user=user, rule_key="profile_creation_provider", cause="p")
    pot_fund(user, 525)
    client.force_login(user)
    page = client.get(reverse("wallet")).content.decode()
    assert "625 POT" in page and "$500.00" in page  # 625 x 0.80
    assert "Member" in page and "Level 2" in page
    assert "Provider profile created" in page and "Correction by an operator: Test funding" in page
    assert "+100" in page


def test_navigation_shows_the_balance_with_one_query(client, user):
    pot_fund(user, 1234)
    client.force_login(user)
    page = client.get(reverse("dashboard")).content.decode()
    assert re.search(r'class="pot-pill"[^>]*>1,234 POT<', page)
    assert reverse("wallet") in page
    # The wallet summary is read once, lazily, however many times the page shows it.
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("dashboard"))
    assert sum("pot_wallets" in q["sql"] for q in queries.captured_queries) == 1


def test_anonymous_pages_show_no_balance(client, seeded_categories):
    assert "pot-pill" not in client.get("/").content.decode()


def test_spend_asks_for_confirmation_with_cost_and_balance_after(client):
    provider = funded_user(1000, account_type="provider")
    client.force_login(provider)
    page = client.get(reverse("wallet-spend", args=["profile_boost"])).content.decode()
    assert 'data-testid="spend-cost">200 POT' in page
    assert 'data-testid="spend-balance-after">800 POT' in page
    assert "Confirm: spend 200 POT" in page
    assert balance_of(provider) == 1000  # looking charges nothing


def test_confirmed_spend_charges_once_even_when_submitted_twice(client):
    provider = funded_user(1000, account_type="provider")
    client.force_login(provider)
    url = reverse("wallet-spend", args=["profile_boost"])
    key = _key(client.get(url).content.decode())
    form = {"idempotency_key": key, "confirmed_cost": 200}
    first = client.post(url, form, follow=True)
    assert first.redirect_chain[-1][0] == reverse("wallet")
    assert "You spent 200 POT on Profile boost" in first.content.decode()
    client.post(url, form)  # a double click
    assert balance_of(provider) == 800 and Purchase.objects.count() == 1


def test_spend_without_confirmation_fields_charges_nothing(client):
    provider = funded_user(1000, account_type="provider")
    client.force_login(provider)
    response = client.post(reverse("wallet-spend", args=["profile_boost"]), {})
    assert response.status_code == 200 and balance_of(provider) == 1000


def test_spend_at_a_changed_price_is_refused_on_the_page(client):
    provider = funded_user(1000, account_type="provider")
    client.force_login(provider)
    url = reverse("wallet-spend", args=["profile_boost"])
    key = _key(client.get(url).content.decode())
    SpendOption.objects.filter(key="profile_boost").update(cost=250)
    page = client.post(url, {"idempotency_key": key, "confirmed_cost": 200}).content.decode()
    assert "now costs 250 POT" in page and balance_of(provider) == 1000


def test_spend_page_without_enough_pot_offers_no_button(client):
    provider = funded_user(150, account_type="provider")
    client.force_login(provider)
    page = client.get(reverse("wallet-spend", args=["profile_boost"])).content.decode()
    assert "You need 200 POT" in page and "Confirm: spend" not in page


def test_spend_page_for_the_other_role_offers_no_button(client):
    seeker = funded_user(1000)
    client.force_login(seeker)
    page = client.get(reverse("wallet-spend", args=["profile_boost"])).content.decode()
    assert "for providers only" in page and "Confirm: spend" not in page


def test_unknown_or_inactive_option_page_is_404(client, user):
    client.force_login(user)
    assert client.get(reverse("wallet-spend", args=["nope"])).status_code == 404
    SpendOption.objects.filter(key="extra_matches").update(active=False)
    assert client.get(reverse("wallet-spend", args=["extra_matches"])).status_code == 404


def test_redeem_form_holds_pot_and_lists_it_as_pending(client):
    person = funded_user(900, verified=True)
    client.force_login(person)
    key = _key(client.get(reverse("wallet")).content.decode())
    response = client.post(
        reverse("wallet-redeem"),
        {"pot_amount": 600, "payment_method": "PayPal me@x.io", "idempotency_key": key},
        follow=True,
    )
    page = response.content.decode()
    assert "Your redemption of 600 POT ($480.00) is on hold" in page
    assert "Your redemptions" in page and "PayPal me@x.io" in page and ">Requested<" in page
    assert balance_of(person) == 300 and Redemption.objects.count() == 1


def test_redeem_errors_show_next_to_the_field_and_keep_the_input(client):
    person = funded_user(900, verified=True)
    client.force_login(person)
    form = {"pot_amount": 100, "payment_method": "PayPal me@x.io", "idempotency_key": "a" * 32}
    page = client.post(reverse("wallet-redeem"), form).content.decode()
    assert "The minimum redemption is 500 POT." in page
    assert 'value="PayPal me@x.io"' in page and 'aria-invalid="true"' in page
    page = client.post(reverse("wallet-redeem"), {**form, "pot_amount": 1000}).content.decode()
    assert "Not enough POT" in page
    assert balance_of(person) == 900 and not Redemption.objects.exists()
    assert len(rows_of(person)) == 1


def test_dashboard_shows_wallet_and_level(client):
    person = UserFactory()
    pot_award(user=person, rule_key="profile_creation_seeker", cause="s")
    client.force_login(person)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Your wallet" in page and "Newcomer, level 1" in page and "$40.00" in page


def test_the_wallet_shows_what_is_ready_to_use_from_one_query(client):
    """Extra matches and commission credit not used yet: `purchases_ready` (one query) agrees with
    the two selectors that matching and engagements use, and the page shows it."""
    person = funded_user(2000, account_type="both")
    client.force_login(person)
    assert "Ready to use" not in client.get(reverse("wallet")).content.decode()
    services.pot_spend(user=person, option_key="extra_matches")
    services.pot_spend(user=person, option_key="extra_matches")
    services.pot_spend(user=person, option_key="commission_credit")
    services.commission_credit_apply(
        user=person, amount_usd=Decimal("50.00"), reference_type="engagement", reference_id=1
    )
    ready = selectors.purchases_ready(user=person)
    assert ready.extra_matches == selectors.extra_matches_available(user=person) == 6
    assert ready.credit_usd == selectors.commission_credit_available_usd(user=person) == Decimal("150.00")
    page = client.get(reverse("wallet")).content.decode()
    assert "6 extra matches for your next match run." in page and "$150.00 commission credit." in page
    services.extra_matches_take(user=person)
    page = client.get(reverse("wallet")).content.decode()
    assert "extra matches for your next match run" not in page and "$150.00 commission credit." in page
