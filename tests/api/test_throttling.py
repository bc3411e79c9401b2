"""The API's default throttle (imatch/throttling.py): one counter per caller and window."""

import pytest
from rest_framework.test import APIClient

from imatch.throttling import RequestRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setattr(
        RequestRateThrottle,
        "THROTTLE_RATES",
        {**RequestRateThrottle.THROTTLE_RATES, "anon": "3/minute", "user": "5/minute"},
    )


def test_anonymous_callers_are_refused_past_the_anon_rate(low_rates, seeded_categories):
    client = APIClient()
    assert [client.get("/api/v1/categories/").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/categories/")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 61


def test_a_logged_in_caller_has_the_user_rate_and_a_counter_of_their_own(low_rates, user, seeded_categories):
    anonymous = APIClient()
    for _ in range(3):
        anonymous.get("/api/v1/categories/")
    assert anonymous.get("/api/v1/categories/").status_code == 429
    logged_in = APIClient()
    logged_in.force_authenticate(user)
    assert [logged_in.get("/api/v1/pot/balance/").status_code for _ in range(5)] == [200] * 5
    assert logged_in.get("/api/v1/pot/balance/").status_code == 429
