"""The matching engine on plain data: hard filters, factors, reasons, and its properties."""

import ast
import itertools
from dataclasses import replace
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import marketplace.matching
from categories.models import validate_matching_weights
from marketplace.matching import factors
from marketplace.matching.factors import (
    FACTORS,
    CategoryRules,
    Exclusions,
    InvalidWeights,
    ProviderCandidate,
    Ranked,
    SeekerProfile,
    Weights,
    budget_fit,
    combine,
    order_key,
    promote_featured,
    quality_fit,
)
from marketplace.matching.pool import CandidatePool, rank_providers
from marketplace.matching.text import BM25Index, stem, tokenize

RETIREMENT, TAX, ESTATE, DEBT = 1, 2, 3, 4
CATEGORY = CategoryRules(
    id=1,
    active=True,
    requires_license=False,
    specialty_names={RETIREMENT: "Retirement planning", TAX: "Tax planning", ESTATE: "Estate planning", DEBT: "Debt"},
)
SEEKER = SeekerProfile(
    id=1,
    user_id=1,
    category_id=1,
    specialty_ids=frozenset({RETIREMENT}),
    needs_description="I want to retire early and plan my retirement income.",
    budget_min=100.0,
    budget_max=300.0,
    city="Austin",
    state="TX",
    remote_ok=True,
)


def provider(pid: int, **fields) -> ProviderCandidate:
    defaults = {
        "user_id": 1000 + pid,
        "category_id": 1,
        "specialty_ids": frozenset({RETIREMENT}),
        "bio": "Fee-only planner helping families with retirement income.",
        "pricing_min": 150.0,
        "pricing_max": 250.0,
        "city": "Austin",
        "state": "TX",
        "years_experience": 10,
        "rating_avg": 4.5,
        "rating_count": 10,
    }
    return ProviderCandidate(id=pid, **{**defaults, **fields})


def ranked_ids(candidates, *, seeker=SEEKER, category=CATEGORY, limit=10, exclusions=None) -> list[int]:
    return [m.provider_id for m in rank_providers(seeker, category, candidates, limit=limit, exclusions=exclusions)]


# --- Purity ---------------------------------------------------------------------------


ENGINE_DIR = Path(marketplace.matching.__file__).parent
PROJECT_PACKAGES = ("imatch", "categories", "marketplace", "currency")
PURE_PROJECT_MODULES = ("categories.matching_weights",)  # shared with the admin's validation, no Django import


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names] + [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ]


@pytest.mark.parametrize("module", sorted(path.name for path in ENGINE_DIR.glob("*.py")))
def test_the_engine_imports_no_orm(module):
    """No Django, and of the project only the engine itself and pure modules: anything else may touch the ORM."""
    imported = imports_of(ENGINE_DIR / module)
    assert not [name for name in imported if name.split(".")[0] == "django"]
    assert not [
        name
        for name in imported
        if name.split(".")[0] in PROJECT_PACKAGES
        and not name.startswith("marketplace.matching.")
        and name not in PURE_PROJECT_MODULES
    ]


@pytest.mark.parametrize("module", PURE_PROJECT_MODULES)
def test_the_modules_the_engine_shares_import_nothing(module):
    assert imports_of(Path(__file__).parents[2] / f"{module.replace('.', '/')}.py") == []


# --- Hard filters, one by one ---------------------------------------------------------


def test_a_compatible_provider_is_matched():
    assert ranked_ids([provider(1)]) == [1]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"category_id": 2}, "another category"),
        ({"accepting_clients": False}, "not accepting clients"),
        ({"active_clients": 10, "max_active_clients": 10}, "at capacity"),
        ({"state": "CA", "remote": False}, "another state, not remote"),
        ({"user_id": SEEKER.user_id}, "the seeker's own user"),
        ({"user_active": False}, "a deactivated account"),
    ],
)
def test_hard_filters_exclude(change, why):
    assert ranked_ids([provider(1, **change)]) == [], why


def test_an_inactive_category_matches_nobody():
    assert ranked_ids([provider(1)], category=replace(CATEGORY, active=False)) == []


def test_a_seeker_of_another_category_gets_nothing():
    assert ranked_ids([provider(1)], seeker=replace(SEEKER, category_id=2)) == []


def test_a_license_is_required_where_the_category_says_so():
    licensed = replace(CATEGORY, requires_license=True)
    assert ranked_ids([provider(1), provider(2, license_verified=True)], category=licensed) == [2]


def test_remote_needs_both_sides():
    far = provider(1, state="CA", city="San Diego", remote=True)
    assert ranked_ids([far]) == [1]
    assert ranked_ids([far], seeker=replace(SEEKER, remote_ok=False)) == []
    assert ranked_ids([provider(2, state="CA", remote=False)]) == []


def test_already_matched_and_declined_people_are_excluded():
    candidates = [provider(1), provider(2), provider(3)]
    exclusions = Exclusions(provider_ids=frozenset({1}), user_ids=frozenset({1002}))
    assert ranked_ids(candidates, exclusions=exclusions) == [3]


def test_capacity_counts_only_below_the_limit():
    assert ranked_ids([provider(1, active_clients=9, max_active_clients=10)]) == [1]


# --- Factors --------------------------------------------------------------------------


def test_budget_fit_is_full_inside_and_falls_off_with_the_gap():
    inside = budget_fit(100, 300, 150, 250)
    partly = budget_fit(100, 300, 250, 400)
    near = budget_fit(100, 300, 320, 400)
    far = budget_fit(100, 300, 600, 900)
    assert inside == 1.0
    assert inside > partly > near > far > 0
    assert budget_fit(None, None, 150, 250) == budget_fit(100, 300, None, None) == 0.5


def test_bayesian_quality_one_five_star_review_does_not_beat_forty_at_4_8():
    one_review = provider(1, rating_avg=5.0, rating_count=1)
    forty = provider(2, rating_avg=4.8, rating_count=40)
    assert quality_fit(forty) > quality_fit(one_review)


def test_experience_has_diminishing_returns():
    q = [quality_fit(provider(1, years_experience=y)) for y in (0, 5, 10, 30, 31)]
    assert q[0] < q[1] < q[2] < q[3] < q[4]
    assert q[1] - q[0] > q[4] - q[3]


def test_same_city_beats_same_state_beats_remote():
    candidates = [
        provider(1, state="CA", city="Fresno", remote=True),
        provider(2, city="Dallas"),
        provider(3, city="austin"),
    ]
    assert ranked_ids(candidates) == [3, 2, 1]


def test_text_relevance_uses_bm25_not_substrings():
    candidates = [
        provider(1, specialty_ids=frozenset(), bio="Retirement income plans and retiring early are my focus."),
        provider(2, specialty_ids=frozenset(), bio="Tax returns for small businesses."),
    ]
    assert ranked_ids(candidates, seeker=replace(SEEKER, specialty_ids=frozenset())) == [1, 2]
    assert stem("retiring") == stem("retirement") == stem("retire")


def test_bm25_prefers_rare_terms_and_shorter_documents():
    index = BM25Index([tokenize("retirement"), tokenize("retirement " + "planning " * 20), tokenize("tax")])
    scores = index.relevance(tokenize("retirement"))
    assert scores[0] > scores[1] > scores[2] == 0
    assert all(0 <= s <= 1 for s in scores)


def test_a_pool_streamed_in_id_order_ranks_as_one_built_from_a_list():
    """The loader streams its rows (no list of every bio): the same pool as from a list, any order."""
    bios = ["Retirement income for families.", "Tax returns and retirement plans.", "Debt help.", "Estates."]
    candidates = [provider(pid, bio=bios[pid % 4], rating_count=pid) for pid in range(1, 40)]
    from_list = CandidatePool(CATEGORY, list(reversed(candidates)))
    streamed = CandidatePool(CATEGORY, iter(candidates))
    assert streamed.index.postings == from_list.index.postings
    assert [m.provider_id for m in streamed.rank(SEEKER, limit=10)] == [
        m.provider_id for m in from_list.rank(SEEKER, limit=10)
    ]
    with pytest.raises(ValueError, match="ascending id order"):
        CandidatePool(CATEGORY, iter(reversed(candidates)))


def test_fewer_open_leads_rank_higher_so_leads_are_spread():
    assert ranked_ids([provider(1, open_leads=12), provider(2, open_leads=0)]) == [2, 1]


def test_reasons_are_plain_language():
    [match] = rank_providers(SEEKER, CATEGORY, [provider(1, license_verified=True, featured=True)], limit=1)
    assert "Specializes in retirement planning" in match.reasons
    assert "Within your budget" in match.reasons
    assert "Distance unknown: same city" in match.reasons
    assert "License verified" in match.reasons
    assert "Featured" in match.reasons
    assert set(match.breakdown) == {*FACTORS, "featured"}


def test_text_reason_names_the_words_that_matched():
    seeker = replace(SEEKER, specialty_ids=frozenset(), needs_description="Help with my pension and annuity")
    [match] = rank_providers(seeker, CATEGORY, [provider(1, bio="Pension and annuity advice.")], limit=1)
    assert any(reason.startswith("Their profile mentions") and "pension" in reason for reason in match.reasons)


# --- The Featured boost ---------------------------------------------------------------


def test_featured_reorders_close_candidates():
    close = [provider(1, rating_avg=4.6), provider(2, rating_avg=4.5, featured=True)]
    assert ranked_ids(close) == [2, 1]


def test_featured_never_lifts_a_poor_fit_over_a_good_one():
    good = provider(1)
    poor = provider(
        2, specialty_ids=frozenset({DEBT}), bio="Debt.", pricing_min=900.0, pricing_max=1200.0, featured=True
    )
    assert ranked_ids([good, poor]) == [1, 2]


def test_a_boost_cannot_buy_stars():
    """The issue's case: Featured at 3 stars stays below an otherwise identical provider at 5 stars."""
    five_stars = provider(1, rating_avg=5.0, rating_count=40)
    three_stars_featured = provider(2, rating_avg=3.0, rating_count=40, featured=True)
    assert ranked_ids([five_stars, three_stars_featured]) == [1, 2]


# --- Weights per category -------------------------------------------------------------


def test_weights_can_be_overridden_per_category():
    cheap_far = provider(1, state="CA", city="LA", remote=True, pricing_min=100.0, pricing_max=150.0)
    dear_near = provider(2, pricing_min=400.0, pricing_max=500.0)
    location_first = replace(CATEGORY, weights=Weights.from_overrides({"location": 5.0}))
    budget_first = replace(CATEGORY, weights=Weights.from_overrides({"budget": 5.0}))
    assert ranked_ids([cheap_far, dear_near], category=location_first) == [2, 1]
    assert ranked_ids([cheap_far, dear_near], category=budget_first) == [1, 2]


@pytest.mark.parametrize("bad", [{"need": 0}, {"need": -1}, {"speed": 1}, {"boost": 0.5}, {"need": "a lot"}])
def test_bad_weights_are_refused(bad):
    with pytest.raises(InvalidWeights):
        Weights.from_overrides(bad)


@pytest.mark.parametrize(
    "overrides",
    [
        {"need": 0.5},
        {"capacity": 100},
        {"capacity": 100.5},
        {"quality": 0},
        {"budget": -1},
        {"boost": 0},
        {"boost": 0.15},
        {"boost": 0.150001},
        {"boost": -0.01},
        {"speed": 1},
        {"location": "near"},
    ],
)
def test_the_admin_accepts_exactly_the_overrides_the_engine_accepts(overrides):
    """One definition of the keys and bounds: the category's validation and the engine agree."""
    try:
        validate_matching_weights(overrides)
        admin_accepts = True
    except ValidationError:
        admin_accepts = False
    try:
        Weights.from_overrides(overrides)
        engine_accepts = True
    except InvalidWeights:
        engine_accepts = False
    assert admin_accepts == engine_accepts


# --- Properties -----------------------------------------------------------------------

specialty_sets = st.frozensets(st.sampled_from([RETIREMENT, TAX, ESTATE, DEBT]), max_size=3)
money = st.one_of(st.none(), st.integers(0, 1000).map(float))
words = st.sampled_from(["retirement", "income", "tax", "estate", "debt", "family", "business", "pension", "plan"])
states = st.sampled_from(["TX", "CA"])


@st.composite
def candidates(draw, pid: int, category_id: int = 1) -> ProviderCandidate:
    low, high = sorted([draw(money) or 0.0, draw(money) or 0.0])
    return ProviderCandidate(
        id=pid,
        user_id=1000 + pid,
        category_id=category_id,
        specialty_ids=draw(specialty_sets),
        bio=" ".join(draw(st.lists(words, max_size=8))),
        pricing_min=low if draw(st.booleans()) else None,
        pricing_max=high if draw(st.booleans()) else None,
        city=draw(st.sampled_from(["Austin", "Dallas"])),
        state=draw(states),
        remote=draw(st.booleans()),
        accepting_clients=draw(st.sampled_from([True, True, True, False])),
        max_active_clients=draw(st.integers(1, 5)),
        active_clients=draw(st.integers(0, 4)),
        open_leads=draw(st.integers(0, 20)),
        license_verified=draw(st.booleans()),
        years_experience=draw(st.one_of(st.none(), st.integers(0, 40))),
        rating_avg=draw(st.floats(0, 5)),
        rating_count=draw(st.integers(0, 50)),
        featured=draw(st.booleans()),
    )


@st.composite
def pools(draw, max_size: int = 12) -> list[ProviderCandidate]:
    size = draw(st.integers(0, max_size))
    return [draw(candidates(pid)) for pid in range(1, size + 1)]


@st.composite
def seekers(draw) -> SeekerProfile:
    low, high = sorted([draw(money) or 0.0, draw(money) or 0.0])
    return SeekerProfile(
        id=1,
        user_id=1,
        category_id=1,
        specialty_ids=draw(specialty_sets),
        needs_description=" ".join(draw(st.lists(words, max_size=6))),
        budget_min=low if draw(st.booleans()) else None,
        budget_max=high if draw(st.booleans()) else None,
        city=draw(st.sampled_from(["Austin", "Dallas", ""])),
        state=draw(st.sampled_from(["TX", "CA", ""])),
        remote_ok=draw(st.booleans()),
    )


@settings(max_examples=100, deadline=None)
@given(seekers(), pools(), st.randoms())
def test_deterministic_whatever_the_order_of_the_candidates(seeker, pool, rnd):
    shuffled = list(pool)
    rnd.shuffle(shuffled)
    first = rank_providers(seeker, CATEGORY, pool, limit=5)
    again = rank_providers(seeker, CATEGORY, shuffled, limit=5)
    assert first == again


@settings(max_examples=100, deadline=None)
@given(seekers(), pools())
def test_scores_stay_in_0_1_and_come_best_first(seeker, pool):
    ranked = rank_providers(seeker, CATEGORY, pool, limit=20)
    assert all(0.0 <= m.score <= 1.0 for m in ranked)
    assert all(0.0 <= v <= 1.0 for m in ranked for v in m.breakdown.values())
    for higher, lower in itertools.pairwise(ranked):  # best first, but for a Featured provider's near-tie
        assert higher.score >= lower.score or (higher.featured and higher.score + factors.DEFAULT_BOOST > lower.score)
    assert [m.rank for m in ranked] == list(range(1, len(ranked) + 1))


@settings(max_examples=100, deadline=None)
@given(seekers(), pools(), pools(max_size=4))
def test_an_unrelated_provider_in_another_category_changes_nothing(seeker, pool, others):
    elsewhere = [replace(p, id=p.id + 100, user_id=p.user_id + 100, category_id=2) for p in others]
    assert rank_providers(seeker, CATEGORY, pool, limit=5) == rank_providers(
        seeker, CATEGORY, pool + elsewhere, limit=5
    )


@settings(max_examples=100, deadline=None)
@given(seekers(), pools(), st.integers(0, 11))
def test_hard_filters_are_never_violated(seeker, pool, excluded):
    exclusions = Exclusions(provider_ids=frozenset({excluded}), user_ids=frozenset({1000 + excluded + 1}))
    by_id = {p.id: p for p in pool}
    for match in rank_providers(seeker, CATEGORY, pool, limit=20, exclusions=exclusions):
        p = by_id[match.provider_id]
        assert p.accepting_clients and p.active_clients < p.max_active_clients
        assert (seeker.state and p.state == seeker.state) or (seeker.remote_ok and p.remote)
        assert p.id != excluded and p.user_id != 1000 + excluded + 1 and p.user_id != seeker.user_id


factor_values = st.floats(0, 1, allow_nan=False)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(factor_values, min_size=6, max_size=6),
    st.lists(st.floats(0, 0.5, allow_nan=False), min_size=6, max_size=6),
    st.integers(0, 5),
    st.booleans(),
    st.booleans(),
    st.integers(1, 1000),
    st.integers(1, 1000),
)
def test_monotone_a_dominating_provider_never_ranks_below(worse, gains, strict, worse_featured, better_featured, a, b):
    """Better or equal on every factor (Featured included) and better on one: ranks above."""
    assume(a != b)
    better = [min(1.0, w + g) for w, g in zip(worse, gains, strict=True)]
    better[strict] = min(1.0, worse[strict] + max(gains[strict], 0.01))
    assume(better[strict] > worse[strict])
    featured_better = better_featured or worse_featured
    weights = Weights().normalised()
    key_better = order_key(combine(better, weights), better, featured_better, a)
    key_worse = order_key(combine(worse, weights), worse, worse_featured, b)
    assert key_better < key_worse
    # The boost moves a Featured provider only past one that is not Featured: never past one that dominates it.
    view = [
        Ranked(score=combine(f, weights), need=f[0], budget=f[1], rating=5.0 * f[3], featured=featured)
        for f, featured in ((better, featured_better), (worse, worse_featured))
    ]
    assert promote_featured(view, factors.MAX_BOOST) == [0, 1]


@settings(max_examples=100, deadline=None)
@given(seekers(), pools(max_size=8), st.integers(1, 8), st.sampled_from(["rating", "experience", "verified", "leads"]))
def test_monotone_on_real_providers_a_better_copy_ranks_above(seeker, pool, pid, better_at):
    """A copy of a provider that is better on one quality or capacity input never ranks below it."""
    assume(pid <= len(pool))
    original = pool[pid - 1]
    changes = {
        "rating": {"rating_avg": 5.0, "rating_count": original.rating_count + 20},
        "experience": {"years_experience": (original.years_experience or 0) + 5},
        "verified": {"license_verified": True},
        "leads": {"open_leads": 0},
    }[better_at]
    assume(any(getattr(original, k) != v for k, v in changes.items()))
    copy = replace(original, id=999, user_id=1999, **changes)
    ranked = ranked_ids([*pool, copy], seeker=seeker, limit=20)
    if original.id in ranked:
        assert copy.id in ranked
        assert ranked.index(copy.id) < ranked.index(original.id)


def test_the_pool_can_be_reused_and_counts_new_leads():
    pool = CandidatePool(CATEGORY, [provider(1), provider(2)])
    first = pool.rank(SEEKER, limit=1)[0].provider_id
    for _ in range(10):
        pool.note_lead(first)
    assert pool.rank(SEEKER, limit=1)[0].provider_id != first


# --- Refreshing a pool without rebuilding its text index -----------------------------


@st.composite
def non_text_changes(draw, provider: ProviderCandidate) -> ProviderCandidate:
    """What changes often (ratings, prices, place, capacity, verification), never the profile text."""
    low, high = sorted([draw(money) or 0.0, draw(money) or 0.0])
    return replace(
        provider,
        rating_avg=draw(st.floats(0, 5)),
        rating_count=draw(st.integers(0, 60)),
        pricing_min=low,
        pricing_max=high,
        state=draw(states),
        city=draw(st.sampled_from(["Austin", "Dallas"])),
        remote=draw(st.booleans()),
        accepting_clients=draw(st.sampled_from([True, True, False])),
        license_verified=draw(st.booleans()),
        max_active_clients=draw(st.integers(1, 5)),
        years_experience=draw(st.one_of(st.none(), st.integers(0, 40))),
    )


@settings(max_examples=100, deadline=None)
@given(seekers(), pools(), st.data())
def test_a_refreshed_pool_ranks_exactly_like_a_rebuilt_one(seeker, pool, data):
    changed = [data.draw(non_text_changes(p)) for p in pool if data.draw(st.booleans())]
    new_pool = {p.id: p for p in [*pool, *changed]}.values()
    refreshed = CandidatePool(CATEGORY, pool).replaced(changed)
    assert refreshed is not None
    assert refreshed.rank(seeker, limit=5) == CandidatePool(CATEGORY, new_pool).rank(seeker, limit=5)


def test_a_new_text_or_a_new_matchable_provider_needs_a_rebuild():
    pool = CandidatePool(CATEGORY, [provider(1), provider(2)])
    assert pool.replaced([replace(provider(1), bio="Something else entirely")]) is None
    assert pool.replaced([replace(provider(1), specialty_ids=frozenset({TAX}))]) is None
    assert pool.replaced([provider(3)]) is None
    assert pool.replaced([provider(4, category_id=2)]) is not None  # another category: ignored
    licensed = CandidatePool(replace(CATEGORY, requires_license=True), [provider(1, license_verified=True)])
    assert licensed.replaced([provider(5, license_verified=False)]) is not None  # still not matchable
    assert licensed.replaced([provider(5, license_verified=True)]) is None  # now matchable: index it
    paused = CandidatePool(replace(CATEGORY, active=False), [])  # the loader loads nobody of a paused category
    assert paused.replaced([provider(6)]) is not None


def test_refreshing_keeps_the_loads():
    pool = CandidatePool(CATEGORY, [provider(1), provider(2)]).with_loads(
        active_clients={1: 10}, open_leads={}, featured_user_ids={1002}
    )
    refreshed = pool.replaced([replace(provider(2), rating_avg=5.0)])
    ranked = refreshed.rank(SEEKER, limit=5)
    assert [m.provider_id for m in ranked] == [2] and ranked[0].featured


def test_experience_counts_even_when_the_rating_is_out_of_range():
    """Found by Hypothesis: a rating average under 1 must not swallow the experience part of quality."""
    unrated_novice = provider(1, rating_avg=0.0, rating_count=42, years_experience=0)
    seasoned = replace(unrated_novice, id=2, user_id=1002, years_experience=5)
    assert factors.quality_fit(seasoned) > factors.quality_fit(unrated_novice)
    assert 0.0 <= factors.quality_fit(unrated_novice) <= 1.0
