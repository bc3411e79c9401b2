"""The admin's referrals: every referral row, and referrers by count with their rates (to spot farms)."""

import pytest
from django.test import Client

from marketplace.models import Referral, ReferralStatus
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def _referrals(referrer, *statuses: str) -> None:
    for status in statuses:
        referred = UserFactory(referred_by=referrer)
        Referral.objects.create(referrer=referrer, referred=referred, code=referrer.referral_code, status=status)


def test_referrers_are_listed_by_count_with_activation_and_engagement_rates(admin_client):
    farm, connector, _nobody = (
        UserFactory(email="farm@example.com"),
        UserFactory(email="con@example.com"),
        UserFactory(),
    )
    _referrals(farm, *[ReferralStatus.SIGNED_UP] * 7, ReferralStatus.ACTIVATED)
    _referrals(connector, ReferralStatus.ENGAGED, ReferralStatus.ENGAGED, ReferralStatus.ACTIVATED, "signed_up")
    page = admin_client.get("/admin/marketplace/referrer/").content.decode()
    assert page.index("farm@example.com") < page.index("con@example.com")  # most referred people first
    farm_row = page.split("farm@example.com")[1].split("</tr>")[0]
    assert ">8<" in farm_row and ">12%<" in farm_row and ">0%<" in farm_row  # 1 of 8 activated, none engaged
    connector_row = page.split("con@example.com")[1].split("</tr>")[0]
    assert ">75%<" in connector_row and ">50%<" in connector_row
    assert "2 referrers" in page  # people who referred nobody are not listed


def test_referral_rows_are_listed_and_read_only(admin_client):
    referrer = UserFactory()
    _referrals(referrer, ReferralStatus.ACTIVATED)
    referral = Referral.objects.get()
    assert admin_client.get("/admin/marketplace/referral/").status_code == 200
    assert admin_client.get(f"/admin/marketplace/referral/{referral.pk}/change/").status_code == 200
    assert admin_client.get("/admin/marketplace/referral/add/").status_code == 403
    assert admin_client.post(f"/admin/marketplace/referral/{referral.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/marketplace/referrer/add/").status_code == 403


def test_people_who_are_not_operators_cannot_open_them(client):
    client.force_login(UserFactory())
    for path in ("/admin/marketplace/referrer/", "/admin/marketplace/referral/"):
        assert client.get(path).status_code == 302
