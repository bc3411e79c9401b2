"""The admin of the core loop: read-only lists, actions through the services, commission totals."""

import pytest
from django.test import Client

from imatch.errors import PermissionDenied
from marketplace.models import BillingStatus, EngagementStatus
from marketplace.services import engagements, ratings
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import accepted_match, confirmed_engagement, make_category

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


def _action(client, action: str, engagement):
    url = "/admin/marketplace/engagement/"
    return client.post(url, {"action": action, "_selected_action": [engagement.pk]}, follow=True)


def test_operators_approve_or_reject_a_deal_under_review(admin_client):
    engagements_under_review = []
    for name in ("planners", "coaches"):
        match = accepted_match(make_category(name=name, deal_review_threshold_usd="5000"))
        engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="9000")
        engagements_under_review.append(engagements.engagement_confirm(engagement=engagement, user=match.provider.user))
    approved, rejected = engagements_under_review
    assert approved.status == rejected.status == EngagementStatus.UNDER_REVIEW
    page = _action(admin_client, "mark_invoiced", approved).content.decode()
    assert "Only a confirmed or completed engagement is invoiced." in page

    assert "Approved 1 engagement." in _action(admin_client, "review_approve", approved).content.decode()
    assert "Rejected 1 engagement." in _action(admin_client, "review_reject", rejected).content.decode()
    approved.refresh_from_db()
    rejected.refresh_from_db()
    assert approved.status == EngagementStatus.CONFIRMED and approved.reviewed_by is not None
    assert rejected.status == EngagementStatus.CANCELLED and rejected.commission_usd == 0
    again = _action(admin_client, "review_approve", approved).content.decode()
    assert "Only an engagement under review can be approved." in again


def test_operators_decide_a_disputed_cancellation(admin_client):
    kept, cancelled = confirmed_engagement(), confirmed_engagement(category=make_category(name="other"))
    for engagement in (kept, cancelled):
        engagements.engagement_cancel(engagement=engagement, user=engagement.seeker.user, reason="Changed my mind")
        engagements.engagement_cancel_dispute(engagement=engagement, user=engagement.provider.user, reason="Done")
    assert "Kept 1 engagement." in _action(admin_client, "dispute_keep", kept).content.decode()
    assert "Cancelled 1 engagement." in _action(admin_client, "dispute_cancel", cancelled).content.decode()
    kept.refresh_from_db()
    cancelled.refresh_from_db()
    assert kept.status == EngagementStatus.CONFIRMED
    assert cancelled.status == EngagementStatus.CANCELLED and cancelled.cancel_reason == "Changed my mind"
    page = _action(admin_client, "dispute_keep", kept).content.decode()
    assert "Only a requested or disputed cancellation is decided." in page


def test_review_and_dispute_decisions_are_for_operators_only():
    category = make_category(deal_review_threshold_usd="5000")
    match = accepted_match(category)
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="9000")
    engagement = engagements.engagement_confirm(engagement=engagement, user=match.provider.user)
    someone = UserFactory()
    for decide in (
        lambda: engagements.engagement_review_approve(engagement=engagement, operator=someone),
        lambda: engagements.engagement_review_reject(engagement=engagement, operator=someone),
        lambda: engagements.engagement_dispute_resolve(engagement=engagement, operator=someone, cancel=True),
    ):
        with pytest.raises(PermissionDenied):
            decide()
    # Not in the admin either: a non-staff person is sent to the login page.
    client = Client()
    client.force_login(someone)
    response = client.post(
        "/admin/marketplace/engagement/", {"action": "review_approve", "_selected_action": [engagement.pk]}
    )
    assert response.status_code == 302 and "/login/" in response["Location"]
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.UNDER_REVIEW
