"""Seekers and providers through the API: ownership, refusals, directory filters, query counts."""

from decimal import Decimal

import pytest

from marketplace.models import Provider, Seeker
from tests.categories.factories import CategoryFactory, SpecialtyFactory
from tests.conftest import client_for
from tests.marketplace.factories import ProviderFactory, SeekerFactory, UserFactory

SEEKER = {
    "category": "financial_advisors",
    "specialties": ["retirement-planning"],
    "needs_description": "Retire early",
    "budget_min": "100.00",
    "budget_max": "250.00",
    "city": "Austin",
    "state": "TX",
    "remote_ok": True,
}
PROVIDER = {
    "category": "financial_advisors",
    "business_name": "Reyes Planning",
    "bio": "Fee-only planner",
    "specialties": ["retirement-planning", "tax-planning"],
    "years_experience": 12,
    "license_number": "CRD-123",
    "pricing_min": "150.00",
    "pricing_max": "300.00",
    "city": "Austin",
    "state": "TX",
    "remote": True,
}


def test_create_and_read_own_seeker(user_api, user, seeded_categories):
    response = user_api.post("/api/v1/seekers/", SEEKER, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["location"] == "Austin, TX" and body["specialties"] == ["retirement-planning"]
    assert body["budget_min"] == "100.00" and body["user"] == user.id
    assert user_api.get(f"/api/v1/seekers/{body['id']}/").json()["id"] == body["id"]
    assert user_api.get("/api/v1/me/").json()["account_type"] == "seeker"


def test_patch_own_seeker(user_api, seeded_categories):
    seeker_id = user_api.post("/api/v1/seekers/", SEEKER, format="json").json()["id"]
    response = user_api.patch(f"/api/v1/seekers/{seeker_id}/", {"budget_max": "900.50"}, format="json")
    assert response.status_code == 200
    assert response.json()["budget_max"] == "900.50"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "therapists"}, "category"),
        ({"category": "no_such_category"}, "category"),
        ({"specialties": ["anxiety"]}, "specialties"),
        ({"budget_min": "300", "budget_max": "100"}, "budget_max"),
        ({"budget_min": "-1"}, "budget_min"),
        ({"budget_min": "abc"}, "budget_min"),
        ({"budget_max": "1" * 20}, "budget_max"),
        ({"state": "Texas"}, "state"),
        ({"city": "x" * 101}, "city"),
        ({"needs_description": "x" * 5001}, "needs_description"),
        ({"specialties": "retirement-planning"}, "specialties"),
        ({"remote_ok": "perhaps"}, "remote_ok"),
    ],
)
def test_seeker_create_refusals_are_400_with_the_field(user_api, seeded_categories, changes, field):
    response = user_api.post("/api/v1/seekers/", {**SEEKER, **changes}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not Seeker.objects.exists()


def test_second_seeker_in_a_category_is_refused(user_api, seeded_categories):
    assert user_api.post("/api/v1/seekers/", SEEKER, format="json").status_code == 201
    response = user_api.post("/api/v1/seekers/", SEEKER, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate_profile"
    assert Seeker.objects.count() == 1


def test_patch_cannot_move_a_seeker_to_another_category(user_api, seeded_categories):
    seeker_id = user_api.post("/api/v1/seekers/", SEEKER, format="json").json()["id"]
    response = user_api.patch(f"/api/v1/seekers/{seeker_id}/", {"category": "therapists"}, format="json")
    assert response.status_code == 400 and response.json()["fields"] == {
        "category": ["category cannot be changed once the profile exists."]
    }


def test_someone_elses_seeker_is_404_for_read_and_write(user_api, seeded_categories):
    other = SeekerFactory(category=seeded_categories["financial_advisors"])
    assert user_api.get(f"/api/v1/seekers/{other.id}/").status_code == 404
    response = user_api.patch(f"/api/v1/seekers/{other.id}/", {"city": "Hacked"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such seeker profile.", "code": "not_found"}
    assert Seeker.objects.get(pk=other.pk).city == "Austin"
    assert user_api.get("/api/v1/seekers/99999999999999999999999/").status_code == 404


def test_seeker_list_shows_only_own_and_staff_see_all(user_api, user, operator_api, seeded_categories):
    advisors = seeded_categories["financial_advisors"]
    mine = SeekerFactory(user=user, category=advisors)
    SeekerFactory(category=advisors)
    assert [s["id"] for s in user_api.get("/api/v1/seekers/").json()["results"]] == [mine.id]
    assert operator_api.get("/api/v1/seekers/").json()["count"] == 2


def test_seeker_list_query_count_is_pinned(user, user_api, seeded_categories, django_assert_max_num_queries):
    coaches = CategoryFactory(name="coaches_for_count")
    for _ in range(15):
        SeekerFactory(user=UserFactory(), category=coaches)
    staff_api = client_for(UserFactory(is_staff=True))
    with django_assert_max_num_queries(5):
        response = staff_api.get("/api/v1/seekers/")
    assert response.json()["count"] == 15


def test_anonymous_cannot_create_profiles(api_client, seeded_categories):
    assert api_client.post("/api/v1/seekers/", SEEKER, format="json").status_code == 401
    assert api_client.post("/api/v1/providers/", PROVIDER, format="json").status_code == 401


# --- Providers ------------------------------------------------------------------------


def test_provider_in_a_license_category_is_hidden_until_verified(user_api, api_client, operator, seeded_categories):
    from marketplace.services import profiles

    response = user_api.post("/api/v1/providers/", PROVIDER, format="json")
    assert response.status_code == 201, response.json()
    provider_id = response.json()["id"]
    assert response.json()["license_number"] == "CRD-123"

    assert api_client.get(f"/api/v1/providers/{provider_id}/").status_code == 404
    assert api_client.get("/api/v1/providers/").json()["count"] == 0
    assert user_api.get(f"/api/v1/providers/{provider_id}/").status_code == 200  # the owner sees it
    assert [p["id"] for p in user_api.get("/api/v1/providers/?mine=1").json()["results"]] == [provider_id]

    profiles.provider_verify_license(provider=Provider.objects.get(pk=provider_id), operator=operator)
    public = api_client.get(f"/api/v1/providers/{provider_id}/").json()
    assert public["business_name"] == "Reyes Planning" and public["license_verified"] is True
    assert "license_number" not in public and "user" not in public  # private fields stay private


def test_staff_verify_and_withdraw_a_license_through_the_api(
    user_api, api_client, operator_api, operator, seeded_categories
):
    provider_id = user_api.post("/api/v1/providers/", PROVIDER, format="json").json()["id"]

    verified = operator_api.post(f"/api/v1/providers/{provider_id}/verify-license/")
    assert verified.status_code == 200, verified.json()
    body = verified.json()
    assert body["license_verified"] is True and body["license_verified_by"] == operator.pk
    assert body["license_number"] == "CRD-123" and body["license_verified_at"]
    assert api_client.get(f"/api/v1/providers/{provider_id}/").status_code == 200  # listed now

    withdrawn = operator_api.post(f"/api/v1/providers/{provider_id}/unverify-license/")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["license_verified"] is False and withdrawn.json()["license_verified_by"] is None
    assert api_client.get(f"/api/v1/providers/{provider_id}/").status_code == 404  # licensed category: hidden again
    provider = Provider.objects.get(pk=provider_id)
    assert (provider.license_verified, provider.license_verified_at, provider.license_verified_by) == (
        False,
        None,
        None,
    )


def test_license_verification_refusals(user_api, operator_api, seeded_categories):
    provider_id = user_api.post("/api/v1/providers/", {**PROVIDER, "license_number": ""}, format="json").json()["id"]
    # The owner is not an operator.
    for action in ("verify-license", "unverify-license"):
        response = user_api.post(f"/api/v1/providers/{provider_id}/{action}/")
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
        assert operator_api.post(f"/api/v1/providers/999999/{action}/").json()["code"] == "not_found"
    # No license number to verify: a 400 on the field, nothing changes.
    response = operator_api.post(f"/api/v1/providers/{provider_id}/verify-license/")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "license_number" in response.json()["fields"]
    assert Provider.objects.get(pk=provider_id).license_verified is False


def test_provider_patch_by_someone_else_is_404(user_api, seeded_categories):
    provider = ProviderFactory(category=seeded_categories["financial_advisors"], license_verified=True)
    response = user_api.patch(f"/api/v1/providers/{provider.id}/", {"bio": "hacked"}, format="json")
    assert response.status_code == 404
    assert Provider.objects.get(pk=provider.pk).bio != "hacked"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pricing_min": "500", "pricing_max": "100"}, "pricing_max"),
        ({"years_experience": -1}, "years_experience"),
        ({"years_experience": "ten"}, "years_experience"),
        ({"business_name": ""}, "business_name"),
        ({"business_name": "x" * 201}, "business_name"),
        ({"max_active_clients": 0}, "max_active_clients"),
        ({"category": "fitness_trainers"}, "category"),
    ],
)
def test_provider_create_refusals(user_api, seeded_categories, changes, field):
    response = user_api.post("/api/v1/providers/", {**PROVIDER, **changes}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not Provider.objects.exists()


@pytest.fixture
def directory(seeded_categories):
    """Three listed coaches and some providers that must never be listed."""
    coaches = CategoryFactory(name="life_coaches", requires_license=False)
    goals = SpecialtyFactory(category=coaches, slug="goal-setting")
    SpecialtyFactory(category=coaches, slug="confidence")
    austin = ProviderFactory(category=coaches, city="Austin", state="TX", pricing_min=Decimal("80"), remote=False)
    austin.specialties.add(goals)
    ProviderFactory(
        category=coaches, city="Denver", state="CO", pricing_min=Decimal("200"), remote=True, rating_avg=4.5
    )
    ProviderFactory(category=coaches, city="Dallas", state="TX", pricing_min=None, remote=True)
    # Never listed: an inactive category, an unverified provider where a license is required.
    ProviderFactory(category=seeded_categories["therapists"], license_verified=True)
    ProviderFactory(category=seeded_categories["financial_advisors"], license_verified=False)
    return coaches


@pytest.mark.parametrize(
    ("query", "cities"),
    [
        ("category=life_coaches", {"Austin", "Denver", "Dallas"}),
        ("specialty=goal-setting", {"Austin"}),
        ("state=tx", {"Austin", "Dallas"}),
        ("city=denver", {"Denver"}),
        ("remote=true", {"Denver", "Dallas"}),
        ("min_rating=4", {"Denver"}),
        ("max_price=100", {"Austin"}),
        ("state=TX&remote=true", {"Dallas"}),
    ],
)
def test_directory_filters(api_client, directory, query, cities):
    response = api_client.get(f"/api/v1/providers/?{query}")
    assert response.status_code == 200
    assert {p["city"] for p in response.json()["results"]} == cities


def test_directory_never_lists_inactive_categories_or_unverified_licensed_providers(api_client, directory):
    assert api_client.get("/api/v1/providers/").json()["count"] == 3


def test_directory_bad_filter_values_are_400(api_client, directory):
    response = api_client.get("/api/v1/providers/?max_price=cheap")
    assert response.status_code == 400
    assert "max_price" in response.json()["fields"]


def test_directory_query_count_does_not_grow(api_client, directory, django_assert_max_num_queries):
    for _ in range(20):
        ProviderFactory(category=directory).specialties.add(*directory.specialties.all())
    with django_assert_max_num_queries(3):
        response = api_client.get("/api/v1/providers/?limit=50")
    assert response.json()["count"] == 23
