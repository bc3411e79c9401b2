"""Categories: fixtures, seeding, launch/deactivate through services, admin and API."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from categories import services
from categories.models import Category, Specialty
from tests.categories.factories import CategoryFactory

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


def _categories_in(fixture: str) -> list[dict]:
    return [
        row["fields"] for row in json.loads((FIXTURES / fixture).read_text()) if row["model"] == "categories.category"
    ]


def test_first_four_fixture_seeds_the_launch_categories(seeded_categories):
    assert set(seeded_categories) == {"financial_advisors", "career_coaches", "therapists", "fitness_trainers"}
    assert [name for name, c in seeded_categories.items() if c.active] == ["financial_advisors"]
    assert seeded_categories["financial_advisors"].requires_license
    assert seeded_categories["therapists"].requires_license
    assert not seeded_categories["career_coaches"].requires_license
    for category in seeded_categories.values():
        assert str(category.commission_rate) == "0.2000"
        assert category.matches_per_request == 3
        assert category.specialties.count() >= 8


def test_catalog_fixture_loads_on_its_own_with_at_least_15_categories(db):
    call_command("loaddata", "fixtures/catalog.json", verbosity=0)
    assert Category.objects.count() >= 15
    assert len(_categories_in("catalog.json")) >= 15
    for category in Category.objects.all():
        assert category.specialties.count() >= 6, category.name
    assert not Category.objects.filter(active=True).exists()


def test_seeding_twice_changes_nothing_and_keeps_operator_changes(seeded_categories):
    coaches = seeded_categories["career_coaches"]
    services.category_launch(category=coaches)
    Category.objects.filter(pk=coaches.pk).update(commission_rate="0.15", pro_commission_rate="0.12")
    before = list(Category.objects.order_by("id").values())
    specialties_before = Specialty.objects.count()

    call_command("seed_categories", "categories", verbosity=0)

    assert list(Category.objects.order_by("id").values()) == before
    assert Specialty.objects.count() == specialties_before


def test_seed_refuses_an_unknown_fixture(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"No fixture nope\.json"):
        call_command("seed_categories", "nope")


def test_launch_sets_launched_at_once_and_keeps_it_on_relaunch(db):
    category = CategoryFactory(active=False, launched_at=None)
    launched = services.category_launch(category=category)
    assert launched.active and launched.launched_at is not None
    first_launch = launched.launched_at

    services.category_deactivate(category=launched)
    category.refresh_from_db()
    assert not category.active and category.launched_at == first_launch

    relaunched = services.category_launch(category=category)
    assert relaunched.active and relaunched.launched_at == first_launch


def test_admin_launches_and_deactivates_with_actions(client, operator, seeded_categories):
    client.force_login(operator)
    url = reverse("admin:categories_category_changelist")
    coaches, advisors = seeded_categories["career_coaches"], seeded_categories["financial_advisors"]

    response = client.post(url, {"action": "launch", "_selected_action": [coaches.pk]}, follow=True)
    assert response.status_code == 200
    assert "Launched 1 category" in response.content.decode()
    coaches.refresh_from_db()
    assert coaches.active and coaches.launched_at

    client.post(url, {"action": "deactivate", "_selected_action": [advisors.pk]})
    advisors.refresh_from_db()
    assert not advisors.active


def test_admin_lists_every_category_and_edits_specialties_inline(client, operator, seeded_categories):
    client.force_login(operator)
    listing = client.get(reverse("admin:categories_category_changelist")).content.decode()
    for category in seeded_categories.values():
        assert category.display_name in listing
    coaches = seeded_categories["career_coaches"]
    page = client.get(reverse("admin:categories_category_change", args=[coaches.pk]))
    assert page.status_code == 200
    assert "Specialties" in page.content.decode()


def test_non_staff_cannot_open_the_category_admin(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:categories_category_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- API ------------------------------------------------------------------------------


def test_api_lists_only_active_categories_to_everyone(api_client, seeded_categories, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = api_client.get("/api/v1/categories/")
    assert response.status_code == 200
    names = [c["name"] for c in response.json()["results"]]
    assert names == ["financial_advisors"]
    specialties = response.json()["results"][0]["specialties"]
    assert {"slug": "retirement-planning", "name": "Retirement planning"} in specialties


def test_api_include_inactive_is_for_staff_only(user_api, operator_api, seeded_categories):
    assert len(user_api.get("/api/v1/categories/?include_inactive=1").json()["results"]) == 1
    assert len(operator_api.get("/api/v1/categories/?include_inactive=1").json()["results"]) == 4


def test_api_inactive_category_is_404_for_the_public(api_client, operator_api, seeded_categories):
    assert api_client.get("/api/v1/categories/therapists/").status_code == 404
    assert operator_api.get("/api/v1/categories/therapists/").status_code == 200
    assert api_client.get("/api/v1/categories/financial_advisors/").json()["display_name"] == "Financial Advisors"


def test_api_staff_activate_and_deactivate(operator_api, seeded_categories):
    response = operator_api.post("/api/v1/categories/therapists/activate/")
    assert response.status_code == 200
    assert response.json()["active"] is True and response.json()["launched_at"]
    response = operator_api.post("/api/v1/categories/therapists/deactivate/")
    assert response.status_code == 200 and response.json()["active"] is False
    assert operator_api.post("/api/v1/categories/no_such_thing/activate/").status_code == 404


def test_api_activate_is_refused_to_non_staff(user_api, api_client, seeded_categories):
    response = user_api.post("/api/v1/categories/therapists/activate/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert api_client.post("/api/v1/categories/therapists/activate/").status_code == 401
    assert not Category.objects.get(name="therapists").active
