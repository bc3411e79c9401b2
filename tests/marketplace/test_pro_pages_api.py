"""Pro on the API and the web page, and the expiry notice: what a provider sees, buys and is told."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from currency.models import Purchase, SpendEffect
from marketplace.services.pro import pro_buy, pro_expiry_notify
from notifications.models import Notification
from tests.conftest import client_for
from tests.currency.factories import balance_of
from tests.marketplace.factories import UserFactory
from tests.marketplace.test_pro import PRICE, _pro_category, _provider_user

pytestmark = pytest.mark.django_db


def test_the_api_sells_pro_once_per_key_and_reports_the_status():
    user = _provider_user()
    api, before = client_for(user), balance_of(user)
    assert api.get("/api/v1/pot/pro/").json()["active"] is False
    first = api.post("/api/v1/pot/pro/purchase/", {"expected_cost": PRICE}, format="json", HTTP_IDEMPOTENCY_KEY="p1")
    again = api.post("/api/v1/pot/pro/purchase/", {"expected_cost": PRICE}, format="json", HTTP_IDEMPOTENCY_KEY="p1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert before - balance_of(user) == PRICE  # charged once
    status = api.get("/api/v1/pot/pro/").json()
    assert status["active"] is True and status["price_pot"] == PRICE and status["saving_cap_usd"] == "400.00"


@pytest.mark.parametrize(
    ("who", "body", "answer", "code"),
    [
        ("seeker", {}, 400, "not_a_provider"),
        ("provider_without_pot", {}, 400, "insufficient_pot"),
        ("provider", {"expected_cost": PRICE - 1}, 409, "price_changed"),
        ("provider", {"expected_cost": "lots"}, 400, "invalid"),
    ],
)
def test_the_api_refuses_pro_with_a_clear_error_and_charges_nothing(who, body, answer, code):
    user = {
        "seeker": lambda: UserFactory(),
        "provider_without_pot": lambda: _provider_user(pot=0),
        "provider": lambda: _provider_user(),
    }[who]()
    before = balance_of(user)
    refused = client_for(user).post("/api/v1/pot/pro/purchase/", body, format="json")
    assert refused.status_code == answer and refused.json()["code"] == code
    assert balance_of(user) == before and not Purchase.objects.filter(effect=SpendEffect.PRO_TIER).exists()


def test_the_pro_page_offers_pro_and_buys_it_once_per_page_drawn(client):
    user = _provider_user(_pro_category(display_name="Planners"), pot=2 * PRICE)
    client.force_login(user)
    page = client.get(reverse("pro")).content.decode()
    assert f"{PRICE:,} POT" in page and "Planners" in page
    form = {"confirmed_cost": PRICE, "idempotency_key": "page-1"}
    before = balance_of(user)
    assert client.post(reverse("pro"), form).status_code == 302
    assert client.post(reverse("pro"), form).status_code == 302  # the same page posted twice: one purchase
    assert before - balance_of(user) == PRICE
    assert "You are Pro until" in client.get(reverse("pro")).content.decode()


def test_the_pro_page_shows_a_refusal_next_to_the_form(client):
    user = _provider_user(pot=0)
    client.force_login(user)
    before = balance_of(user)  # the provider profile's own award only
    page = client.post(reverse("pro"), {"confirmed_cost": PRICE, "idempotency_key": "page-2"})
    assert page.status_code == 200
    assert f"Not enough POT: the balance is {before} POT and this needs {PRICE} POT." in page.content.decode()
    assert balance_of(user) == before


def test_the_expiry_notice_goes_once_per_period_and_not_for_a_renewed_one(
    mailoutbox, django_capture_on_commit_callbacks
):
    ending, renewed = _provider_user(), _provider_user(pot=2 * PRICE)
    pro_buy(user=ending, idempotency_key="e")
    pro_buy(user=renewed, idempotency_key="r1")
    pro_buy(user=renewed, idempotency_key="r2")  # the next period starts where the first ends
    soon = timezone.now() + timedelta(days=28)  # 2 days before the first periods end
    with django_capture_on_commit_callbacks(execute=True):
        assert pro_expiry_notify(now=soon) == 1
        assert pro_expiry_notify(now=soon + timedelta(hours=1)) == 0  # the task runs hourly: told once
    assert [message.to for message in mail.outbox] == [[ending.email]]
    assert Notification.objects.filter(user=ending, kind="pro_expiring").count() == 1
    assert not Notification.objects.filter(user=renewed, kind="pro_expiring").exists()
