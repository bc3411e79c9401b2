"""The factors of a match, its hard filters, and how they combine. Pure Python: no ORM import.

How a match is decided:

1. Hard filters, never violated: active user accounts on both sides (a deactivated
   seeker is not matched at all: `match_run_for_seeker` refuses); same and active
   category; provider accepting clients
   and under capacity; license verified where the category requires one; location
   compatible (same state, or remote on both sides); not the seeker's own user; not a
   provider already matched to this seeker; not someone this seeker's user declined or
   was declined by.
2. Factors, each in [0, 1]: need fit (specialty coverage plus BM25 relevance of the needs
   text against bio, specialties and certifications), budget fit, location, quality
   (Bayesian rating average, verification, experience) and capacity/fairness.
3. The score is the weighted mean of the factors (weights per category, all positive),
   scaled by `1 - boost` for providers who are not Featured: a Featured provider (POT
   profile boost) gains at most `boost` of its own score, which reorders close candidates
   but never lifts a poor fit over a good one.
4. Ties break on the factors themselves, then on the provider id, so that a provider at
   least as good on every factor never ranks below one it dominates, and the same data
   always gives the same order.

`pool.CandidatePool` applies these to one category's providers for a seeker;
`reasons` says why in plain words.

Prices reach this module as floats: they are only compared and divided to make a score,
never stored or charged (money stays `Decimal` everywhere else).
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# The keys and bounds of a category's overrides are the admin's too: defined once, there.
from categories.matching_weights import FACTORS, MAX_BOOST, MAX_WEIGHT

DEFAULT_WEIGHTS: dict[str, float] = {"need": 0.40, "budget": 0.20, "location": 0.15, "quality": 0.15, "capacity": 0.10}
DEFAULT_BOOST = 0.06

# Quality: a Bayesian average pulls few ratings towards the prior, so one 5-star review
# (3.75) does not beat forty reviews averaging 4.8 (4.66).
RATING_PRIOR = 3.5
RATING_PRIOR_WEIGHT = 5
EXPERIENCE_SCALE_YEARS = 8.0  # 1 - e^(-years/8): 8 years ≈ 0.63, 20 years ≈ 0.92
FAIRNESS_LEADS_SCALE = 5.0  # 5 open leads in the last 14 days halve the fairness part

LOCATION_SAME_CITY = 1.0
LOCATION_SAME_STATE = 0.7
LOCATION_REMOTE = 0.4

BUDGET_IN_RANGE_FLOOR = 0.75  # overlapping ranges score 0.75 to 1 by how much of the price is in budget
BUDGET_UNKNOWN = 0.5  # no budget or no price: neither a reason for nor against


class InvalidWeights(ValueError):
    """A category's weight overrides are not usable (unknown key, not a positive number)."""


@dataclass(frozen=True, slots=True)
class Weights:
    """Relative importance of the factors in one category, and the Featured boost bound."""

    need: float = DEFAULT_WEIGHTS["need"]
    budget: float = DEFAULT_WEIGHTS["budget"]
    location: float = DEFAULT_WEIGHTS["location"]
    quality: float = DEFAULT_WEIGHTS["quality"]
    capacity: float = DEFAULT_WEIGHTS["capacity"]
    boost: float = DEFAULT_BOOST

    def __post_init__(self) -> None:
        for name in FACTORS:
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not (0 < value <= MAX_WEIGHT):
                raise InvalidWeights(f"The weight of {name} must be a positive number, not {value!r}.")
        if not isinstance(self.boost, int | float) or not (0 <= self.boost <= MAX_BOOST):
            raise InvalidWeights(f"The boost must be between 0 and {MAX_BOOST}, not {self.boost!r}.")

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, object] | None) -> "Weights":
        """Defaults with a category's overrides applied; raises InvalidWeights on a bad value."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - {*FACTORS, "boost"}
        if unknown:
            raise InvalidWeights(f"Unknown matching weights: {', '.join(sorted(unknown))}.")
        return cls(**overrides)

    def normalised(self) -> tuple[float, ...]:
        total = sum(getattr(self, name) for name in FACTORS)
        return tuple(getattr(self, name) / total for name in FACTORS)


@dataclass(frozen=True, slots=True)
class CategoryRules:
    """What the engine needs to know of a category."""

    id: int
    active: bool
    requires_license: bool
    specialty_names: Mapping[int, str] = field(default_factory=dict)
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True, slots=True)
class SeekerProfile:
    """The seeker being matched, as plain data."""

    id: int
    user_id: int
    category_id: int
    specialty_ids: frozenset[int] = frozenset()
    needs_description: str = ""
    budget_min: float | None = None
    budget_max: float | None = None
    city: str = ""
    state: str = ""
    remote_ok: bool = True


@dataclass(frozen=True, slots=True)
class ProviderCandidate:
    """One provider of the category, as plain data, with its current load."""

    id: int
    user_id: int
    category_id: int
    specialty_ids: frozenset[int] = frozenset()
    bio: str = ""
    certifications: str = ""
    pricing_min: float | None = None
    pricing_max: float | None = None
    city: str = ""
    state: str = ""
    remote: bool = False
    accepting_clients: bool = True
    max_active_clients: int = 10
    active_clients: int = 0
    open_leads: int = 0
    license_verified: bool = False
    license_provisional: bool = False  # a Phase 1 advisor before their license deadline
    years_experience: int | None = None
    rating_avg: float = 0.0
    rating_count: int = 0
    featured: bool = False
    user_active: bool = True  # the provider's user account is active (not deactivated by an operator)


@dataclass(frozen=True, slots=True)
class Exclusions:
    """Providers a seeker must not be matched with again."""

    provider_ids: frozenset[int] = frozenset()  # already matched to this seeker, whatever the status
    user_ids: frozenset[int] = frozenset()  # people this seeker's user declined or was declined by


@dataclass(frozen=True, slots=True)
class ScoredMatch:
    """One ranked provider: score in [0, 1], the factors behind it, and why, in words."""

    provider_id: int
    score: float
    rank: int
    breakdown: dict[str, float]
    reasons: tuple[str, ...]
    featured: bool


# --- Factors (each returns a value in [0, 1]) -----------------------------------------


def budget_fit(
    budget_min: float | None, budget_max: float | None, price_min: float | None, price_max: float | None
) -> float:
    """Overlap of the seeker's budget and the provider's price range; falls off with the gap."""
    if (budget_min is None and budget_max is None) or (price_min is None and price_max is None):
        return BUDGET_UNKNOWN
    low_budget = budget_min if budget_min is not None else 0.0
    high_budget = budget_max if budget_max is not None else math.inf
    low_price = price_min if price_min is not None else price_max
    high_price = price_max if price_max is not None else price_min
    if low_price <= high_budget and high_price >= low_budget:
        span = high_price - low_price
        inside = min(high_price, high_budget) - max(low_price, low_budget)
        share = 1.0 if span <= 0 else max(0.0, inside) / span
        return BUDGET_IN_RANGE_FLOOR + (1.0 - BUDGET_IN_RANGE_FLOOR) * share
    if low_price > high_budget:  # dearer than the budget: half the credit per 25% over it
        gap = (low_price - high_budget) / max(high_budget, 1.0)
        return BUDGET_IN_RANGE_FLOOR * 0.5 ** (gap / 0.25)
    gap = (low_budget - high_price) / max(low_budget, 1.0)  # cheaper than asked: a gentler fall
    return BUDGET_IN_RANGE_FLOOR * 0.5 ** (gap / 0.5)


def location_fit(seeker: SeekerProfile, provider: ProviderCandidate) -> float:
    """Same city > same state > remote. Assumes the location hard filter passed."""
    if seeker.state and provider.state == seeker.state:
        if seeker.city and provider.city.casefold() == seeker.city.casefold():
            return LOCATION_SAME_CITY
        return LOCATION_SAME_STATE
    return LOCATION_REMOTE


def bayesian_rating(rating_avg: float, rating_count: int) -> float:
    return (RATING_PRIOR * RATING_PRIOR_WEIGHT + rating_avg * rating_count) / (RATING_PRIOR_WEIGHT + rating_count)


def quality_fit(provider: ProviderCandidate) -> float:
    """Bayesian rating (60%), verified license (20%), experience with diminishing returns (20%)."""
    # Each part is clamped to [0, 1] on its own: clamping only the sum would let a rating out of
    # range (an average under 1 typed in by hand) swallow the experience and license parts,
    # and a better provider would then tie with a worse one.
    rating = min(1.0, max(0.0, (bayesian_rating(provider.rating_avg, provider.rating_count) - 1.0) / 4.0))
    experience = 1.0 - math.exp(-max(0, provider.years_experience or 0) / EXPERIENCE_SCALE_YEARS)
    return 0.6 * rating + 0.2 * (1.0 if provider.license_verified else 0.0) + 0.2 * experience


def capacity_fit(max_active_clients: int, active_clients: int, open_leads: int) -> float:
    """Free capacity (50%) and few open leads in the last 14 days (50%), to spread leads."""
    limit = max(1, max_active_clients)
    free = min(1.0, max(0.0, (limit - active_clients) / limit))
    fairness = 1.0 / (1.0 + max(0, open_leads) / FAIRNESS_LEADS_SCALE)
    return 0.5 * free + 0.5 * fairness


def combine(factors: Sequence[float], weights: Sequence[float], *, featured: bool, boost: float) -> float:
    """Weighted mean of the factors (weights sum to 1), scaled down by the boost unless Featured."""
    need, budget, location, quality, capacity = factors
    w_need, w_budget, w_location, w_quality, w_capacity = weights
    base = w_need * need + w_budget * budget + w_location * location + w_quality * quality + w_capacity * capacity
    return min(1.0, max(0.0, base if featured else base * (1.0 - boost)))


def order_key(score: float, factors: Sequence[float], featured: bool, provider_id: int) -> tuple:
    """Sort key, best first: score, then the factors (so dominance decides float ties), then id."""
    return (-score, *(-f for f in factors), not featured, provider_id)


# --- Hard filters ---------------------------------------------------------------------


def provider_listed(category: CategoryRules, provider: ProviderCandidate) -> bool:
    """Listed publicly: an active account in an active category, license verified where the category requires one.

    The engine's reading of `marketplace.models.provider_is_listed` (this package imports
    no models); tests/marketplace/test_provider_listing.py proves the two agree.
    """
    return (
        provider.user_active
        and category.active
        and (provider.license_verified or provider.license_provisional or not category.requires_license)
    )


def provider_matchable(category: CategoryRules, provider: ProviderCandidate) -> bool:
    """Listed and accepting clients: what the loader loads, and who may join a cached pool."""
    return provider_listed(category, provider) and provider.accepting_clients


def location_compatible(seeker: SeekerProfile, provider: ProviderCandidate) -> bool:
    """Same state, or both sides happy to work remotely."""
    if seeker.state and provider.state == seeker.state:
        return True
    return seeker.remote_ok and provider.remote


def passes_hard_filters(
    seeker: SeekerProfile, provider: ProviderCandidate, category: CategoryRules, exclusions: Exclusions
) -> bool:
    """Every rule a match must never break; each is tested on its own."""
    return (
        provider.category_id == category.id == seeker.category_id
        and provider_matchable(category, provider)
        and provider.active_clients < provider.max_active_clients
        and location_compatible(seeker, provider)
        and provider.user_id != seeker.user_id
        and provider.id not in exclusions.provider_ids
        and provider.user_id not in exclusions.user_ids
    )
