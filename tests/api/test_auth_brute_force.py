"""The token endpoint cannot be brute-forced: throttled per client address, locked per email."""

import pytest
from django.test import RequestFactory
from rest_framework.throttling import ScopedRateThrottle

from imatch.client import client_ip
from tests.marketplace.factories import PASSWORD, UserFactory

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def auth_rate_20_a_minute(monkeypatch):
    """Production's auth throttle (the test settings raise every rate out of the way)."""
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "auth": "20/minute"}
    )


def _wrong_password(api_client, email: str, **headers):
    return api_client.post(TOKEN_URL, {"email": email, "password": "wrong"}, format="json", **headers)


def test_a_new_x_forwarded_for_each_time_does_not_reset_the_throttle(api_client, db, auth_rate_20_a_minute):
    # A different email each time, so that only the per-address throttle can stop the 21st.
    answers = [
        _wrong_password(api_client, f"guess{n}@example.com", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}") for n in range(21)
    ]
    assert [answer.status_code for answer in answers[:20]] == [400] * 20
    assert answers[20].status_code == 429
    assert answers[20].json()["code"] == "throttled"


def test_another_socket_address_has_its_own_throttle(api_client, db, auth_rate_20_a_minute):
    for n in range(20):
        _wrong_password(api_client, f"guess{n}@example.com", REMOTE_ADDR="203.0.113.1")
    assert _wrong_password(api_client, "x@example.com", REMOTE_ADDR="203.0.113.1").status_code == 429
    assert _wrong_password(api_client, "x@example.com", REMOTE_ADDR="203.0.113.2").status_code == 400


def test_behind_one_trusted_proxy_the_address_it_appended_is_the_client(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    assert client_ip(request) == "10.0.0.1"  # default 0: the header is anyone's to write
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert client_ip(request) == "198.51.100.7"  # not the spoofable left-most entry
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"


def test_failed_token_requests_lock_the_email_whatever_the_address(api_client, db, settings):
    UserFactory(email="pat@example.com")
    answers = [
        _wrong_password(api_client, "Pat@Example.com" if n % 2 else "pat@example.com", REMOTE_ADDR=f"203.0.113.{n}")
        for n in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert [answer.status_code for answer in answers[:-1]] == [400] * (settings.AXES_FAILURE_LIMIT - 1)
    assert answers[-1].status_code == 429
    locked = api_client.post(TOKEN_URL, {"email": "pat@example.com", "password": PASSWORD}, format="json")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert "15 minutes" in locked.json()["detail"]
    assert "token" not in locked.json()
    # Another person is not affected.
    UserFactory(email="sam@example.com")
    assert (
        api_client.post(TOKEN_URL, {"email": "sam@example.com", "password": PASSWORD}, format="json").status_code == 200
    )


def test_the_lockout_answer_is_the_same_for_an_email_without_an_account(api_client, db, settings):
    UserFactory(email="pat@example.com")
    answers = {}
    for email in ("pat@example.com", "nobody@example.com"):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _wrong_password(api_client, email)
        response = _wrong_password(api_client, email)
        answers[email] = (response.status_code, response.json())
    assert answers["pat@example.com"] == answers["nobody@example.com"]
    assert answers["pat@example.com"][0] == 429


def test_the_schema_documents_the_lockout_and_logout(client, db):
    schema = client.get("/api/v1/schema/?format=json").json()
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert "locked_out" in token["429"]["description"] and "throttled" in token["429"]["description"]
    logout = schema["paths"]["/api/v1/auth/logout/"]["post"]["responses"]
    assert set(logout) >= {"204", "401"}
