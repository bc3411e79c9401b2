"""The admin of the core loop: read-only lists, actions through the services, commission totals."""

import pytest
from django.test import Client

from marketplace.models import BillingStatus, EngagementStatus
from marketplace.services import engagements, ratings
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


def test_the_core_loop_rows_are_read_only_even_for_superusers(admin_client):
    engagement = confirmed_engagement()
    rating = ratings.rating_create(engagement=engagement, user=engagement.seeker.user, stars=4)
    for model, pk in (("match", engagement.match_id), ("engagement", engagement.pk), ("rating", rating.pk)):
        assert admin_client.get(f"/admin/marketplace/{model}/add/").status_code == 403
        assert admin_client.get(f"/admin/marketplace/{model}/{pk}/delete/").status_code == 403
        change = admin_client.get(f"/admin/marketplace/{model}/{pk}/change/")
        assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    # Only the engagements offer bulk actions (each one through a service); no "delete selected".
    for model, offers_actions in (("match", False), ("engagement", True), ("rating", False)):
        page = admin_client.get(f"/admin/marketplace/{model}/").content.decode()
        assert ('name="action"' in page) is offers_actions
        assert "delete_selected" not in page


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
