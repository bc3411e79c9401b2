"""Phase 1 advisors keep working through the move: provisionally verified until their license deadline (issue 10)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.candidates import candidate_pool
from marketplace.models import Match, Provider, User
from marketplace.services import matches, profiles
from tests.marketplace.factories import UserFactory
from tests.marketplace.test_import_v1 import customer, legacy_file, provider, run_import

pytestmark = pytest.mark.django_db
DIRECTORY = "/categories/financial_advisors/"


@pytest.fixture
def advisors(seeded_categories):
    return seeded_categories["financial_advisors"]


@pytest.fixture
def imported(advisors, tmp_path, settings):
    """Two advisors and a customer in Denver, imported on the day of the move."""
    settings.V1_LICENSE_DEADLINE_DAYS = 30
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[customer(1, "casey@example.com", location_city="Denver", location_state="CO")],
        providers=[provider(1, "avery@example.com", company="Avery Wealth"), provider(2, "blake@example.com")],
    )
    run_import(path)
    return {p.user.email: p for p in Provider.objects.select_related("user")}


def run_matching() -> str:
    out = StringIO()
    call_command("run_matching", stdout=out)
    return out.getvalue()


def past_the_deadline(*providers: Provider) -> None:
    Provider.objects.filter(pk__in=[p.pk for p in providers]).update(
        provisional_until=timezone.now() - timedelta(minutes=1)
    )


def test_the_import_marks_advisors_as_phase1_advisors_until_the_deadline(imported):
    avery = imported["avery@example.com"]
    assert avery.license_provisional and not avery.license_verified
    assert avery.provisional_source == "Phase 1 advisor (import_v1 phase1.sqlite3)"
    assert avery.provisional_until - avery.provisional_since == timedelta(days=30)
    assert abs(avery.provisional_since - timezone.now()) < timedelta(minutes=1)


def test_imported_advisors_are_listed_and_matched_on_the_day_of_the_import(imported):
    avery, blake = imported["avery@example.com"], imported["blake@example.com"]
    directory = Client().get(DIRECTORY).content.decode()
    assert "Avery Wealth" in directory and "Phase 1 advisor" in directory
    assert "Phase 1 advisor (license verification pending)" in Client().get(f"/providers/{avery.pk}/").content.decode()
    api = APIClient().get("/api/v1/providers/?category=financial_advisors").json()["results"]
    assert {row["id"] for row in api} == {avery.pk, blake.pk}

    run_matching()
    casey = User.objects.get(email="casey@example.com")
    assert set(Match.objects.filter(seeker__user=casey).values_list("provider_id", flat=True)) == {avery.pk, blake.pk}
    client = Client()
    client.force_login(casey)
    assert "Phase 1 advisor" in client.get("/matches/").content.decode()


def test_their_dashboard_asks_for_the_license_number_with_the_deadline(imported):
    avery = imported["avery@example.com"]
    client = Client()
    client.force_login(avery.user)
    page = client.get("/dashboard/").content.decode()
    assert f"Add your license number by {avery.provisional_until:%b} {avery.provisional_until.day}, " in page
    assert "Listed as a Phase 1 advisor until" in page


def test_past_the_deadline_unverified_advisors_drop_out_and_are_told_once(
    imported, operator, django_capture_on_commit_callbacks
):
    avery, blake = imported["avery@example.com"], imported["blake@example.com"]
    profiles.provider_update(provider=blake, changes={"license_number": "CRD-12345"})
    profiles.provider_verify_license(provider=Provider.objects.get(pk=blake.pk), operator=operator)
    pool_before = candidate_pool(avery.category)  # a worker's cached pool, from before the deadline
    assert len(pool_before) == 2
    past_the_deadline(avery, blake)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        output = run_matching()

    assert "1 Phase 1 advisors passed their license deadline unverified" in output
    avery.refresh_from_db()
    assert not avery.license_provisional and avery.provisional_lapsed_at is not None
    assert not avery.is_listed and Provider.objects.get(pk=blake.pk).is_listed  # verified in time: stays
    assert "Avery Wealth" not in Client().get(DIRECTORY).content.decode()
    assert Client().get(f"/providers/{avery.pk}/").status_code == 404
    # The run used this process's pool cached before the deadline: it no longer matches them.
    casey = User.objects.get(email="casey@example.com")
    assert set(Match.objects.filter(seeker__user=casey).values_list("provider_id", flat=True)) == {blake.pk}
    [notice] = mail.outbox
    assert notice.to == ["avery@example.com"]
    assert "paused until your license is verified" in notice.subject
    assert "add your license number" in notice.body and f"/providers/{avery.pk}/edit/" in notice.body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        run_matching()
    assert mail.outbox == []  # told once

    client = Client()
    client.force_login(avery.user)
    assert "the license deadline passed" in client.get("/dashboard/").content.decode()


def test_a_lapsed_advisor_comes_back_once_verified(imported, operator):
    avery = imported["avery@example.com"]
    past_the_deadline(avery)
    run_matching()
    profiles.provider_update(provider=Provider.objects.get(pk=avery.pk), changes={"license_number": "CRD-1"})
    profiles.provider_verify_license(provider=Provider.objects.get(pk=avery.pk), operator=operator)
    assert Provider.objects.get(pk=avery.pk).is_listed
    seeker = User.objects.get(email="casey@example.com").seekers.get()
    assert avery.pk in {m.provider_id for m in Match.objects.filter(seeker=seeker)} | {
        m.provider_id for m in matches.match_run_for_seeker(seeker=seeker)
    }


def test_operators_see_the_queue_and_verify_in_bulk(imported, operator):
    avery, blake = imported["avery@example.com"], imported["blake@example.com"]
    profiles.provider_update(provider=avery, changes={"license_number": "CRD-777"})
    admin = Client()
    admin.force_login(operator)
    queue = admin.get("/admin/marketplace/provider/?phase1=awaiting").content.decode()
    assert "Phase 1 advisors awaiting a license" in queue
    assert "Avery Wealth" in queue and blake.business_name in queue
    ready = admin.get("/admin/marketplace/provider/?phase1=ready").content.decode()
    assert "Avery Wealth" in ready and blake.business_name not in ready
    detail = admin.get(f"/admin/marketplace/provider/{avery.pk}/change/").content.decode()
    assert "Phase 1 advisor (import_v1 phase1.sqlite3)" in detail

    page = admin.post(
        "/admin/marketplace/provider/",
        {"action": "verify_license", "_selected_action": [avery.pk, blake.pk]},
        follow=True,
    ).content.decode()
    assert "Verified 1 provider." in page and "has not given a license number" in page
    assert Provider.objects.get(pk=avery.pk).license_verified
    assert "Avery Wealth" not in admin.get("/admin/marketplace/provider/?phase1=awaiting").content.decode()


def test_nobody_else_can_get_a_provisional_verification(advisors, operator):
    person = UserFactory()
    with pytest.raises(TypeError):
        profiles.provider_create(user=person, category=advisors, business_name="Self-made", license_provisional=True)
    created = profiles.provider_create(user=person, category=advisors, business_name="Self-made")
    assert not created.license_provisional and not created.is_listed

    api = APIClient()
    api.force_authenticate(person)
    api.patch(
        f"/api/v1/providers/{created.pk}/",
        {"license_provisional": True, "provisional_until": "2099-01-01T00:00:00Z"},
        format="json",
    )
    web = Client()
    web.force_login(person)
    web.post(f"/providers/{created.pk}/edit/", {"business_name": "Self-made", "license_provisional": "on"})
    admin = Client()
    admin.force_login(operator)
    form = admin.get(f"/admin/marketplace/provider/{created.pk}/change/").content.decode()
    assert 'name="license_provisional"' not in form and 'name="provisional_until"' not in form
    created.refresh_from_db()
    assert not created.license_provisional and created.provisional_until is None and not created.is_listed
