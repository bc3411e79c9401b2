"""API tokens: one per device, expiring, revocable one at a time, all revoked by a password change."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from marketplace.services.tokens import api_token_issue
from tests.marketplace.factories import PASSWORD, UserFactory

NEW_PASSWORD = "a-long-and-unusual-passphrase"


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _token(api_client: APIClient, email: str, password: str = PASSWORD) -> str:
    response = api_client.post("/api/v1/auth/token/", {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["token"]


def test_each_login_is_its_own_device_token_and_tokens_are_stored_hashed(api_client, db):
    user = UserFactory(email="pat@example.com")
    phone, laptop = _token(api_client, "pat@example.com"), _token(api_client, "pat@example.com")
    assert phone != laptop
    assert _client(phone).get("/api/v1/me/").json()["id"] == user.id
    assert _client(laptop).get("/api/v1/me/").json()["id"] == user.id
    stored = AuthToken.objects.filter(user=user)
    assert stored.count() == 2
    assert not stored.filter(digest__in=[phone, laptop]).exists()


def test_a_token_expires_after_the_configured_days(api_client, db, settings):
    UserFactory(email="pat@example.com")
    token = _token(api_client, "pat@example.com")
    stored = AuthToken.objects.get()
    assert settings.REST_KNOX["TOKEN_TTL"] == timedelta(days=30)
    assert timedelta(days=30) - timedelta(minutes=1) < stored.expiry - timezone.now() <= timedelta(days=30)

    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    response = _client(token).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert not AuthToken.objects.exists()


def test_logout_revokes_only_the_token_used(api_client, db):
    UserFactory(email="pat@example.com")
    phone, laptop = _token(api_client, "pat@example.com"), _token(api_client, "pat@example.com")
    response = _client(phone).post("/api/v1/auth/logout/")
    assert response.status_code == 204
    assert _client(phone).get("/api/v1/me/").status_code == 401
    assert _client(laptop).get("/api/v1/me/").status_code == 200
    assert AuthToken.objects.count() == 1


def test_logout_refusals(api_client, client, user, db):
    """No token, a revoked token, or only a session (no token to revoke): 401, nothing revoked."""
    token = api_token_issue(user=user)
    other = api_token_issue(user=user)
    assert api_client.post("/api/v1/auth/logout/").status_code == 401
    _client(token).post("/api/v1/auth/logout/")
    again = _client(token).post("/api/v1/auth/logout/")
    assert again.status_code == 401 and again.json()["code"] == "authentication_failed"
    client.force_login(user)
    assert client.post("/api/v1/auth/logout/").status_code == 401
    assert _client(other).get("/api/v1/me/").status_code == 200


def test_a_password_reset_revokes_every_api_token(client, api_client, db):
    user = UserFactory(email="pat@example.com")
    tokens = [_token(api_client, "pat@example.com") for _ in range(2)]
    client.post("/password-reset/", {"email": "pat@example.com"})
    link = re.search(r"https://imatch\.test(/password-reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    for token in tokens:
        assert _client(token).get("/api/v1/me/").status_code == 401
    assert not AuthToken.objects.filter(user=user).exists()
    assert _client(_token(api_client, "pat@example.com", NEW_PASSWORD)).get("/api/v1/me/").status_code == 200


def test_any_password_change_revokes_every_api_token_of_that_person_only(db):
    """The admin's password form, `changepassword` and services all end in set_password() + save()."""
    user, other = UserFactory(), UserFactory()
    token, others_token = api_token_issue(user=user), api_token_issue(user=other)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert _client(token).get("/api/v1/me/").status_code == 401
    assert _client(others_token).get("/api/v1/me/").status_code == 200
    user.name = "Renamed"
    user.save()  # saving without a new password revokes nothing
    fresh = api_token_issue(user=user)
    user.save()
    assert _client(fresh).get("/api/v1/me/").status_code == 200


def test_token_count_per_person_is_capped_by_dropping_the_oldest(db, settings):
    user = UserFactory()
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 3}
    tokens = [api_token_issue(user=user) for _ in range(4)]
    assert AuthToken.objects.filter(user=user).count() == 3
    assert _client(tokens[0]).get("/api/v1/me/").status_code == 401
    assert all(_client(token).get("/api/v1/me/").status_code == 200 for token in tokens[1:])


@pytest.mark.parametrize("header", ["Token", "Token not-a-token", "Bearer abc"])
def test_malformed_token_headers_are_401(api_client, db, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    assert api_client.get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize(
    "header",
    [None, "", "Token", "token", "Token a b", "Token not-a-token", "Bearer abc", "Basic dXNlcjpwYXNz", "TOKEN {token}"],
)
def test_the_header_is_read_as_knox_reads_it(db, header):
    """imatch.authentication reads `Authorization` from META, not `request.headers`: the same
    answer and the same refusal as knox's own `authenticate`, for well-formed and malformed headers."""
    from knox.auth import TokenAuthentication as KnoxTokenAuthentication
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from imatch.authentication import TokenAuthentication

    user = UserFactory()
    token = api_token_issue(user=user)
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header.format(token=token)}

    def answer(authenticate):
        request = Request(APIRequestFactory().get("/api/v1/me/", **extra))
        try:
            found = authenticate(TokenAuthentication(), request)
        except AuthenticationFailed as refusal:
            return "refused", str(refusal.detail)
        return found if found is None else (found[0].pk, found[1].pk)

    ours = answer(TokenAuthentication.authenticate)
    assert ours == answer(KnoxTokenAuthentication.authenticate)
    if header == "TOKEN {token}":
        assert ours == (user.pk, AuthToken.objects.get(user=user).pk)
