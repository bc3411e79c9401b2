"""The wallet page and the navigation POT kept per person (`imatch.person_cache`, `Scope.LEDGER`).

The page must render the bytes today's code renders (apart from the CSRF token), read no
query for the ledger on a hit, and never show a stale ledger: each test below does a write
(or lets time pass) and reads again with `PERSON_CACHE_VERIFY` off, so it fails if the write
forgot to forget.
"""

import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.template import engines, loader
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from currency import selectors, services
from currency.models import SpendOption
from currency.web import views, wallet_kept
from currency.web.forms import RedeemForm
from tests.currency.factories import pot_fund
from tests.marketplace.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_verify")]

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
IDEMPOTENCY = re.compile(rb'name="idempotency_key" value="[0-9a-f]+"')


@pytest.fixture
def no_verify():
    """Serve kept answers as production does: a stale one is not caught by rebuilding it."""
    with override_settings(PERSON_CACHE_VERIFY=False):
        yield


def todays_wallet_page(request, *, redeem_form=None):
    """The wallet page as main renders it (every part read from the database on each request)."""
    user = request.user
    summary = selectors.wallet_summary(user=user)
    history = Paginator(selectors.transactions_of_user(user=user), wallet_kept.HISTORY_PAGE_SIZE)
    ready = selectors.purchases_ready(user=user)
    options = list(selectors.spend_options_active())
    for option in options:
        option.affordable = option.cost <= summary.balance
        option.for_you = services.fits_audience(user, option.audience)
    context = {
        "summary": summary,
        "nav_pot": summary,
        "level": summary.level,
        "page": history.get_page(request.GET.get("page")),
        "options": options,
        "redeem_form": redeem_form or RedeemForm(),
        "min_redemption": django_settings.POT_MIN_REDEMPTION,
        "usd_rate": django_settings.POT_USD_RATE,
        "redemptions": selectors.redemptions_of_user(user=user)[: wallet_kept.REDEMPTIONS_SHOWN],
        "purchases": selectors.purchases_of_user(user=user)[:10],
        "credit_usd": ready.credit_usd,
        "extra_matches": ready.extra_matches,
    }
    return HttpResponse(todays_template().render(context, request))


def todays_template():
    """main's `currency/wallet.html`: the sections kept rendered (now files of their own) written in place."""
    page = loader.get_template("currency/wallet.html").template.source
    for variable, name in (
        ("{{ top_section }}", "_wallet_top.html"),
        ("{{ history_section }}", "_wallet_history.html"),
    ):
        section = loader.get_template(f"currency/{name}").template.source
        section = section.split("#}", 1)[1].removeprefix("{% load humanize %}")  # less its comment and load
        assert page.count(variable) == 1
        page = page.replace(variable, section)
    return engines["django"].from_string(page)


def _without_tokens(content: bytes) -> bytes:
    """The page less its per-render tokens: the CSRF token and the form's new idempotency key."""
    return IDEMPOTENCY.sub(b"idempotency_key", CSRF.sub(b"csrf", content))


@pytest.fixture
def seeker(db):
    return UserFactory(verified=True, account_type="seeker", time_zone="America/New_York")


@pytest.fixture
def browser(client, seeker):
    client.force_login(seeker)
    return client


def _history(user, operator, rows: int = 3):
    for n in range(rows):
        services.pot_award(user=user, rule_key="rating_given", cause=f"kept-page:{n}")
    pot_fund(user, 2_000)
    services.pot_spend(user=user, option_key="extra_matches", idempotency_key="kept-page-spend")
    pending = services.redemption_request(user=user, pot_amount=600, payment_method="paypal:me@example.com")
    decided = services.redemption_request(user=user, pot_amount=500, payment_method="paypal:me@example.com")
    services.redemption_approve(redemption_id=decided.redemption.pk, operator=operator, payout_reference="PAY-1")
    return pending.redemption


@pytest.mark.parametrize("query", ["", "?page=2", "?page=99", "?page=x"])
def test_the_kept_page_is_todays_bytes(browser, seeker, operator, monkeypatch, query):
    _history(seeker, operator, rows=25)  # two pages of history
    url = reverse("wallet") + query
    miss, hit = browser.get(url), browser.get(url)
    with monkeypatch.context() as patch:
        patch.setattr(views, "_wallet_page", todays_wallet_page)
        today = browser.get(url)
    assert miss.status_code == hit.status_code == today.status_code == 200
    assert _without_tokens(miss.content) == _without_tokens(hit.content) == _without_tokens(today.content)
    assert b"Your redemptions" in today.content and b"Your purchases" in today.content


def test_a_hit_reads_nothing_of_the_ledger(browser, seeker, operator, settings, django_assert_num_queries):
    settings.POT_RULES_CACHE_SECONDS = 30  # production's per-process copy of the catalogue
    selectors.pot_rules_forget()
    _history(seeker, operator)
    browser.get(reverse("wallet"))
    with django_assert_num_queries(0):  # the session's user is kept too (imatch.session_auth)
        assert browser.get(reverse("wallet")).status_code == 200
    selectors.pot_rules_forget()


def test_a_kept_page_carries_the_requests_own_tokens(seeker, monkeypatch):
    from django.test import Client

    pot_fund(seeker, 2_000)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(seeker)
    browser.get(reverse("wallet"))
    renders = []
    monkeypatch.setattr(views, "_wallet_html", lambda *args, **kwargs: renders.append(1) or "")
    first, second = browser.get(reverse("wallet")).content, browser.get(reverse("wallet")).content
    assert not renders  # served whole from the cache
    keys = [IDEMPOTENCY.search(page).group(0) for page in (first, second)]
    assert keys[0] != keys[1]  # a new key per view: two views are two redemptions
    assert wallet_kept.IDEMPOTENCY_MARK.encode() not in first and b"imatch-csrf-token" not in first
    assert first.count(b'name="csrfmiddlewaretoken"') == 2  # the logout form and the redeem form
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', second).group(1).decode()
    key = re.search(rb'name="idempotency_key" value="([0-9a-f]+)"', second).group(1).decode()
    monkeypatch.undo()
    answer = browser.post(
        reverse("wallet-redeem"),
        {"csrfmiddlewaretoken": token, "idempotency_key": key, "pot_amount": 600, "payment_method": "paypal:me@x.io"},
    )
    assert answer.status_code == 302  # the kept page's form works: its CSRF token is the request's
    assert selectors.redemptions_of_user(user=seeker).count() == 1


def test_a_new_name_and_a_new_notification_are_shown_at_once(browser, seeker):
    from notifications.models import NotificationKind
    from notifications.services import notify

    pot_fund(seeker, 40)
    assert b'data-testid="bell-count"' not in browser.get(reverse("wallet")).content
    notify(user=seeker, kind=NotificationKind.POT_EARNED, text="You earned 40 POT.", link="/wallet/")
    assert b'data-testid="bell-count">1<' in browser.get(reverse("wallet")).content
    seeker.name = "Renamed Person"
    seeker.save(update_fields=["name"])
    assert b"Renamed Person" in browser.get(reverse("wallet")).content


def test_a_redeem_form_with_errors_is_never_kept(browser, seeker):
    pot_fund(seeker, 40)
    browser.get(reverse("wallet"))
    answer = browser.post(reverse("wallet-redeem"), {"idempotency_key": "k1", "pot_amount": "", "payment_method": ""})
    assert answer.status_code == 200 and b"This field is required." in answer.content
    assert b"This field is required." not in browser.get(reverse("wallet")).content


@pytest.mark.parametrize("decision", ["approve", "reject", "mark_paid"])
def test_an_operators_decision_is_shown_at_once(browser, seeker, operator, decision):
    pending = _history(seeker, operator)
    if decision == "mark_paid":
        services.redemption_approve(redemption_id=pending.pk, operator=operator, payout_reference="PAY-2")
    assert b"PAY-2" not in browser.get(reverse("wallet")).content or decision == "mark_paid"
    before = browser.get(reverse("wallet")).content

    if decision == "approve":
        services.redemption_approve(redemption_id=pending.pk, operator=operator, payout_reference="PAY-2")
    elif decision == "reject":
        services.redemption_reject(redemption_id=pending.pk, operator=operator, reason="Wrong address")
    else:
        services.redemption_mark_paid(redemption_id=pending.pk, operator=operator)

    after = browser.get(reverse("wallet")).content
    assert after != before
    expected = {"approve": b"payout reference PAY-2", "reject": b"Wrong address", "mark_paid": b" \xc2\xb7 paid "}
    assert expected[decision] in after


def test_extra_matches_used_are_shown_at_once(browser, seeker, operator):
    _history(seeker, operator)
    assert b"3 extra matches for your next match run" in browser.get(reverse("wallet")).content
    services.extra_matches_take(user=seeker)
    page = browser.get(reverse("wallet")).content
    assert b"3 extra matches for your next match run" not in page and b"3 extra matches (used)" in page


def test_a_kept_page_does_not_freeze_a_boosts_state(client, monkeypatch):
    provider = UserFactory(account_type="provider")
    pot_fund(provider, 1_000)
    services.pot_spend(user=provider, option_key="profile_boost", idempotency_key="boost")
    client.force_login(provider)
    assert b"(active)" in client.get(reverse("wallet")).content
    later = timezone.now() + timedelta(days=8)  # the 7-day boost has ended; nothing was written
    monkeypatch.setattr(timezone, "now", lambda: later)
    page = client.get(reverse("wallet")).content
    assert b"(ended)" in page and b"(active)" not in page


def test_an_option_changed_in_the_admin_is_shown_at_once(browser, seeker, admin_client, settings):
    settings.POT_RULES_CACHE_SECONDS = 30  # production's per-process copy of the catalogue
    selectors.pot_rules_forget()
    pot_fund(seeker, 500)
    assert b"Buy extra matches" in browser.get(reverse("wallet")).content
    option = SpendOption.objects.get(key="extra_matches")
    fields = {"name": "More matches", "description": option.description, "cost": 900, "audience": option.audience}
    response = admin_client.post(
        reverse("admin:currency_spendoption_change", args=[option.pk]),
        {**fields, "effect": option.effect, "quantity": option.quantity, "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    page = browser.get(reverse("wallet")).content
    assert b"More matches</strong> \xc2\xb7 900 POT" in page and b"You need 900 POT." in page
    selectors.pot_rules_forget()


def test_the_navigation_pot_follows_each_posting(client, seeker):
    client.force_login(seeker)
    pot_fund(seeker, 40)
    home = reverse("dashboard")
    assert b"40 POT" in client.get(home).content
    pot_fund(seeker, 2)
    assert b"42 POT" in client.get(home).content


def test_a_flash_message_is_never_kept(browser, seeker):
    pot_fund(seeker, 500)
    browser.get(reverse("wallet"))
    confirm = browser.get(reverse("wallet-spend", args=["extra_matches"])).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', confirm).group(1)
    answer = browser.post(
        reverse("wallet-spend", args=["extra_matches"]), {"confirmed_cost": 100, "idempotency_key": key}, follow=True
    )
    assert b"You spent 100 POT" in answer.content
    assert b"You spent 100 POT" not in browser.get(reverse("wallet")).content


def test_a_new_time_zone_is_shown_at_once(browser, seeker):
    pot_fund(seeker, 40)
    assert (
        b" EST</td>" in browser.get(reverse("wallet")).content or b" EDT</td>" in browser.get(reverse("wallet")).content
    )
    seeker.time_zone = "Asia/Tokyo"
    seeker.save(update_fields=["time_zone"])  # the dates are written in the zone of the request's user

    page = browser.get(reverse("wallet")).content

    assert b" JST</td>" in page and b" EST</td>" not in page and b" EDT</td>" not in page


def test_a_new_role_is_shown_at_once(browser, seeker):
    pot_fund(seeker, 1_000)
    assert b"Buy profile boost" not in browser.get(reverse("wallet")).content
    seeker.account_type = "both"  # as the profile services set it when a seeker also becomes a provider
    seeker.save(update_fields=["account_type"])

    assert b"Buy profile boost" in browser.get(reverse("wallet")).content


def test_a_verified_email_is_shown_at_once(client):
    person = UserFactory(email_verified_at=None)
    pot_fund(person, 700)
    client.force_login(person)
    assert b'data-testid="pot-redeemable">0 POT' in client.get(reverse("wallet")).content
    person.email_verified_at = timezone.now()
    person.save(update_fields=["email_verified_at"])

    assert b'data-testid="pot-redeemable">700 POT' in client.get(reverse("wallet")).content
