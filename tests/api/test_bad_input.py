"""Bad input never reaches a 500: paging, deep JSON, NUL characters, big bodies, unknown paths, text.

Each refusal is a 400 (413 for a body over the limit) in the API's error format under
/api/ and an HTML page elsewhere. Several of these were a 500 on PostgreSQL only (a NUL
character is a DataError there): run this module on both databases.
"""

import json

import pytest
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from imatch.text import clean_text
from marketplace.models import Engagement, Match, Provider, Rating, Seeker, User
from marketplace.services import engagements, matches, ratings
from tests.api.test_error_catalogue import _codes
from tests.api.test_profiles_api import PROVIDER, SEEKER
from tests.marketplace.factories import ProviderFactory
from tests.marketplace.loop import accepted_match, confirmed_engagement

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


# --- NUL characters in paths, queries and forms ----------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/providers/?city=%00",
        "/api/v1/providers/?category=financial_advisors%00",
        "/api/v1/providers/?%00=1",
        "/api/v1/categories/%00/",
        "/api/v1/content/?q=%00",
    ],
)
def test_a_nul_character_in_an_api_path_or_query_is_a_400(user_api, seeded_categories, path):
    assert_api_error(user_api.get(path), 400, "nul_character")


def test_a_nul_character_in_a_web_query_is_the_400_page(client, user, seeded_categories):
    client.force_login(user)
    response = client.get("/seekers/new/?category=%00")
    assert response.status_code == 400
    assert b"NUL" in response.content and reverse("home").encode() in response.content


def test_a_nul_character_in_a_form_field_is_the_400_page(client):
    response = client.post(reverse("signup"), {**REGISTER, "password1": "x", "password2": "x", "name": "A\x00na"})
    assert response.status_code == 400
    assert b"name contains a NUL character" in response.content
    assert not User.objects.exists()


def test_a_nul_character_in_an_api_form_body_is_a_400(api_client):
    response = api_client.post("/api/v1/auth/register/", {**REGISTER, "name": "A\x00na"}, format="multipart")
    body = assert_api_error(response, 400, "nul_character")
    assert body["fields"] == {"name": ["name contains a NUL character."]}
    assert not User.objects.exists()


# --- Every /api/ answer is JSON: 404, 413, 500 -------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v1/seekers/not-a-number/", "/api/nothing"])
def test_an_unknown_api_path_is_a_json_404(api_client, path):
    assert_api_error(api_client.get(path), 404, "not_found")


def test_an_unknown_page_is_the_html_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Page not found" in response.content and reverse("home").encode() in response.content


@pytest.fixture
def small_upload_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000


def test_a_json_body_over_the_limit_is_a_json_413(api_client, small_upload_limit):
    body = {**REGISTER, "name": "A" * 2000}
    response = api_client.post("/api/v1/auth/register/", body, format="json")
    assert_api_error(response, 413, "request_too_large")
    assert not User.objects.exists()


def test_a_form_body_over_the_limit_is_a_json_413_under_api(api_client, small_upload_limit):
    for data_format in ("multipart", None):
        kwargs = {"format": data_format} if data_format else {"content_type": "application/x-www-form-urlencoded"}
        data = {**REGISTER, "name": "A" * 2000} if data_format else f"name={'A' * 2000}"
        response = api_client.post("/api/v1/auth/register/", data, **kwargs)
        assert_api_error(response, 413, "request_too_large")


def test_a_web_form_over_the_limit_is_the_413_page(client, small_upload_limit):
    response = client.post(reverse("signup"), {**REGISTER, "name": "A" * 2000})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert not User.objects.exists()


@pytest.mark.urls("tests.api.failing_urls")
def test_a_defect_under_api_is_a_json_500():
    response = Client(raise_request_exception=False).get("/api/v1/failing/")
    assert_api_error(response, 500, "server_error")


@pytest.mark.urls("tests.api.failing_urls")
def test_a_defect_in_a_page_is_the_html_500_page():
    response = Client(raise_request_exception=False).get("/failing/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"Something went wrong" in response.content and reverse("home").encode() in response.content


# --- Names and free text are stored clean ----------------------------------------------

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_clean_text_normalizes_and_removes_invisible_characters():
    assert clean_text("Jose\u0301") == "Jos\u00e9"  # NFC
    assert clean_text(f" A{INVISIBLE}na ") == "Ana"
    assert clean_text("\u202eevil.exe") == "evil.exe"
    assert clean_text(None) == "" and clean_text(INVISIBLE) == ""


def test_registration_stores_a_clean_name(api_client):
    response = api_client.post(
        "/api/v1/auth/register/", {**REGISTER, "name": "Jose\u0301\u200b \u202eLopez"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["name"] == User.objects.get().name == "Jos\u00e9 Lopez"


def test_a_name_of_invisible_characters_only_is_required(api_client):
    response = api_client.post("/api/v1/auth/register/", {**REGISTER, "name": "\u200b\u2066\ufeff"}, format="json")
    body = assert_api_error(response, 400, "required")
    assert list(body["fields"]) == ["name"]


def test_text_that_nfc_makes_too_long_is_refused(user_api, api_client, seeded_categories):
    # U+0958 (DEVANAGARI LETTER QA) becomes two characters in NFC: 150 of them pass the
    # serializer's max_length, then would not fit the column (a DataError on PostgreSQL).
    response = api_client.post("/api/v1/auth/register/", {**REGISTER, "name": "\u0958" * 150}, format="json")
    assert assert_api_error(response, 400, "too_long")["fields"] == {"name": ["Keep this under 150 characters."]}
    response = user_api.post("/api/v1/providers/", {**PROVIDER, "business_name": "\u0958" * 200}, format="json")
    assert list(assert_api_error(response, 400, "too_long")["fields"]) == ["business_name"]
    response = user_api.post("/api/v1/seekers/", {**SEEKER, "city": "\u0958" * 100}, format="json")
    assert list(assert_api_error(response, 400, "too_long")["fields"]) == ["city"]
    assert not (User.objects.filter(email=REGISTER["email"]).exists() or Provider.objects.exists())
    assert not Seeker.objects.exists()


def test_profiles_store_clean_text(user_api, seeded_categories):
    seeker = {**SEEKER, "needs_description": "Retire\u200b early", "city": "Au\u202estin"}
    assert user_api.post("/api/v1/seekers/", seeker, format="json").status_code == 201
    provider = {
        **PROVIDER,
        "business_name": "\ufeffRe\u0301yes\u2060 Planning",
        "bio": "Fee\u200d-only",
        "certifications": "CFP\u2069",
    }
    response = user_api.post("/api/v1/providers/", provider, format="json")
    assert response.status_code == 201, response.json()
    saved = Provider.objects.get()
    assert (saved.business_name, saved.bio, saved.certifications) == ("R\u00e9yes Planning", "Fee-only", "CFP")
    assert (Seeker.objects.get().needs_description, Seeker.objects.get().city) == ("Retire early", "Austin")

    response = user_api.patch(
        f"/api/v1/providers/{saved.pk}/", {"bio": "\u202eylno-eeF", "city": "Da\u200bllas"}, format="json"
    )
    assert response.status_code == 200
    saved.refresh_from_db()
    assert (saved.bio, saved.city, saved.location) == ("ylno-eeF", "Dallas", "Dallas, TX")


def test_a_business_name_of_invisible_characters_only_is_required(user_api, seeded_categories):
    response = user_api.post("/api/v1/providers/", {**PROVIDER, "business_name": "\u200b\u200c"}, format="json")
    body = assert_api_error(response, 400, "required")
    assert list(body["fields"]) == ["business_name"]


def test_reasons_and_reviews_are_stored_clean():
    match = accepted_match()
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="500.00")
    engagements.engagement_cancel(
        engagement=engagement, user=match.seeker.user, reason="Plans\u200b change\u0301d\u202e"
    )
    assert Engagement.objects.get(pk=engagement.pk).cancel_reason == "Plans chang\u00e9d"


def test_a_review_is_stored_clean():
    engagement = confirmed_engagement()
    ratings.rating_create(engagement=engagement, user=engagement.seeker.user, stars=5, review="Gre\u0301at\u2066 work")
    assert Rating.objects.get().review == "Gr\u00e9at work"


def test_a_decline_reason_is_stored_clean():
    match = accepted_match()
    matches.match_decline(match=match, user=match.provider.user, reason="\ufeffFully booked\u200b")
    assert Match.objects.get(pk=match.pk).decline_reason == "Fully booked"


# --- The schema says so ------------------------------------------------------------------


def test_the_schema_lists_the_input_refusals_and_the_paging_bounds():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    register = schema["paths"]["/api/v1/auth/register/"]["post"]
    assert {"invalid", "too_deep", "nul_character"} <= _codes(register, "400")
    assert _codes(register, "413") == {"request_too_large"}
    directory = schema["paths"]["/api/v1/providers/"]["get"]
    assert {"invalid", "nul_character"} <= _codes(directory, "400")
    limit = next(p for p in directory["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 1_000_000}
