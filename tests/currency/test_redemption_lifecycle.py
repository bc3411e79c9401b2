"""Redemptions have a visible lifecycle: requested → approved (payout reference) → paid, or rejected (reason).

Each step notifies the person; the wallet page and the API show where a redemption stands.
"""

import pytest
from django.test import Client
from django.urls import reverse

from currency import services
from currency.errors import RedemptionNotApproved
from currency.models import Redemption, RedemptionStatus
from imatch.errors import NotFound, PermissionDenied
from notifications.models import Notification, NotificationKind
from tests.conftest import client_for
from tests.currency.factories import funded_user
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


def texts(user, kind) -> list[str]:
    return list(Notification.objects.filter(user=user, kind=kind).values_list("text", flat=True))


def test_requested_approved_paid_each_notifies(operator):
    person = funded_user(1000, verified=True)
    redemption = services.redemption_request(user=person, pot_amount=500, payment_method="PayPal p@x.com").redemption
    assert texts(person, NotificationKind.REDEMPTION_REQUESTED) == [
        f"Redemption #{redemption.pk} requested: 500 POT held for $400.00. An operator reviews it."
    ]
    services.redemption_approve(redemption_id=redemption.pk, operator=operator, payout_reference="PP-77")
    [approved] = texts(person, NotificationKind.REDEMPTION_APPROVED)
    assert "PP-77" in approved and "$400.00" in approved

    paid = services.redemption_mark_paid(redemption_id=redemption.pk, operator=operator)
    assert paid.status == RedemptionStatus.PAID and paid.paid_at is not None and paid.payout_reference == "PP-77"
    assert texts(person, NotificationKind.REDEMPTION_PAID) == [
        f"Redemption #{redemption.pk} paid: $400.00 (payout reference PP-77)."
    ]
    assert Notification.objects.get(user=person, kind=NotificationKind.REDEMPTION_PAID).link == reverse("wallet")
    with pytest.raises(RedemptionNotApproved):  # once
        services.redemption_mark_paid(redemption_id=redemption.pk, operator=operator)


def test_only_an_approved_redemption_is_marked_paid_and_only_by_an_operator(operator):
    person = funded_user(1000, verified=True)
    pending = services.redemption_request(user=person, pot_amount=500, payment_method="x").redemption
    with pytest.raises(RedemptionNotApproved):
        services.redemption_mark_paid(redemption_id=pending.pk, operator=operator)
    with pytest.raises(PermissionDenied):
        services.redemption_mark_paid(redemption_id=pending.pk, operator=person)
    with pytest.raises(NotFound):
        services.redemption_mark_paid(redemption_id=pending.pk + 1000, operator=operator)
    services.redemption_reject(redemption_id=pending.pk, operator=operator, reason="Unknown PayPal account.")
    with pytest.raises(RedemptionNotApproved):
        services.redemption_mark_paid(redemption_id=pending.pk, operator=operator)
    assert Redemption.objects.get(pk=pending.pk).status == RedemptionStatus.REJECTED
    [rejected] = texts(person, NotificationKind.REDEMPTION_REJECTED)
    assert "Unknown PayPal account." in rejected and "500 POT are back" in rejected


def test_the_wallet_page_shows_each_step(operator):
    person = funded_user(2000, verified=True)
    browser = Client()
    browser.force_login(person)
    first = services.redemption_request(user=person, pot_amount=500, payment_method="PayPal p@x.com").redemption
    page = browser.get(reverse("wallet")).content.decode()
    assert "Requested" in page and "next: an operator approves it" in page
    services.redemption_approve(redemption_id=first.pk, operator=operator, payout_reference="PP-1")
    page = browser.get(reverse("wallet")).content.decode()
    assert "payout reference PP-1" in page and "next: marked paid once the payout arrived" in page
    services.redemption_mark_paid(redemption_id=first.pk, operator=operator)
    second = services.redemption_request(user=person, pot_amount=500, payment_method="PayPal p@x.com").redemption
    services.redemption_reject(redemption_id=second.pk, operator=operator, reason="Account closed.")
    page = browser.get(reverse("wallet")).content.decode()
    assert ">Paid<" in page and "rejected" in page and "Account closed." in page


def test_the_api_marks_paid_for_staff_only(operator):
    person = funded_user(1000, verified=True)
    redemption = services.redemption_request(user=person, pot_amount=500, payment_method="x").redemption
    path = f"/api/v1/pot/redemptions/{redemption.pk}/paid/"
    staff = client_for(operator)
    refused = staff.post(path)
    assert refused.status_code == 409 and refused.json()["code"] == "not_approved"
    staff.post(f"/api/v1/pot/redemptions/{redemption.pk}/approve/", {"payout_reference": "PP-9"}, format="json")
    assert client_for(person).post(path).status_code == 403
    response = staff.post(path)
    assert response.status_code == 200 and response.json()["status"] == "paid" and response.json()["paid_at"]
    mine = client_for(person).get(f"/api/v1/pot/redemptions/{redemption.pk}/").json()
    assert (mine["status"], mine["payout_reference"]) == ("paid", "PP-9")


def test_the_admin_action_marks_approved_redemptions_paid(operator):
    person = funded_user(1500, verified=True)
    approved = services.redemption_request(user=person, pot_amount=500, payment_method="x").redemption
    services.redemption_approve(redemption_id=approved.pk, operator=operator, payout_reference="PP-2")
    pending = services.redemption_request(user=person, pot_amount=500, payment_method="x").redemption
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = admin.post(
        "/admin/currency/redemption/",
        {"action": "mark_paid", "_selected_action": [approved.pk, pending.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "Marked 1 redemption paid." in page and f"Redemption #{pending.pk}: Only an approved" in page
    assert Redemption.objects.get(pk=approved.pk).status == RedemptionStatus.PAID
    assert Redemption.objects.get(pk=pending.pk).status == RedemptionStatus.PENDING
