"""The admin of the core loop: read-only lists, actions through the services, commission totals."""

import pytest
from django.test import Client

from marketplace.models import BillingStatus, EngagementStatus
from marketplace.services import engagements
from tests.marketplace.loop import accepted_match, confirmed_engagement

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def test_lists_open_for_operators(admin_client):
    engagement = confirmed_engagement()
    for model in ("match", "engagement", "rating"):
        assert admin_client.get(f"/admin/marketplace/{model}/").status_code == 200
    assert admin_client.get(f"/admin/marketplace/engagement/{engagement.pk}/change/").status_code == 200
    assert admin_client.get("/admin/marketplace/engagement/add/").status_code == 403


def test_commission_totals_by_category_are_shown(admin_client):
    confirmed_engagement("1000.00")
    page = admin_client.get("/admin/marketplace/engagement/").content.decode()
    assert "Commission by category" in page and "$200.00" in page


def test_confirm_invoice_and_pay_through_the_actions(admin_client):
    match = accepted_match()
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="500")
    url = "/admin/marketplace/engagement/"
    for action in ("confirm", "mark_invoiced", "mark_paid"):
        response = admin_client.post(url, {"action": action, "_selected_action": [engagement.pk]}, follow=True)
        assert response.status_code == 200
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.CONFIRMED and engagement.billing_status == BillingStatus.PAID

    again = admin_client.post(url, {"action": "mark_paid", "_selected_action": [engagement.pk]}, follow=True)
    assert "Only an invoiced engagement can be marked paid." in again.content.decode()
