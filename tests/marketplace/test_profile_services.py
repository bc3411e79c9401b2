"""The profile services: every rule and refusal, and that a refusal writes nothing."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from categories.errors import CategoryInactive
from imatch.errors import DomainError, PermissionDenied
from marketplace.models import Provider, Seeker, User
from marketplace.services import profiles
from tests.marketplace.factories import ProviderFactory, UserFactory

GOOD_PASSWORD = "a-long-and-unusual-passphrase"


def _seeker(user, category, **overrides):
    fields = {
        "user": user,
        "category": category,
        "specialties": ["retirement-planning", "tax-planning"],
        "needs_description": "Retire at 60",
        "budget_min": Decimal("100"),
        "budget_max": Decimal("300"),
        "city": " Austin ",
        "state": "tx",
    }
    return profiles.seeker_create(**{**fields, **overrides})


def _provider(user, category, **overrides):
    fields = {"user": user, "category": category, "business_name": "Reyes Planning", "specialties": ["tax-planning"]}
    return profiles.provider_create(**{**fields, **overrides})


# --- Registration ---------------------------------------------------------------------


def test_register_normalises_email_and_gives_a_referral_code(db):
    user = profiles.user_register(email="  Dana@Example.COM ", password=GOOD_PASSWORD, name=" Dana ")
    assert user.email == "dana@example.com" and user.name == "Dana"
    assert len(user.referral_code) == 8
    assert user.check_password(GOOD_PASSWORD)
    assert user.account_type == "seeker"


def test_register_without_a_password_makes_an_account_that_cannot_log_in(db):
    user = profiles.user_register(email="demo@example.com", password=None, name="Demo Person")
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not user.check_password("")


def test_register_refuses_an_email_in_any_case(db):
    profiles.user_register(email="dana@example.com", password=GOOD_PASSWORD, name="Dana")
    with pytest.raises(DomainError) as refused:
        profiles.user_register(email="DANA@example.com", password=GOOD_PASSWORD, name="Other")
    assert refused.value.field == "email" and refused.value.code == "email_taken"
    assert User.objects.count() == 1


def test_database_refuses_emails_differing_only_by_case(db):
    UserFactory(email="same@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="SAME@example.com", name="x")


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"password": "short"}, "password", "weak_password"),
        ({"password": "password123"}, "password", "weak_password"),
        ({"name": "  "}, "name", "required"),
        ({"email": ""}, "email", "required"),
        ({"referral_code": "NOPE1234"}, "referral_code", "invalid_referral"),
    ],
)
def test_register_refusals_name_their_field_and_write_nothing(db, fields, field, code):
    with pytest.raises(DomainError) as refused:
        profiles.user_register(**{"email": "x@example.com", "password": GOOD_PASSWORD, "name": "X", **fields})
    assert (refused.value.field, refused.value.code) == (field, code)
    assert not User.objects.exists()


def test_register_with_a_referral_code_records_the_referrer(db):
    referrer = UserFactory()
    user = profiles.user_register(
        email="new@example.com", password=GOOD_PASSWORD, name="New", referral_code=referrer.referral_code.lower()
    )
    assert user.referred_by == referrer


# --- Seekers and providers ------------------------------------------------------------


def test_seeker_create_stores_the_profile_and_location(user, seeded_categories):
    seeker = _seeker(user, seeded_categories["financial_advisors"])
    assert (seeker.city, seeker.state, seeker.location) == ("Austin", "TX", "Austin, TX")
    assert sorted(s.slug for s in seeker.specialties.all()) == ["retirement-planning", "tax-planning"]
    assert seeker.budget_min == Decimal("100.00")


def test_account_type_follows_the_roles_held(user, seeded_categories):
    advisors = seeded_categories["financial_advisors"]
    coaches = seeded_categories["career_coaches"]
    coaches.active = True
    coaches.save()

    _provider(user, coaches, specialties=["career-change"])
    assert User.objects.get(pk=user.pk).account_type == "provider"
    _seeker(user, advisors)
    assert User.objects.get(pk=user.pk).account_type == "both"


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"specialties": ["anxiety"]}, "specialties", "unknown_specialty"),
        ({"specialties": ["no-such-thing"]}, "specialties", "unknown_specialty"),
        ({"budget_min": Decimal("500"), "budget_max": Decimal("100")}, "budget_max", "range_reversed"),
        ({"budget_min": Decimal("-1")}, "budget_min", "negative"),
    ],
)
def test_seeker_create_refusals(user, seeded_categories, overrides, field, code):
    with pytest.raises(DomainError) as refused:
        _seeker(user, seeded_categories["financial_advisors"], **overrides)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert not Seeker.objects.exists()
    assert User.objects.get(pk=user.pk).account_type == "seeker"


def test_profile_in_an_inactive_category_is_refused(user, seeded_categories):
    with pytest.raises(CategoryInactive):
        _seeker(user, seeded_categories["therapists"], specialties=[])
    with pytest.raises(CategoryInactive):
        _provider(user, seeded_categories["career_coaches"], specialties=[])
    assert not Seeker.objects.exists() and not Provider.objects.exists()


def test_second_profile_of_a_role_in_a_category_is_refused(user, seeded_categories):
    advisors = seeded_categories["financial_advisors"]
    _seeker(user, advisors)
    _provider(user, advisors)  # the other role in the same category is fine
    with pytest.raises(profiles.DuplicateProfile):
        _seeker(user, advisors)
    with pytest.raises(profiles.DuplicateProfile):
        _provider(user, advisors)
    assert Seeker.objects.count() == 1 and Provider.objects.count() == 1


def test_database_refuses_a_second_seeker_and_a_reversed_budget(user, seeded_categories):
    advisors = seeded_categories["financial_advisors"]
    Seeker.objects.create(user=user, category=advisors)
    with pytest.raises(IntegrityError), transaction.atomic():
        Seeker.objects.create(user=user, category=advisors)
    with pytest.raises(IntegrityError), transaction.atomic():
        Seeker.objects.create(user=UserFactory(), category=advisors, budget_min=10, budget_max=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProviderFactory(category=advisors, pricing_min=-1)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"business_name": "  "}, "business_name"),
        ({"pricing_min": Decimal("300"), "pricing_max": Decimal("200")}, "pricing_max"),
        ({"pricing_max": Decimal("-5")}, "pricing_max"),
        ({"specialties": ["weight-loss"]}, "specialties"),
    ],
)
def test_provider_create_refusals(user, seeded_categories, overrides, field):
    with pytest.raises(DomainError) as refused:
        _provider(user, seeded_categories["financial_advisors"], **overrides)
    assert refused.value.field == field
    assert not Provider.objects.exists()


def test_seeker_update_changes_fields_and_checks_the_merged_range(user, seeded_categories):
    seeker = _seeker(user, seeded_categories["financial_advisors"])
    updated = profiles.seeker_update(
        seeker=seeker, changes={"city": "Dallas", "specialties": ["estate-planning"], "budget_max": Decimal("900")}
    )
    assert updated.location == "Dallas, TX" and updated.budget_max == Decimal("900")
    assert [s.slug for s in updated.specialties.all()] == ["estate-planning"]

    with pytest.raises(DomainError) as refused:
        profiles.seeker_update(seeker=seeker, changes={"budget_min": Decimal("1000")})
    assert refused.value.field == "budget_max"
    assert Seeker.objects.get(pk=seeker.pk).budget_min == Decimal("100.00")


def test_seeker_update_refuses_to_move_category(user, seeded_categories):
    seeker = _seeker(user, seeded_categories["financial_advisors"])
    with pytest.raises(DomainError) as refused:
        profiles.seeker_update(seeker=seeker, changes={"category": seeded_categories["therapists"]})
    assert refused.value.field == "category" and refused.value.code == "read_only"


def test_new_license_number_needs_verifying_again(user, operator, seeded_categories):
    provider = _provider(user, seeded_categories["financial_advisors"], license_number="CRD-1")
    verified = profiles.provider_verify_license(provider=provider, operator=operator)
    assert verified.license_verified and verified.license_verified_by == operator

    profiles.provider_update(provider=provider, changes={"bio": "New bio"})
    assert Provider.objects.get(pk=provider.pk).license_verified
    profiles.provider_update(provider=provider, changes={"license_number": "CRD-2"})
    assert not Provider.objects.get(pk=provider.pk).license_verified


def test_license_verification_refusals(user, seeded_categories):
    provider = _provider(user, seeded_categories["financial_advisors"])
    with pytest.raises(PermissionDenied):
        profiles.provider_verify_license(provider=provider, operator=user)
    operator = UserFactory(is_staff=True)
    with pytest.raises(DomainError) as refused:
        profiles.provider_verify_license(provider=provider, operator=operator)
    assert refused.value.field == "license_number"
    assert not Provider.objects.get(pk=provider.pk).license_verified
    with pytest.raises(PermissionDenied):
        profiles.provider_unverify_license(provider=provider, operator=user)


def test_seeker_must_say_what_they_need(user, seeded_categories):
    advisors = seeded_categories["financial_advisors"]
    with pytest.raises(DomainError) as refused:
        _seeker(user, advisors, specialties=[], needs_description="  ")
    assert refused.value.field == "needs_description"
    seeker = _seeker(user, advisors, specialties=[], needs_description="Help with taxes")
    with pytest.raises(DomainError):
        profiles.seeker_update(seeker=seeker, changes={"needs_description": ""})
    assert Seeker.objects.get(pk=seeker.pk).needs_description == "Help with taxes"
