"""The ranking's fast pass gives the reference results: same providers, same scores, same order.

`CandidatePool.quick_scores` scores every compatible provider from lists precomputed per
pool (coverage per distinct specialty mask, budget fit per price range and budget, no
trigonometry for remote providers too far for distance to matter); `rank` then scores the
few that can reach the top again with the reference code (`CandidatePool.factors`,
`combine`, `order_key`, `promote_featured`). These tests hold both to the reference on a
seeded market that has every case the fast pass treats apart: unknown places, remote
providers near and far, radii under 1 km and up to 500 km, histories with expired
introductions, loads, Featured providers, exclusions, seekers without text, specialties,
budget, state or place.
"""

import math
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.matching.factors import (
    EARTH_RADIUS_KM,
    CategoryRules,
    Exclusions,
    ProviderCandidate,
    Ranked,
    Responsiveness,
    SeekerProfile,
    combine,
    order_key,
    passes_hard_filters,
    promote_featured,
)
from marketplace.matching.pool import CandidatePool
from marketplace.matching.text import query_terms

SPECIALTIES = {1: "Retirement planning", 2: "Tax planning", 3: "Estate planning", 4: "Debt", 5: "College savings"}
CATEGORY = CategoryRules(id=1, active=True, requires_license=True, specialty_names=SPECIALTIES)
# Three clusters of towns, two states each side of a border, and a far one.
CENTRES = {"TX": (30.27, -97.74), "OK": (35.47, -97.52), "CA": (34.05, -118.24)}
WORDS = [
    "retirement",
    "income",
    "pension",
    "tax",
    "estate",
    "trust",
    "debt",
    "college",
    "savings",
    "family",
    "business",
    "fiduciary",
]
NEEDS = ["", "retire with a pension", "tax help for my business", "college savings and debt", "zzz unknown"]


def market(seed: int, size: int = 700) -> tuple[list[ProviderCandidate], list[SeekerProfile]]:
    rng = random.Random(seed)

    def near(state: str, spread: float) -> tuple[float | None, float | None]:
        if rng.random() < 0.1:
            return None, None  # not in the gazetteer
        lat, lon = CENTRES[state]
        return lat + rng.uniform(-spread, spread), lon + rng.uniform(-spread, spread)

    providers = []
    for pid in range(1, size + 1):
        state = rng.choice(list(CENTRES))
        latitude, longitude = near(state, rng.choice([0.05, 0.3, 1.5]))
        low = rng.choice([None, *range(40, 400, 20)])
        history = Responsiveness()
        if rng.random() < 0.3:
            history = Responsiveness(
                answered=rng.randint(0, 12),
                accepted=rng.randint(0, 8),
                median_hours=rng.choice([None, rng.uniform(0, 72)]),
                expired_streak=rng.choice([0, 0, 1, 3]),
                leads=rng.randint(0, 30),
            )
        providers.append(
            ProviderCandidate(
                id=pid,
                user_id=10_000 + pid // 2,  # some people run two practices
                category_id=1,
                specialty_ids=frozenset(rng.sample(list(SPECIALTIES), rng.randint(0, 3))),
                bio=" ".join(rng.choices(WORDS, k=rng.randint(0, 12))),
                pricing_min=None if low is None else float(low),
                pricing_max=rng.choice([None, float((low or 40) + rng.randrange(0, 300, 25))]),
                city=rng.choice(["Austin", "Round Rock", "Norman", ""]),
                state=state,
                remote=rng.random() < 0.4,
                latitude=latitude,
                longitude=longitude,
                accepting_clients=rng.random() < 0.95,
                max_active_clients=rng.randint(0, 6),
                active_clients=rng.randint(0, 3),
                open_leads=rng.randint(0, 8),
                license_verified=rng.random() < 0.85,
                license_provisional=rng.random() < 0.05,
                years_experience=rng.choice([None, rng.randint(0, 40)]),
                rating_avg=rng.choice([0.0, round(rng.uniform(1, 5), 1)]),
                rating_count=rng.randint(0, 60),
                featured=rng.random() < 0.15,
                user_active=rng.random() < 0.97,
                history=history,
            )
        )
    seekers = []
    for sid in range(1, 81):
        state = rng.choice([*CENTRES, ""])
        latitude, longitude = near(state, 0.3) if state else (None, None)
        seekers.append(
            SeekerProfile(
                id=sid,
                user_id=10_000 + rng.randint(1, size // 2) if sid % 9 == 0 else 90_000 + sid,
                category_id=1,
                specialty_ids=frozenset(rng.sample(list(SPECIALTIES), rng.randint(0, 2))),
                needs_description=rng.choice(NEEDS),
                budget_min=rng.choice([None, 50.0, 100.0]),
                budget_max=rng.choice([None, 150.0, 250.0, float(rng.randrange(100, 500, 5))]),
                city=rng.choice(["Austin", "Norman", ""]),
                state=state,
                remote_ok=rng.random() < 0.6,
                latitude=latitude,
                longitude=longitude,
                radius_km=rng.choice([None, 0.5, 10.0, 60.0, 500.0]),
            )
        )
    return providers, seekers


def exclusions_for(seeker: SeekerProfile, size: int) -> Exclusions:
    rng = random.Random(seeker.id)
    return Exclusions(
        provider_ids=frozenset(rng.randint(1, size) for _ in range(rng.randint(0, 40))),
        user_ids=frozenset(10_000 + rng.randint(1, size // 2) for _ in range(rng.randint(0, 5))),
    )


def loaded_pool(providers: list[ProviderCandidate], **lookup) -> CandidatePool:
    pool = CandidatePool(CATEGORY, providers)
    loads = {
        "active_clients": {p.id: p.active_clients for p in providers},
        "open_leads": {p.id: p.open_leads for p in providers},
    }
    if lookup:
        return pool.with_loads(**loads, **lookup)
    return pool.with_loads(**loads, featured_user_ids={p.user_id for p in providers if p.featured})


def reference(pool: CandidatePool, seeker: SeekerProfile, exclusions: Exclusions) -> list[tuple]:
    """Every provider passing the hard filters, scored factor by factor, ordered and boosted: no shortcut."""
    terms = query_terms(seeker.needs_description, pool.lexicon)
    relevance = pool.index.relevance(terms)
    mask = pool._mask(seeker.specialty_ids)
    scored = []
    for p in range(len(pool)):
        provider = pool.current(p)
        if not passes_hard_filters(seeker, provider, pool.category, exclusions):
            continue
        factors = pool.factors(seeker, p, seeker_mask=mask, has_text=bool(terms), relevance=relevance[p])
        score = combine(factors, pool.weights)
        scored.append((order_key(score, factors, provider.featured, provider.id), p, score, factors))
    scored.sort()
    view = [Ranked(score, f[0], f[1], pool._rating(p), pool.current(p).featured) for _, p, score, f in scored]
    return [(scored[i][1], scored[i][2]) for i in promote_featured(view, pool.boost)]


PROVIDERS, SEEKERS = market(seed=16)


@pytest.mark.parametrize("seeker", SEEKERS, ids=lambda s: f"seeker{s.id}")
def test_quick_scores_are_the_reference_scores_of_exactly_the_providers_that_pass_the_hard_filters(seeker):
    pool = loaded_pool(PROVIDERS)
    exclusions = exclusions_for(seeker, len(PROVIDERS))
    terms = query_terms(seeker.needs_description, pool.lexicon)
    relevance = pool.index.relevance(terms)
    positions, scores = pool.quick_scores(seeker, exclusions, relevance=relevance, has_text=bool(terms))
    expected = reference(pool, seeker, exclusions)
    assert sorted(positions) == sorted(p for p, _ in expected)
    by_position = dict(expected)
    for position, score in zip(positions, scores, strict=True):
        assert score == pytest.approx(by_position[position], abs=1e-12, rel=0)


@pytest.mark.parametrize("seeker", SEEKERS, ids=lambda s: f"seeker{s.id}")
def test_rank_gives_the_reference_ranking(seeker):
    pool = loaded_pool(PROVIDERS)
    exclusions = exclusions_for(seeker, len(PROVIDERS))
    expected = [(pool.providers[p].id, score) for p, score in reference(pool, seeker, exclusions)]
    for limit in (1, 3, 10, len(PROVIDERS)):
        ranked = pool.rank(seeker, limit=limit, exclusions=exclusions)
        assert [(m.provider_id, m.score) for m in ranked] == expected[:limit]  # the same floats, not approximately


def test_asking_who_is_featured_only_about_contenders_changes_no_ranking():
    featured_users = {p.user_id for p in PROVIDERS if p.featured}
    asked: list[int] = []

    def lookup(user_ids):
        asked.extend(user_ids)
        return [u for u in user_ids if u in featured_users]

    known, looked_up = loaded_pool(PROVIDERS), loaded_pool(PROVIDERS, featured_lookup=lookup)
    for seeker in SEEKERS:
        exclusions = exclusions_for(seeker, len(PROVIDERS))
        assert looked_up.rank(seeker, limit=3, exclusions=exclusions) == known.rank(
            seeker, limit=3, exclusions=exclusions
        )
    assert 0 < len(set(asked)) < len({p.user_id for p in PROVIDERS})  # it asked about some, not everyone


def test_a_repeated_budget_ranks_as_the_first_time_and_a_refreshed_pool_forgets_old_prices():
    pool = loaded_pool(PROVIDERS)
    seeker = SEEKERS[1]
    first = pool.rank(seeker, limit=5)
    assert pool.rank(seeker, limit=5) == first
    cheaper = [replace(p, pricing_min=1.0, pricing_max=2.0) for p in PROVIDERS[:200]]
    refreshed = pool.replaced(cheaper)
    rebuilt = loaded_pool([*cheaper, *PROVIDERS[200:]])
    assert refreshed is not None
    assert refreshed.rank(seeker, limit=5) == rebuilt.rank(seeker, limit=5)


def km_north(latitude: float, km: float) -> float:
    return latitude + math.degrees(km / EARTH_RADIUS_KM)


@settings(max_examples=200, deadline=None)
@given(
    radius=st.sampled_from([None, 0.2, 1.0, 5.0, 25.0, 80.0]),
    offsets=st.lists(
        st.tuples(st.floats(0, 400), st.floats(-3, 3), st.booleans(), st.booleans()), min_size=1, max_size=8
    ),
    remote_ok=st.booleans(),
)
def test_remote_providers_near_the_edge_of_two_radii_score_as_the_reference(radius, offsets, remote_ok):
    """The shortcut for far remote providers is taken only where the exact distance gives the same score."""
    seeker = SeekerProfile(
        id=1,
        user_id=1,
        category_id=1,
        state="TX",
        city="Austin",
        latitude=30.0,
        longitude=-97.0,
        remote_ok=remote_ok,
        radius_km=radius,
    )
    edge = max(1.0, radius or 25.0)
    providers = [
        ProviderCandidate(
            id=pid,
            user_id=100 + pid,
            category_id=1,
            state="TX" if same_state else "CA",
            remote=remote,
            license_verified=True,
            latitude=km_north(30.0, 2 * edge + km / 100 - 2),  # within a few km of two radii, either side
            longitude=-97.0 + east / 100,
        )
        for pid, (km, east, remote, same_state) in enumerate(offsets, start=1)
    ]
    pool = CandidatePool(CATEGORY, providers)
    positions, scores = pool.quick_scores(seeker, Exclusions(), relevance=[0.0] * len(pool), has_text=False)
    expected = dict(reference(pool, seeker, Exclusions()))
    assert sorted(positions) == sorted(expected)
    for position, score in zip(positions, scores, strict=True):
        assert score == pytest.approx(expected[position], abs=1e-12, rel=0)
    assert [m.score for m in pool.rank(seeker, limit=len(pool))] == [
        score for _, score in reference(pool, seeker, Exclusions())
    ]
