"""Registration, tokens, /me and the one error format."""

import json

from rest_framework.test import APIClient

from marketplace.models import User
from tests.marketplace.factories import PASSWORD, UserFactory

GOOD_PASSWORD = "a-long-and-unusual-passphrase"


def test_register_returns_the_user_and_a_working_token(api_client, db):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "Dana@Example.com", "password": GOOD_PASSWORD, "name": "Dana"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "name", "referral_code", "token"}
    assert body["email"] == "dana@example.com"

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    me = client.get("/api/v1/me/").json()
    assert me["email"] == "dana@example.com" and me["seekers"] == [] and me["account_type"] == "seeker"


def test_register_with_referral_code_links_the_referrer(api_client, user):
    response = api_client.post(
        "/api/v1/auth/register/",
        {
            "email": "friend@example.com",
            "password": GOOD_PASSWORD,
            "name": "Friend",
            "referral_code": user.referral_code,
        },
        format="json",
    )
    assert response.status_code == 201
    assert User.objects.get(email="friend@example.com").referred_by == user


def test_register_refusals_are_400_with_the_field(api_client, user):
    cases = [
        ({"email": user.email.upper(), "password": GOOD_PASSWORD, "name": "X"}, "email"),
        ({"email": "not-an-email", "password": GOOD_PASSWORD, "name": "X"}, "email"),
        ({"email": "x@example.com", "password": "123", "name": "X"}, "password"),
        ({"email": "x@example.com", "password": GOOD_PASSWORD, "name": "X" * 151}, "name"),
        ({"email": "x@example.com", "password": GOOD_PASSWORD}, "name"),
        (
            {"email": "x@example.com", "password": GOOD_PASSWORD, "name": "X", "referral_code": "ZZZZZZZZ"},
            "referral_code",
        ),
    ]
    for payload, field in cases:
        response = api_client.post("/api/v1/auth/register/", payload, format="json")
        assert response.status_code == 400, payload
        body = response.json()
        assert field in body["fields"], body
        assert body["detail"] and body["code"]
    assert User.objects.count() == 1


def test_malformed_json_is_a_400_not_a_500(api_client, db):
    response = api_client.post("/api/v1/auth/register/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_token_for_good_credentials_any_email_case(api_client, db):
    user = UserFactory(email="pat@example.com")
    response = api_client.post("/api/v1/auth/token/", {"email": "PAT@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/me/").json()["id"] == user.id


def test_token_refused_for_bad_credentials(api_client, user):
    response = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Unable to log in with these credentials."


def test_me_requires_authentication(api_client, db):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}


def test_session_authentication_works_too(client, user):
    client.force_login(user)
    assert json.loads(client.get("/api/v1/me/").content)["id"] == user.id


def test_openapi_schema_and_swagger_ui(client, db):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/v1/auth/register/", "/api/v1/seekers/{id}/", "/api/v1/providers/", "/api/v1/categories/"):
        assert path in text
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
