"""The API's default throttle (imatch/throttling.py): one counter per caller and window."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from imatch.throttling import RequestRateThrottle
from tests.conftest import client_for

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


def test_a_refused_caller_is_let_through_again_when_the_window_ends(low_rates, seeded_categories, monkeypatch):
    """Fixed windows of the clock: the refusal says how long until the window ends, and then the
    count starts again. (tests/conftest.py stands the throttle's clock 30 s into a minute.)"""
    from types import SimpleNamespace

    from imatch import throttling

    client = APIClient()
    for _ in range(3):
        client.get("/api/v1/categories/")
    refused = client.get("/api/v1/categories/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) == 30
    moments_ago = throttling.time.time()
    monkeypatch.setattr(throttling, "time", SimpleNamespace(time=lambda: moments_ago + 29))
    assert client.get("/api/v1/categories/").status_code == 429  # the same window
    monkeypatch.setattr(throttling, "time", SimpleNamespace(time=lambda: moments_ago + 30))
    assert [client.get("/api/v1/categories/").status_code for _ in range(3)] == [200, 200, 200]
    assert client.get("/api/v1/categories/").status_code == 429


def test_a_logged_in_caller_has_the_user_rate_and_a_counter_of_their_own(low_rates, user, seeded_categories):
    anonymous = APIClient()
    for _ in range(3):
        anonymous.get("/api/v1/categories/")
    assert anonymous.get("/api/v1/categories/").status_code == 429
    logged_in = APIClient()
    logged_in.force_authenticate(user)
    assert [logged_in.get("/api/v1/pot/balance/").status_code for _ in range(5)] == [200] * 5
    assert logged_in.get("/api/v1/pot/balance/").status_code == 429


BALANCE = "/api/v1/pot/balance/"


def test_a_token_counts_once_per_request_on_the_persons_one_counter(low_rates, user):
    """A token the process checked before is counted in the check's own round trip
    (imatch.throttling `read_counting`): still once per request, on the person's one counter."""
    api = client_for(user)
    assert [api.get(BALANCE).status_code for _ in range(3)] == [200] * 3  # by query first, then kept
    other_device = APIClient()
    other_device.force_authenticate(user)
    assert [other_device.get(BALANCE).status_code for _ in range(2)] == [200] * 2
    refused = api.get(BALANCE)
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 61
    assert other_device.get(BALANCE).status_code == 429


def _revoke(user):
    AuthToken.objects.filter(user=user).delete()


def _expire(user):
    for token in AuthToken.objects.filter(user=user):
        token.expiry = timezone.now() - timedelta(seconds=1)
        token.save()


def _deactivate(user):
    user.is_active = False
    user.save()


@pytest.mark.parametrize("refuse", [_revoke, _expire, _deactivate], ids=["revoked", "expired", "inactive"])
def test_a_refused_token_takes_its_count_back(low_rates, user, refuse):
    """Whoever holds someone's old token cannot spend that person's rate: the check counted the
    request under the token's person before it refused it, and takes the count back."""
    old = client_for(user)
    assert [old.get(BALANCE).status_code for _ in range(2)] == [200, 200]  # the process knows whose it is
    refuse(user)
    assert {old.get(BALANCE).status_code for _ in range(10)} == {401}
    user.is_active = True
    user.save()
    fresh = client_for(user)
    assert [fresh.get(BALANCE).status_code for _ in range(4)] == [200, 200, 200, 429]  # 2 + 3 of 5


def test_a_view_with_a_throttle_of_its_own_does_not_count_on_the_user_rate(low_rates, user):
    api = client_for(user)
    assert api.get(BALANCE).status_code == 200
    for _ in range(5):  # counted under the `auth` scope only (ScopedRateThrottle)
        assert api.post("/api/v1/me/verify-email/resend/").status_code == 202
    assert [api.get(BALANCE).status_code for _ in range(5)] == [200, 200, 200, 200, 429]


def test_a_request_with_a_known_token_that_permissions_refuse_stays_counted(low_rates, user):
    """imatch.throttling: counted in the token check, a 403 is the person's request and counts
    (DRF's own order would not reach the throttle)."""
    api = client_for(user)
    assert api.get(BALANCE).status_code == 200  # the process knows whose token it is
    for _ in range(3):  # staff only
        assert api.post("/api/v1/pot/redemptions/1/approve/", {}, format="json").status_code == 403
    assert [api.get(BALANCE).status_code for _ in range(2)] == [200, 429]  # 1 + 3 + 1 of 5
