"""Distance (issue 16, item 3): a gazetteer, coordinates on profiles, km against the seeker's radius."""

from dataclasses import replace

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from imatch.errors import DomainError
from marketplace.gazetteer import geocode, normalise_city
from marketplace.matching.factors import (
    LOCATION_AT_RADIUS,
    LOCATION_REMOTE,
    LOCATION_SAME_STATE,
    distance_fit,
    great_circle_km,
    location_fit,
)
from marketplace.matching.pool import CandidatePool, rank_providers
from marketplace.models import Provider, Seeker
from marketplace.services import profiles
from tests.api.test_profiles_api import SEEKER as SEEKER_BODY
from tests.marketplace.loop import make_category, make_provider, make_seeker
from tests.marketplace.test_matching_engine import CATEGORY, SEEKER, provider

AUSTIN = (30.26715, -97.74306)
ROUND_ROCK = (30.50826, -97.6789)  # about 27 km north of Austin
PFLUGERVILLE = (
    30.43937,
    -97.62,
)  # about 23 km
DALLAS = (32.78306, -96.80667)  # about 290 km
PLACED = replace(SEEKER, latitude=AUSTIN[0], longitude=AUSTIN[1], radius_km=25.0)


def at(pid: int, place: tuple[float, float] | None, **fields):
    latitude, longitude = place if place else (None, None)
    return provider(pid, latitude=latitude, longitude=longitude, **fields)


# --- The gazetteer ---------------------------------------------------------------------


def test_the_gazetteer_knows_us_cities_with_their_state_and_spelling_variants():
    assert geocode("Austin", "TX") == pytest.approx(AUSTIN, abs=0.01)
    assert geocode("  austin ", "tx") == geocode("Austin", "TX")
    assert geocode("St. Louis", "MO") == geocode("Saint Louis", "MO") is not None
    assert geocode("Austin", "MN") != geocode("Austin", "TX")  # the state tells namesakes apart
    assert normalise_city("Coeur d'Alene") == "coeur d alene"


@pytest.mark.parametrize(("city", "state"), [("Nowhereville", "TX"), ("", "TX"), ("Austin", ""), ("Austin", "T")])
def test_an_unknown_or_incomplete_place_has_no_coordinates(city, state):
    assert geocode(city, state) is None


# --- The factor ------------------------------------------------------------------------


def test_great_circle_distances_are_in_km():
    assert great_circle_km(*AUSTIN, *AUSTIN) == pytest.approx(0, abs=1e-3)
    assert great_circle_km(*AUSTIN, *ROUND_ROCK) == pytest.approx(27.6, abs=1)
    assert great_circle_km(*AUSTIN, *DALLAS) == pytest.approx(292, abs=5)


def test_distance_fit_is_smooth_and_falls_with_distance():
    assert distance_fit(0, 25) == 1.0
    assert distance_fit(25, 25) == pytest.approx(LOCATION_AT_RADIUS)
    assert distance_fit(25.001, 25) == pytest.approx(LOCATION_AT_RADIUS, abs=1e-3)  # no step at the edge
    assert distance_fit(50, 25) == pytest.approx(LOCATION_AT_RADIUS / 2)
    values = [distance_fit(km, 25) for km in range(0, 200, 5)]
    assert values == sorted(values, reverse=True)


def test_the_seekers_radius_decides_what_is_near():
    rock = at(1, ROUND_ROCK)
    assert location_fit(PLACED, rock, 25) < LOCATION_AT_RADIUS < location_fit(PLACED, rock, 50)


def test_remote_work_is_a_separate_path_worth_the_remote_fit():
    far_remote = at(1, DALLAS, remote=True)
    far_in_person = at(2, DALLAS)
    assert location_fit(PLACED, far_remote, 25) == LOCATION_REMOTE
    assert location_fit(PLACED, far_in_person, 25) < 0.01
    assert location_fit(replace(PLACED, remote_ok=False), far_remote, 25) < 0.01


def test_an_unknown_place_falls_back_to_same_city_and_state():
    assert location_fit(PLACED, at(1, None, city="Austin"), 25) == 1.0
    assert location_fit(PLACED, at(1, None, city="Waco"), 25) == LOCATION_SAME_STATE
    assert location_fit(SEEKER, at(1, ROUND_ROCK, city="Round Rock"), 25) == LOCATION_SAME_STATE  # seeker unknown


# --- Ranking and reasons ---------------------------------------------------------------


def test_a_provider_next_door_in_another_town_beats_one_across_the_state():
    near, far = at(1, PFLUGERVILLE, city="Pflugerville"), at(2, DALLAS, city="Dallas")
    ranked = rank_providers(PLACED, CATEGORY, [far, near], limit=2)
    assert [m.provider_id for m in ranked] == [1, 2]
    assert "About 22 km away" in ranked[0].reasons
    assert "About 293 km away (beyond your 25 km)" in ranked[1].reasons


def test_reasons_say_when_the_distance_is_unknown_or_remote():
    unknown = rank_providers(PLACED, CATEGORY, [at(1, None, city="Waco")], limit=1)[0]
    assert "Distance unknown: same state" in unknown.reasons
    remote = rank_providers(
        PLACED, CATEGORY, [at(1, (39.74, -104.99), city="Denver", state="CO", remote=True)], limit=1
    )
    assert "Works remotely" in remote[0].reasons


def test_the_category_default_radius_applies_when_the_seeker_has_none():
    rock = at(1, ROUND_ROCK)
    narrow = CandidatePool(replace(CATEGORY, default_radius_km=10.0), [rock])
    wide = CandidatePool(replace(CATEGORY, default_radius_km=100.0), [rock])
    seeker = replace(PLACED, radius_km=None)
    assert narrow.rank(seeker, limit=1)[0].breakdown["location"] < wide.rank(seeker, limit=1)[0].breakdown["location"]


def test_a_cached_pool_picks_up_a_providers_new_place():
    pool = CandidatePool(CATEGORY, [at(1, DALLAS), at(2, ROUND_ROCK)])
    assert pool.rank(PLACED, limit=1)[0].provider_id == 2
    moved = pool.replaced([at(1, AUSTIN)])
    assert moved is not None and moved.rank(PLACED, limit=1)[0].provider_id == 1


@settings(max_examples=60, deadline=None)
@given(
    radius=st.floats(min_value=1, max_value=300),
    inside=st.floats(min_value=0, max_value=0.99),
    outside=st.floats(min_value=1.02, max_value=20),
    north=st.booleans(),
    rating=st.floats(min_value=1, max_value=5),
    remote=st.booleans(),
)
def test_within_the_radius_always_beats_outside_it_all_else_equal(radius, inside, outside, north, rating, remote):
    """Two providers identical but for where they are: the one inside the radius ranks first."""
    degrees = radius / 111.2  # the radius in degrees of latitude
    sign = 1 if north else -1
    near = (AUSTIN[0] + sign * inside * degrees, AUSTIN[1])
    far = (AUSTIN[0] - sign * outside * degrees, AUSTIN[1])
    seeker = replace(PLACED, radius_km=radius, remote_ok=True)
    a = at(1, far, rating_avg=rating, remote=remote)
    b = at(2, near, rating_avg=rating, remote=remote)
    assert great_circle_km(*AUSTIN, *near) <= radius < great_circle_km(*AUSTIN, *far)
    assert [m.provider_id for m in rank_providers(seeker, CATEGORY, [a, b], limit=2)] == [2, 1]


# --- Profiles, services, API and web --------------------------------------------------


@pytest.mark.django_db
def test_profiles_store_coordinates_when_their_place_changes():
    category = make_category()
    seeker = make_seeker(category, city="Round Rock")
    assert (seeker.latitude, seeker.longitude) == pytest.approx(ROUND_ROCK, abs=0.01)
    seeker = profiles.seeker_update(seeker=seeker, changes={"city": "Atlantis"})
    assert seeker.latitude is None and seeker.longitude is None
    provider_row = make_provider(category, city="Dallas")
    provider_row = profiles.provider_update(provider=provider_row, changes={"city": "Austin"})
    assert provider_row.latitude == pytest.approx(AUSTIN[0], abs=0.01)


@pytest.mark.django_db
@pytest.mark.parametrize("radius", [0, 501, -3, True, "25"])
def test_a_radius_out_of_bounds_is_refused_with_the_field(radius):
    category = make_category()
    seeker = make_seeker(category, radius_km=40)
    with pytest.raises(DomainError) as refused:
        profiles.seeker_update(seeker=seeker, changes={"radius_km": radius})
    assert refused.value.field == "radius_km"
    assert Seeker.objects.get(pk=seeker.pk).radius_km == 40


@pytest.mark.django_db
def test_the_api_exposes_and_validates_the_radius(user_api, seeded_categories):
    response = user_api.post("/api/v1/seekers/", {**SEEKER_BODY, "radius_km": 40}, format="json")
    assert response.status_code == 201 and response.json()["radius_km"] == 40
    seeker_id = response.json()["id"]
    for bad in (0, 501, "far"):
        refused = user_api.patch(f"/api/v1/seekers/{seeker_id}/", {"radius_km": bad}, format="json")
        assert refused.status_code == 400 and "radius_km" in refused.json()["fields"]
    assert (
        user_api.patch(f"/api/v1/seekers/{seeker_id}/", {"radius_km": None}, format="json").json()["radius_km"] is None
    )


@pytest.mark.django_db
def test_the_web_form_shows_a_radius_error_next_to_the_field(client, user, seeded_categories):
    client.force_login(user)
    seeker = make_seeker(seeded_categories["financial_advisors"], user=user, specialties=["retirement-planning"])
    url = reverse("seeker-edit", args=[seeker.pk])
    data = {"specialties": ["retirement-planning"], "needs_description": "Retire", "city": "Austin", "state": "TX"}
    page = client.post(url, {**data, "radius_km": "900"})
    assert page.status_code == 200 and "Ensure this value is less than or equal to 500" in page.content.decode()
    assert client.post(url, {**data, "radius_km": "60"}).status_code == 302
    assert Seeker.objects.get(pk=seeker.pk).radius_km == 60


@pytest.mark.django_db
def test_geocode_profiles_fills_the_coordinates_of_older_rows(capsys):
    category = make_category()
    provider_row = make_provider(category, city="Round Rock")
    Provider.objects.filter(pk=provider_row.pk).update(latitude=None, longitude=None)
    call_command("geocode_profiles")
    provider_row.refresh_from_db()
    assert provider_row.latitude == pytest.approx(ROUND_ROCK[0], abs=0.01)
    assert "1 provider" in capsys.readouterr().out
