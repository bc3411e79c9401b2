"""Bad input never reaches a 500: paging, deep JSON, NUL characters, big bodies, unknown paths, text.

Each refusal is a 400 (413 for a body over the limit) in the API's error format under
/api/ and an HTML page elsewhere. Several of these were a 500 on PostgreSQL only (a NUL
character is a DataError there): run this module on both databases.
"""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

from marketplace.models import Seeker, User
from tests.api.test_error_catalogue import _codes
from tests.api.test_profiles_api import SEEKER
from tests.marketplace.factories import ProviderFactory

pytestmark = pytest.mark.django_db

REGISTER = {"email": "ana@example.com", "password": "a-long-enough-passphrase", "name": "Ana Lopez"}


def assert_api_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code and body["detail"]
    return body


# --- limit and offset ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=99999999999999999999", "limit"),
        ("limit=1000001", "limit"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=1e9999", "limit"),
        ("limit=2.5", "limit"),
        ("limit=ten", "limit"),
        ("limit=%D9%A3", "limit"),  # ARABIC-INDIC DIGIT THREE: int() would take it
        ("limit=+5", "limit"),
        ("offset=-1", "offset"),
        ("offset=1e9999", "offset"),
        ("offset=99999999999999999999", "offset"),
        ("offset=1000001", "offset"),
        ("offset=NaN", "offset"),
    ],
)
def test_a_bad_limit_or_offset_is_a_400_naming_it(api_client, query, field):
    body = assert_api_error(api_client.get(f"/api/v1/providers/?{query}"), 400, "invalid")
    assert list(body["fields"]) == [field]


def test_a_bad_limit_is_refused_on_private_lists_too(user_api):
    for path in ("/api/v1/pot/transactions/", "/api/v1/matches/", "/api/v1/engagements/", "/api/v1/seekers/"):
        assert_api_error(user_api.get(f"{path}?limit=99999999999999999999"), 400, "invalid")


def test_a_limit_over_100_is_clamped_to_100(api_client, seeded_categories):
    ProviderFactory.create_batch(101, category=seeded_categories["financial_advisors"], license_verified=True)
    response = api_client.get("/api/v1/providers/?limit=500")
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 100 and body["count"] == 101
    assert "limit=100" in body["next"]


def test_good_paging_values_still_page(api_client, seeded_categories):
    ProviderFactory.create_batch(3, category=seeded_categories["financial_advisors"], license_verified=True)
    everything = api_client.get("/api/v1/providers/").json()["results"]
    page = api_client.get("/api/v1/providers/?limit=1&offset=1").json()
    assert [p["id"] for p in page["results"]] == [everything[1]["id"]]
    assert api_client.get("/api/v1/providers/?limit=&offset=").json()["results"] == everything  # empty = absent
    assert api_client.get("/api/v1/providers/?offset=1000000").json()["results"] == []


# --- JSON bodies -----------------------------------------------------------------------


def test_json_nested_1000_levels_deep_is_a_400_even_anonymously(api_client):
    body = "[" * 1000 + "]" * 1000
    response = api_client.post("/api/v1/auth/register/", data=body, content_type="application/json")
    assert_api_error(response, 400, "too_deep")
    assert not User.objects.exists()


def test_json_nested_past_the_limit_is_a_400(user_api, seeded_categories):
    nested: object = "x"
    for _ in range(33):
        nested = {"a": nested}
    response = user_api.post("/api/v1/seekers/", {**SEEKER, "extra": nested}, format="json")
    assert_api_error(response, 400, "too_deep")
    assert not Seeker.objects.exists()


def test_json_nested_up_to_the_limit_is_accepted(user_api, seeded_categories):
    nested: object = "x"
    for _ in range(31):  # the body itself is the 32nd level
        nested = [nested]
    response = user_api.post("/api/v1/seekers/", {**SEEKER, "extra": nested}, format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    "body",
    [
        {**SEEKER, "needs_description": "Retire\u0000 early"},
        {**SEEKER, "specialties": ["retirement-planning\u0000"]},
        {**SEEKER, "category": "\u0000"},
        {**SEEKER, "city\u0000": "Austin"},
    ],
)
def test_a_nul_character_in_json_is_a_400(user_api, seeded_categories, body):
    response = user_api.post("/api/v1/seekers/", data=json.dumps(body), content_type="application/json")
    assert_api_error(response, 400, "nul_character")
    assert not Seeker.objects.exists()


# --- The schema says so ------------------------------------------------------------------


def test_the_schema_lists_the_input_refusals_and_the_paging_bounds():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    register = schema["paths"]["/api/v1/auth/register/"]["post"]
    assert {"invalid", "too_deep", "nul_character"} <= _codes(register, "400")
    directory = schema["paths"]["/api/v1/providers/"]["get"]
    assert "invalid" in _codes(directory, "400")
    limit = next(p for p in directory["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 1_000_000}
