"""The providers and seekers admin pages write through the same services as the web and the API.

Adding a profile there normalises the location and awards the profile-creation POT;
a refusal is shown next to its field and writes nothing; a new license number clears the
verification, which only the "Verify the license" action gives.
"""

import pytest
from django.test import Client

from currency.models import PotTransaction
from marketplace.models import Provider, Seeker, User
from marketplace.services import profiles
from tests.categories.factories import SpecialtyFactory
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker, specialty

pytestmark = pytest.mark.django_db

PROVIDERS = "/admin/marketplace/provider/"
SEEKERS = "/admin/marketplace/seeker/"


@pytest.fixture
def admin_client(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def category():
    return make_category()


def provider_form(user: User, category, **fields) -> dict:
    return {
        "user": user.pk,
        "category": category.pk,
        "business_name": "Reyes Planning",
        "specialties": [specialty(category, "retirement").pk],
        "bio": "Retirement income.",
        "years_experience": "7",
        "certifications": "CFP",
        "license_number": "",
        "pricing_min": "100",
        "pricing_max": "200",
        "city": " Austin ",
        "state": "tx",
        "remote": "on",
        "accepting_clients": "on",
        "max_active_clients": "10",
        **fields,
    }


def seeker_form(user: User, category, **fields) -> dict:
    return {
        "user": user.pk,
        "category": category.pk,
        "specialties": [specialty(category, "tax").pk],
        "needs_description": "Help with taxes.",
        "budget_min": "50",
        "budget_max": "150",
        "city": "denver",
        "state": "co",
        "remote_ok": "on",
        **fields,
    }


def form_errors(response) -> dict:
    assert response.status_code == 200, "refused: the form is shown again"
    return response.context["adminform"].form.errors


def profile_awards(user: User) -> list[str]:
    return list(PotTransaction.objects.filter(user=user).values_list("category", flat=True))


# --- Providers --------------------------------------------------------------------------


def test_adding_a_provider_in_the_admin_goes_through_provider_create(admin_client, category):
    person = UserFactory()
    assert admin_client.get(f"{PROVIDERS}add/").status_code == 200

    response = admin_client.post(f"{PROVIDERS}add/", provider_form(person, category))

    assert response.status_code == 302, form_errors(response)
    provider = Provider.objects.get(user=person)
    assert (provider.city, provider.state, provider.location) == ("Austin", "TX", "Austin, TX")
    assert [s.slug for s in provider.specialties.all()] == ["retirement"]
    assert profile_awards(person) == ["profile_creation"]
    assert User.objects.get(pk=person.pk).account_type == "provider"
    assert not provider.license_verified


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("reversed prices", "pricing_max", "The minimum must not be more than the maximum."),
        ("blank name", "business_name", "This field is required."),  # the form's own check
        ("foreign specialty", "specialties", "Not a specialty of Planners: elsewhere."),
        ("inactive category", "category", "Paused is not open for new profiles."),
        ("second profile", "category", "You already have a provider profile in Planners."),
    ],
)
def test_provider_refusals_are_shown_next_to_their_field_and_write_nothing(
    admin_client, category, case, field, message
):
    person = UserFactory()
    form = provider_form(person, category)
    match case:
        case "reversed prices":
            form["pricing_min"] = "300"
        case "blank name":
            form["business_name"] = "   "
        case "foreign specialty":
            form["specialties"] = [SpecialtyFactory(slug="elsewhere").pk]
        case "inactive category":
            form["category"] = make_category(name="paused", display_name="Paused", active=False).pk
        case "second profile":
            make_provider(category, user=person)
    before = (Provider.objects.count(), PotTransaction.objects.count())

    errors = form_errors(admin_client.post(f"{PROVIDERS}add/", form))

    assert any(message in error for error in errors[field]), errors
    assert (Provider.objects.count(), PotTransaction.objects.count()) == before


def test_editing_a_provider_in_the_admin_goes_through_provider_update(admin_client, operator, category):
    provider = make_provider(category, verified=True)
    url = f"{PROVIDERS}{provider.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="license_verified"' not in page and 'name="user"' not in page  # read-only here

    kept = admin_client.post(url, provider_form(provider.user, category, license_number="LIC-1", bio="New bio"))
    assert kept.status_code == 302, form_errors(kept)
    provider.refresh_from_db()
    assert provider.bio == "New bio" and provider.state == "TX" and provider.license_verified  # same license

    changed = admin_client.post(url, provider_form(provider.user, category, license_number="LIC-2"))
    assert changed.status_code == 302, form_errors(changed)
    provider.refresh_from_db()
    assert provider.license_number == "LIC-2"
    assert not provider.license_verified
    assert provider.license_verified_by is None and provider.license_verified_at is None

    reversed_range = admin_client.post(url, provider_form(provider.user, category, pricing_min="999"))
    assert "The minimum must not be more than the maximum." in form_errors(reversed_range)["pricing_max"]
    assert Provider.objects.get(pk=provider.pk).pricing_min != 999


def test_license_verification_is_the_admin_action(admin_client, operator, category):
    licensed = make_provider(category, license_number="LIC-9")
    unlicensed = make_provider(category)
    action = {"action": "verify_license", "_selected_action": [licensed.pk, unlicensed.pk]}

    page = admin_client.post(PROVIDERS, action, follow=True).content.decode()

    licensed.refresh_from_db()
    assert licensed.license_verified and licensed.license_verified_by == operator
    assert "Verified 1 provider." in page
    assert "The provider has not given a license number." in page
    assert not Provider.objects.get(pk=unlicensed.pk).license_verified


def test_withdrawing_a_license_verification_is_an_admin_action_too(admin_client, category):
    verified = make_provider(category, verified=True)
    action = {"action": "unverify_license", "_selected_action": [verified.pk]}

    page = admin_client.post(PROVIDERS, action, follow=True).content.decode()

    verified.refresh_from_db()
    assert (verified.license_verified, verified.license_verified_at, verified.license_verified_by) == (
        False,
        None,
        None,
    )
    assert "Withdrew the verification of 1 providers." in page


def test_a_new_license_number_clears_the_verification_on_the_web_and_the_api_too(client, category):
    provider = make_provider(category, verified=True)
    client.force_login(provider.user)
    client.post(
        f"/providers/{provider.pk}/edit/",
        {"business_name": "Pat Plans", "license_number": "LIC-WEB", "max_active_clients": "5"},
    )
    provider.refresh_from_db()
    assert provider.license_number == "LIC-WEB" and not provider.license_verified

    operator = UserFactory(is_staff=True)
    profiles.provider_verify_license(provider=provider, operator=operator)
    response = client_for(provider.user).patch(
        f"/api/v1/providers/{provider.pk}/", {"license_number": "LIC-API"}, format="json"
    )
    assert response.status_code == 200 and response.json()["license_verified"] is False


# --- Seekers ----------------------------------------------------------------------------


def test_adding_a_seeker_in_the_admin_goes_through_seeker_create(admin_client, category):
    person = UserFactory()
    assert admin_client.get(f"{SEEKERS}add/").status_code == 200

    response = admin_client.post(f"{SEEKERS}add/", seeker_form(person, category))

    assert response.status_code == 302, form_errors(response)
    seeker = Seeker.objects.get(user=person)
    assert (seeker.city, seeker.state, seeker.location) == ("denver", "CO", "denver, CO")
    assert [s.slug for s in seeker.specialties.all()] == ["tax"]
    assert profile_awards(person) == ["profile_creation"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"budget_min": "500"}, "budget_max", "The minimum must not be more than the maximum."),
        ({"specialties": [], "needs_description": ""}, "needs_description", "Tell us what you need"),
    ],
)
def test_seeker_refusals_are_shown_next_to_their_field_and_write_nothing(
    admin_client, category, fields, field, message
):
    person = UserFactory()
    form = {key: value for key, value in seeker_form(person, category, **fields).items() if value != []}

    errors = form_errors(admin_client.post(f"{SEEKERS}add/", form))

    assert any(message in error for error in errors[field]), errors
    assert not Seeker.objects.exists() and not PotTransaction.objects.exists()


def test_editing_a_seeker_in_the_admin_goes_through_seeker_update(admin_client, category):
    seeker = make_seeker(category)
    url = f"{SEEKERS}{seeker.pk}/change/"
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, seeker_form(seeker.user, category, state="nm", city="Taos"))

    assert response.status_code == 302, form_errors(response)
    seeker.refresh_from_db()
    assert seeker.location == "Taos, NM" and [s.slug for s in seeker.specialties.all()] == ["tax"]
    refused = admin_client.post(url, seeker_form(seeker.user, category, budget_max="10"))
    assert "The minimum must not be more than the maximum." in form_errors(refused)["budget_max"]
    assert Seeker.objects.get(pk=seeker.pk).budget_max != 10
