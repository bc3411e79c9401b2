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
   text against bio, specialties and certifications), budget fit (smooth: no step at the
   budget's edges), location, quality (Bayesian rating average with the category's mean
   as the prior, verification, experience), capacity/fairness (free capacity, few recent
   leads, a decaying bonus for newcomers' first leads) and responsiveness (acceptance
   rate and median answer time of the last 90 days, with a prior for newcomers).
3. The score is the weighted mean of the factors (weights per category, all positive),
   times a responsiveness penalty that only bites when introductions were left to
   expire since the provider last answered (`responsiveness_multiplier`).
4. Order: by score, then by the factors themselves, then by the provider id, so that a
   provider at least as good on every factor never ranks below one it dominates, and
   the same data always gives the same order.
5. The Featured boost (`promote_featured`) only breaks near-ties: a Featured provider
   moves up past a provider that is not Featured only when that one scores less than
   `boost` more and is not better by more than the band on need fit
   (`BOOST_BAND_NEED`), budget fit (`BOOST_BAND_BUDGET`) or rating
   (`BOOST_BAND_RATING` stars of Bayesian average). A boost can never buy quality.

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

DEFAULT_WEIGHTS: dict[str, float] = {
    "need": 0.40,
    "budget": 0.20,
    "location": 0.15,
    "quality": 0.15,
    "capacity": 0.15,
    "responsiveness": 0.10,
}
DEFAULT_BOOST = 0.02  # score points a Featured provider may bridge: a tie-break, not a lift

# The band of the boost: a Featured provider never passes one better than it by more than this.
BOOST_BAND_NEED = 0.05
BOOST_BAND_BUDGET = 0.05
BOOST_BAND_RATING = 0.25  # stars of Bayesian rating average

# Quality: a Bayesian average pulls few ratings towards the prior, so one 5-star review
# does not beat forty reviews averaging 4.8. The prior is the category's mean rating
# (`category_rating_prior`): a newcomer is taken for an average provider of the
# category, not for a flat 3.5 that sinks them below every rated peer.
RATING_PRIOR = 3.5  # only when nobody in the category is rated yet
RATING_PRIOR_WEIGHT = 5
EXPERIENCE_SCALE_YEARS = 8.0  # 1 - e^(-years/8): 8 years ≈ 0.63, 20 years ≈ 0.92
FAIRNESS_LEADS_SCALE = 5.0  # 5 open leads in the last 14 days halve the fairness part
NEWCOMER_LEADS_HALF = 2.0  # the newcomer bonus halves with every 2 leads ever received

# Location without coordinates (a place the gazetteer does not know): same city > same state > remote.
LOCATION_SAME_CITY = 1.0
LOCATION_SAME_STATE = 0.7
LOCATION_REMOTE = 0.4
# Location by distance, when both places have coordinates: within the seeker's radius the
# fit falls from 1 to LOCATION_AT_RADIUS at its edge; beyond it, it halves every further
# radius. Remote work (both sides willing) is a separate path worth LOCATION_REMOTE.
LOCATION_AT_RADIUS = 0.8
EARTH_RADIUS_KM = 6371.0088
DEFAULT_RADIUS_KM = 25.0  # a category without its own default

# Budget: 1 inside the range; above it, half the credit per 25% over the maximum; below
# the minimum, a small penalty that grows with the gap and never costs more than 0.2.
BUDGET_OVER_HALF = 0.25
BUDGET_UNDER_HALF = 0.5
BUDGET_UNDER_MAX_PENALTY = 0.2
BUDGET_UNKNOWN = 0.5  # no budget or no price: neither a reason for nor against

# Responsiveness over the last 90 days: acceptance rate and median answer time, each
# with a prior worth a few introductions, so a newcomer starts near a typical provider.
RESPONSE_PRIOR_RATE = 0.7
RESPONSE_PRIOR_HOURS = 24.0
RESPONSE_PRIOR_WEIGHT = 3
RESPONSE_HOURS_HALF = 24.0  # answering in a day scores half of answering at once


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
    responsiveness: float = DEFAULT_WEIGHTS["responsiveness"]
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
    synonyms: tuple[tuple[str, ...], ...] = ()  # groups of words or phrases meaning the same (text.Lexicon)
    default_radius_km: float = DEFAULT_RADIUS_KM  # a seeker without their own radius


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
    latitude: float | None = None  # from the gazetteer; None: place unknown
    longitude: float | None = None
    radius_km: float | None = None  # "within 25 km"; None: the category's default


@dataclass(frozen=True, slots=True)
class Responsiveness:
    """How a provider answered introductions in the last 90 days."""

    answered: int = 0  # accepted or declined by the provider
    accepted: int = 0
    median_hours: float | None = None  # from introduction to answer, of the answered ones
    expired_streak: int = 0  # introductions left to expire since the provider last answered
    leads: int = 0  # matches ever made with this provider (for the newcomer bonus)


NO_HISTORY = Responsiveness()


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
    latitude: float | None = None  # from the gazetteer; None: place unknown
    longitude: float | None = None
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
    history: Responsiveness = NO_HISTORY


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


def _over_integral(low: float, high: float, edge: float, half: float) -> float:
    """Integral over [low, high] (above `edge`) of 2^-((x - edge) / half).

    Written as e^-r(low-edge) x (1 - e^-r(high-low)) with `expm1`: the difference of the two
    exponentials lost most of its digits for a narrow range (a range 1e-9 wide at $123 came out
    1 % off, a step in the fit where there is none).
    """
    rate = math.log(2.0) / half
    return math.exp(-rate * (low - edge)) * -math.expm1(-rate * (high - low)) / rate


def _price_point_fit(price: float, low_budget: float, high_budget: float) -> float:
    if price > high_budget:
        return 0.5 ** ((price - high_budget) / (BUDGET_OVER_HALF * max(high_budget, 1.0)))
    if price < low_budget:
        gap = (low_budget - price) / (BUDGET_UNDER_HALF * max(low_budget, 1.0))
        return 1.0 - BUDGET_UNDER_MAX_PENALTY * (1.0 - 0.5**gap)
    return 1.0


def budget_fit(
    budget_min: float | None, budget_max: float | None, price_min: float | None, price_max: float | None
) -> float:
    """How well the provider's prices fit the seeker's budget: the mean fit over their price range.

    A price inside the budget fits fully; above the maximum it loses half its credit per
    25% over; below the minimum it loses a little (at most 0.2), the seeker may doubt a
    much cheaper offer. Averaged over the provider's range, so the fit is continuous in
    every price: $1 over the maximum costs almost nothing, not a step.
    """
    if (budget_min is None and budget_max is None) or (price_min is None and price_max is None):
        return BUDGET_UNKNOWN
    low_budget = max(0.0, budget_min) if budget_min is not None else 0.0
    high_budget = budget_max if budget_max is not None else math.inf
    high_budget = max(high_budget, low_budget)
    low = price_min if price_min is not None else price_max
    high = price_max if price_max is not None else price_min
    low, high = min(low, high), max(low, high)
    if high - low < 1e-9:
        return _price_point_fit(low, low_budget, high_budget)
    total = 0.0
    inside_low, inside_high = max(low, low_budget), min(high, high_budget)
    if inside_high > inside_low:
        total += inside_high - inside_low
    if high > high_budget:  # the part of the range above the budget
        start = max(low, high_budget)
        total += _over_integral(start, high, high_budget, BUDGET_OVER_HALF * max(high_budget, 1.0))
    if low < low_budget:  # the part below it: 1 - penalty x (1 - 2^-gap)
        end = min(high, low_budget)
        half = BUDGET_UNDER_HALF * max(low_budget, 1.0)
        # Mirror the gap: x below the minimum is (low_budget - x) above it.
        decayed = _over_integral(low_budget - end, low_budget - low, 0.0, half)
        total += (end - low) * (1.0 - BUDGET_UNDER_MAX_PENALTY) + BUDGET_UNDER_MAX_PENALTY * decayed
    return min(1.0, max(0.0, total / (high - low)))


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in km along the Earth's surface (spherical law of cosines).

    Written as `pool.CandidatePool.rank` inlines it (sines and cosines of each provider's
    latitude precomputed), so both give the same float.
    """
    a, b = math.radians(lat1), math.radians(lat2)
    cos_angle = math.sin(a) * math.sin(b) + math.cos(a) * math.cos(b) * math.cos(
        math.radians(lon1) - math.radians(lon2)
    )
    return EARTH_RADIUS_KM * math.acos(min(1.0, max(-1.0, cos_angle)))


def distance_fit(distance_km: float, radius_km: float) -> float:
    """1 at the seeker's door, LOCATION_AT_RADIUS at the edge of their radius, halving every radius beyond."""
    radius = max(1.0, radius_km)
    if distance_km <= radius:
        return 1.0 - (1.0 - LOCATION_AT_RADIUS) * distance_km / radius
    return LOCATION_AT_RADIUS * 0.5 ** ((distance_km - radius) / radius)


def seeker_radius(seeker: SeekerProfile, category: "CategoryRules | None" = None) -> float:
    if seeker.radius_km:
        return float(seeker.radius_km)
    return category.default_radius_km if category is not None else DEFAULT_RADIUS_KM


def provider_distance_km(seeker: SeekerProfile, provider: ProviderCandidate) -> float | None:
    """Great-circle km between the two places, or None when either is not in the gazetteer."""
    if None in (seeker.latitude, seeker.longitude, provider.latitude, provider.longitude):
        return None
    return great_circle_km(seeker.latitude, seeker.longitude, provider.latitude, provider.longitude)


def location_fit(seeker: SeekerProfile, provider: ProviderCandidate, radius_km: float = DEFAULT_RADIUS_KM) -> float:
    """Distance against the seeker's radius, or remote work when both sides are willing, whichever fits better.

    When either place has no coordinates: today's rule, same city > same state > remote.
    Assumes the location hard filter passed.
    """
    remote = LOCATION_REMOTE if seeker.remote_ok and provider.remote else 0.0
    distance = provider_distance_km(seeker, provider)
    if distance is not None:
        return max(distance_fit(distance, radius_km), remote)
    if seeker.state and provider.state == seeker.state:
        if seeker.city and provider.city.casefold() == seeker.city.casefold():
            return LOCATION_SAME_CITY
        return LOCATION_SAME_STATE
    return LOCATION_REMOTE


def bayesian_rating(rating_avg: float, rating_count: int, prior: float = RATING_PRIOR) -> float:
    return (prior * RATING_PRIOR_WEIGHT + rating_avg * rating_count) / (RATING_PRIOR_WEIGHT + rating_count)


def category_rating_prior(providers: Sequence[ProviderCandidate]) -> float:
    """The category's mean rating by review (RATING_PRIOR_WEIGHT reviews of RATING_PRIOR added), floored to 0.1.

    Floored to 0.1 star so that a new rating moves it rarely (a cached pool then
    re-scores everyone's quality only when it moves), and so that it stays under 5: a
    provider with 5-star reviews always ranks above one with none.
    """
    rated = [p for p in providers if p.rating_count > 0]
    count = sum(p.rating_count for p in rated)
    total = sum(min(5.0, max(1.0, p.rating_avg)) * p.rating_count for p in rated)
    mean = (total + RATING_PRIOR * RATING_PRIOR_WEIGHT) / (count + RATING_PRIOR_WEIGHT)
    return math.floor(mean * 10 + 1e-9) / 10


def quality_fit(provider: ProviderCandidate, prior: float = RATING_PRIOR) -> float:
    """Bayesian rating (60%), verified license (20%), experience with diminishing returns (20%)."""
    # Each part is clamped to [0, 1] on its own: clamping only the sum would let a rating out of
    # range (an average under 1 typed in by hand) swallow the experience and license parts,
    # and a better provider would then tie with a worse one.
    rating = min(1.0, max(0.0, (bayesian_rating(provider.rating_avg, provider.rating_count, prior) - 1.0) / 4.0))
    experience = 1.0 - math.exp(-max(0, provider.years_experience or 0) / EXPERIENCE_SCALE_YEARS)
    return 0.6 * rating + 0.2 * (1.0 if provider.license_verified else 0.0) + 0.2 * experience


def capacity_fit(max_active_clients: int, active_clients: int, open_leads: int, leads_ever: int | None = None) -> float:
    """Free capacity (30%), few open leads in the last 14 days (30%), and a newcomer's bonus (40%).

    The newcomer bonus halves with every NEWCOMER_LEADS_HALF leads a provider ever got,
    so a new, well-fitting provider gets a first lead early and the bonus then fades.
    `leads_ever` defaults to the open leads (what a caller without history knows).
    """
    limit = max(1, max_active_clients)
    free = min(1.0, max(0.0, (limit - active_clients) / limit))
    fairness = 1.0 / (1.0 + max(0, open_leads) / FAIRNESS_LEADS_SCALE)
    ever = max(0, open_leads if leads_ever is None else max(leads_ever, open_leads))
    newcomer = 0.5 ** (ever / NEWCOMER_LEADS_HALF)
    return 0.3 * free + 0.3 * fairness + 0.4 * newcomer


def responsiveness_fit(history: Responsiveness) -> float:
    """Acceptance rate and answer time of the last 90 days with a prior; halved per introduction left to expire.

    In [0.5, 1] while the provider answers (60% acceptance rate, 40% speed); each
    introduction left to expire since their last answer halves it, which also lowers the
    score (`responsiveness_multiplier`) until they answer again.
    """
    answered = max(0, history.answered)
    rate = (min(history.accepted, answered) + RESPONSE_PRIOR_RATE * RESPONSE_PRIOR_WEIGHT) / (
        answered + RESPONSE_PRIOR_WEIGHT
    )
    hours = RESPONSE_PRIOR_HOURS if history.median_hours is None else max(0.0, history.median_hours)
    if history.median_hours is not None and answered < RESPONSE_PRIOR_WEIGHT:
        share = answered / RESPONSE_PRIOR_WEIGHT  # few answers: between the prior and what was seen
        hours = share * hours + (1 - share) * RESPONSE_PRIOR_HOURS
    speed = 0.5 ** (hours / RESPONSE_HOURS_HALF)
    base = 0.5 + 0.5 * (0.6 * rate + 0.4 * speed)
    return base * 0.5 ** max(0, history.expired_streak)


def responsiveness_multiplier(responsiveness: float) -> float:
    """1 for anyone who answers; below 1 once introductions expire unanswered (fewer leads)."""
    return min(1.0, 0.5 + responsiveness)


def combine(factors: Sequence[float], weights: Sequence[float]) -> float:
    """Weighted mean of the factors (weights sum to 1), times the responsiveness multiplier."""
    base = sum(w * f for w, f in zip(weights, factors, strict=True))
    return min(1.0, max(0.0, base * responsiveness_multiplier(factors[-1])))


def order_key(score: float, factors: Sequence[float], featured: bool, provider_id: int) -> tuple:
    """Sort key, best first: score, then the factors (so dominance decides float ties), then id."""
    return (-score, *(-f for f in factors), not featured, provider_id)


@dataclass(frozen=True, slots=True)
class Ranked:
    """A provider in the boost's view: its unboosted score and what the band compares."""

    score: float
    need: float
    budget: float
    rating: float  # Bayesian average, stars
    featured: bool


def may_pass(featured: Ranked, other: Ranked, boost: float) -> bool:
    """Whether a Featured provider may move up past `other` (not Featured): a near-tie within the band."""
    return (
        featured.featured
        and not other.featured
        and other.score - featured.score < boost
        and other.need - featured.need <= BOOST_BAND_NEED
        and other.budget - featured.budget <= BOOST_BAND_BUDGET
        and other.rating - featured.rating <= BOOST_BAND_RATING
    )


def promote_featured(ordered: Sequence[Ranked], boost: float) -> list[int]:
    """The boosted order, as indexes into `ordered` (the unboosted order, best first).

    Each Featured provider, from the top, moves up one place at a time past providers it
    `may_pass`, and stops at the first it may not (another Featured provider included).
    So it never passes anyone who scores `boost` more or is better than it by more than
    the band on need fit, budget fit or rating: whom it passes, it passes by a near-tie.
    """
    order = list(range(len(ordered)))
    if boost <= 0:
        return order
    for index in range(len(order)):
        if not ordered[order[index]].featured:
            continue
        at = index
        while at > 0 and may_pass(ordered[order[at]], ordered[order[at - 1]], boost):
            order[at - 1], order[at] = order[at], order[at - 1]
            at -= 1
    return order


# --- Hard filters ---------------------------------------------------------------------


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
