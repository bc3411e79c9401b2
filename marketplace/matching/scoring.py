"""Score and rank one category's providers for a seeker. Pure Python: no ORM import.

How a match is decided:

1. Hard filters, never violated: same and active category; provider accepting clients
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

Prices reach this module as floats: they are only compared and divided to make a score,
never stored or charged (money stays `Decimal` everywhere else).
"""

import copy
import heapq
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from marketplace.matching.text import BM25Index, query_terms, tokenize

FACTORS = ("need", "budget", "location", "quality", "capacity")
DEFAULT_WEIGHTS: dict[str, float] = {"need": 0.40, "budget": 0.20, "location": 0.15, "quality": 0.15, "capacity": 0.10}
DEFAULT_BOOST = 0.06
MAX_BOOST = 0.15

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
            if not isinstance(value, int | float) or isinstance(value, bool) or not (0 < value <= 100):
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
    years_experience: int | None = None
    rating_avg: float = 0.0
    rating_count: int = 0
    featured: bool = False


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
    rating = (bayesian_rating(provider.rating_avg, provider.rating_count) - 1.0) / 4.0
    experience = 1.0 - math.exp(-max(0, provider.years_experience or 0) / EXPERIENCE_SCALE_YEARS)
    value = 0.6 * rating + 0.2 * (1.0 if provider.license_verified else 0.0) + 0.2 * experience
    return min(1.0, max(0.0, value))


def capacity_fit(provider: ProviderCandidate) -> float:
    """Free capacity (50%) and few open leads in the last 14 days (50%), to spread leads."""
    return _capacity(provider.max_active_clients, provider.active_clients, provider.open_leads)


def _capacity(max_active_clients: int, active_clients: int, open_leads: int) -> float:
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
        category.active
        and provider.category_id == category.id == seeker.category_id
        and provider.accepting_clients
        and provider.active_clients < provider.max_active_clients
        and (provider.license_verified or not category.requires_license)
        and location_compatible(seeker, provider)
        and provider.user_id != seeker.user_id
        and provider.id not in exclusions.provider_ids
        and provider.user_id not in exclusions.user_ids
    )


# --- The pool of one category ---------------------------------------------------------


class CandidatePool:
    """One category's providers, prepared once so each seeker is ranked quickly.

    Built from the candidates of the category (others are dropped, so a provider in
    another category changes nothing): the BM25 index of their profiles, their
    seeker-independent factors (quality, capacity), specialty bitmasks, and an index by
    state so a seeker only walks the location-compatible providers.
    """

    def __init__(self, category: CategoryRules, candidates: Iterable[ProviderCandidate]):
        self.category = category
        self.weights = category.weights.normalised()
        self.boost = category.weights.boost
        self.providers: list[ProviderCandidate] = sorted(
            (c for c in candidates if c.category_id == category.id), key=lambda c: c.id
        )
        providers = self.providers
        self._position = {p.id: i for i, p in enumerate(providers)}
        self._positions_of_user: dict[int, list[int]] = {}
        for position, provider in enumerate(providers):
            self._positions_of_user.setdefault(provider.user_id, []).append(position)
        self._bit = {sid: 1 << i for i, sid in enumerate(sorted(category.specialty_names))}
        self._masks = [self._mask(p.specialty_ids) for p in providers]
        names = category.specialty_names
        self.index = BM25Index(
            [
                tokenize(" ".join((p.bio, p.certifications, *(names.get(s, "") for s in sorted(p.specialty_ids)))))
                for p in providers
            ]
        )
        # Seeker-independent parts, as parallel lists (the ranking loop reads lists, not objects).
        self._quality = [quality_fit(p) for p in providers]
        self._city = [p.city.casefold() for p in providers]
        self._state = [p.state for p in providers]
        prices: dict[tuple[float | None, float | None], int] = {}
        self._price = [prices.setdefault((p.pricing_min, p.pricing_max), len(prices)) for p in providers]
        self._price_ranges = list(prices)
        self._index_locations()
        # Parts that depend on the load, first for no load at all: most providers of a large
        # category have none, so applying the current loads only touches the few that do.
        _, _, _, w_quality, w_capacity = self.weights
        self._base_capacity = [_capacity(p.max_active_clients, 0, 0) for p in providers]
        self._base_static = [
            w_quality * q + w_capacity * c for q, c in zip(self._quality, self._base_capacity, strict=True)
        ]
        self._base_multiplier = [1.0 - self.boost] * len(providers)
        self._apply_loads(
            active_clients={p.id: p.active_clients for p in providers if p.active_clients},
            open_leads={p.id: p.open_leads for p in providers if p.open_leads},
            featured_user_ids={p.user_id for p in providers if p.featured},
        )

    def _index_locations(self) -> None:
        """Index by state the providers that pass the filters that do not depend on the seeker or the load."""
        category = self.category
        self._by_state: dict[str, list[int]] = {}
        self._remote: list[int] = []
        for position, provider in enumerate(self.providers):
            if not (
                category.active
                and provider.accepting_clients
                and provider.max_active_clients > 0
                and (provider.license_verified or not category.requires_license)
            ):
                continue
            self._by_state.setdefault(provider.state, []).append(position)
            if provider.remote:
                self._remote.append(position)

    def __len__(self) -> int:
        return len(self.providers)

    def replaced(self, changed: Iterable[ProviderCandidate]) -> "CandidatePool | None":
        """A copy with these providers' new data, keeping the text index; None if it must be rebuilt.

        The index stays valid while no provider joins the pool and no profile text (bio,
        certifications, specialties) changes: ratings, prices, location, capacity or
        verification changes are applied here in a few milliseconds. Otherwise None: build
        a new pool. Providers outside the category, or outside the pool and still not
        matchable, are ignored.
        """
        updates: dict[int, ProviderCandidate] = {}
        for candidate in changed:
            if candidate.category_id != self.category.id:
                continue
            position = self._position.get(candidate.id)
            if position is None:
                if candidate.accepting_clients and (candidate.license_verified or not self.category.requires_license):
                    return None  # a provider joins the pool: its text must be indexed
                continue  # still not matchable: stays out
            old = self.providers[position]
            if (old.bio, old.certifications, old.specialty_ids, old.user_id) != (
                candidate.bio,
                candidate.certifications,
                candidate.specialty_ids,
                candidate.user_id,
            ):
                return None
            updates[position] = candidate
        pool = copy.copy(self)
        if not updates:
            return pool
        pool.providers = list(self.providers)
        pool._quality, pool._city, pool._state = list(self._quality), list(self._city), list(self._state)
        pool._price, pool._price_ranges = list(self._price), list(self._price_ranges)
        pool._base_capacity, pool._base_static = list(self._base_capacity), list(self._base_static)
        prices = {price: index for index, price in enumerate(pool._price_ranges)}
        _, _, _, w_quality, w_capacity = self.weights
        for position, candidate in updates.items():
            pool.providers[position] = candidate
            pool._quality[position] = quality_fit(candidate)
            pool._city[position] = candidate.city.casefold()
            pool._state[position] = candidate.state
            price = (candidate.pricing_min, candidate.pricing_max)
            if price not in prices:
                prices[price] = len(pool._price_ranges)
                pool._price_ranges.append(price)
            pool._price[position] = prices[price]
            pool._base_capacity[position] = _capacity(candidate.max_active_clients, 0, 0)
            pool._base_static[position] = (
                w_quality * pool._quality[position] + w_capacity * pool._base_capacity[position]
            )
        pool._index_locations()
        pool._apply_loads(
            active_clients={pool.providers[p].id: c for p, c in self._active.items()},
            open_leads={pool.providers[p].id: c for p, c in self._leads.items()},
            featured_user_ids={pool.providers[p].user_id for p in self._featured},
        )
        return pool

    def with_loads(
        self,
        *,
        active_clients: Mapping[int, int],
        open_leads: Mapping[int, int],
        featured_user_ids: Iterable[int] = (),
        featured_lookup: Callable[[Collection[int]], Iterable[int]] | None = None,
    ) -> "CandidatePool":
        """A copy sharing this pool's profile index, with every provider's current load.

        Keys are provider ids (user ids for Featured); a provider not named has no load.
        Profiles change rarely and cost the most to index; loads change with every match.
        Featured providers are given as user ids, or found by `featured_lookup(user_ids)`,
        which `rank` calls with only the providers that could reach the top with a boost.
        """
        pool = copy.copy(self)
        pool._apply_loads(active_clients=active_clients, open_leads=open_leads, featured_user_ids=featured_user_ids)
        pool._featured_lookup = featured_lookup
        return pool

    def _apply_loads(
        self, *, active_clients: Mapping[int, int], open_leads: Mapping[int, int], featured_user_ids: Iterable[int]
    ) -> None:
        """Start from the no-load lists and recompute only the providers that have a load."""
        self._capacity = list(self._base_capacity)
        self._static = list(self._base_static)
        self._multiplier = list(self._base_multiplier)
        self._active: dict[int, int] = {}
        self._leads: dict[int, int] = {}
        self._featured: set[int] = set()
        self._featured_lookup: Callable[[Collection[int]], Iterable[int]] | None = None
        self._looked_up: set[int] = set()  # user ids featured_lookup was asked about
        self._full: set[int] = set()  # at capacity: fails the hard filter
        position_of = self._position
        for provider_id, count in active_clients.items():
            if count and provider_id in position_of:
                self._active[position_of[provider_id]] = count
        for provider_id, count in open_leads.items():
            if count and provider_id in position_of:
                self._leads[position_of[provider_id]] = count
        for position in self._active.keys() | self._leads.keys():
            self._recompute_load(position)
        for user_id in featured_user_ids:
            for position in self._positions_of_user.get(user_id, ()):
                self._featured.add(position)
                self._multiplier[position] = 1.0

    def _recompute_load(self, position: int) -> None:
        provider = self.providers[position]
        active = self._active.get(position, 0)
        self._capacity[position] = capacity = _capacity(
            provider.max_active_clients, active, self._leads.get(position, 0)
        )
        _, _, _, w_quality, w_capacity = self.weights
        self._static[position] = w_quality * self._quality[position] + w_capacity * capacity
        if active >= provider.max_active_clients:
            self._full.add(position)
        else:
            self._full.discard(position)

    def _mask(self, specialty_ids: Iterable[int]) -> int:
        mask = 0
        for sid in specialty_ids:
            mask |= self._bit.get(sid, 0)
        return mask

    def current(self, position: int) -> ProviderCandidate:
        """The provider at this position with its current load."""
        return replace(
            self.providers[position],
            active_clients=self._active.get(position, 0),
            open_leads=self._leads.get(position, 0),
            featured=position in self._featured,
        )

    def note_lead(self, provider_id: int) -> None:
        """Count a new lead for a provider (batch runs), so the next seeker sees the load."""
        position = self._position.get(provider_id)
        if position is not None:
            self._leads[position] = self._leads.get(position, 0) + 1
            self._recompute_load(position)

    def _compatible_positions(self, seeker: SeekerProfile) -> list[int]:
        """Providers that may pass the location filter (same state; remote ones too if the seeker is)."""
        same_state = self._by_state.get(seeker.state, []) if seeker.state else []
        if not seeker.remote_ok:
            return same_state
        state = self._state
        return same_state + [p for p in self._remote if not seeker.state or state[p] != seeker.state]

    def _excluded_positions(self, seeker: SeekerProfile, exclusions: Exclusions) -> set[int]:
        excluded = {self._position[pid] for pid in exclusions.provider_ids if pid in self._position}
        excluded |= self._full
        for user_id in (seeker.user_id, *exclusions.user_ids):
            excluded.update(self._positions_of_user.get(user_id, ()))
        return excluded

    def factors(
        self, seeker: SeekerProfile, position: int, *, seeker_mask: int, has_text: bool, relevance: float
    ) -> tuple[float, ...]:
        """The five factors of one provider for this seeker (the ranking loop inlines the same)."""
        provider = self.current(position)
        wanted = seeker_mask.bit_count()
        if wanted:
            coverage = (seeker_mask & self._masks[position]).bit_count() / wanted
            need = 0.6 * coverage + 0.4 * math.sqrt(relevance) if has_text else coverage
        else:
            need = math.sqrt(relevance) if has_text else 0.5
        return (
            need,
            budget_fit(seeker.budget_min, seeker.budget_max, provider.pricing_min, provider.pricing_max),
            location_fit(seeker, provider),
            self._quality[position],
            self._capacity[position],
        )

    def rank(self, seeker: SeekerProfile, *, limit: int, exclusions: Exclusions | None = None) -> list[ScoredMatch]:
        """The best `limit` providers for the seeker, best first, with breakdown and reasons.

        A fast pass computes every compatible provider's score from precomputed lists;
        the few at or above the `limit`-th score are then scored again factor by factor
        (the reference computation), checked against every hard filter, and ordered.
        """
        exclusions = exclusions or Exclusions()
        category = self.category
        if limit <= 0 or not category.active or seeker.category_id != category.id:
            return []
        terms = query_terms(seeker.needs_description)
        relevance = self.index.relevance(terms)
        seeker_mask = self._mask(seeker.specialty_ids)
        wanted = seeker_mask.bit_count()
        has_text = bool(terms)
        w_need, w_budget, w_location, _, _ = self.weights
        budgets = [budget_fit(seeker.budget_min, seeker.budget_max, low, high) for low, high in self._price_ranges]
        excluded = self._excluded_positions(seeker, exclusions)
        seeker_city, seeker_state = seeker.city.casefold(), seeker.state
        masks, static, multiplier, price, city, state = (
            self._masks,
            self._static,
            self._multiplier,
            self._price,
            self._city,
            self._state,
        )
        sqrt = math.sqrt
        quick: list[tuple[float, int]] = []
        append = quick.append
        for p in self._compatible_positions(seeker):
            if p in excluded:
                continue
            if wanted:
                need = (seeker_mask & masks[p]).bit_count() / wanted
                if has_text:
                    need = 0.6 * need + 0.4 * sqrt(relevance[p])
            else:
                need = sqrt(relevance[p]) if has_text else 0.5
            if seeker_state and state[p] == seeker_state:
                location = LOCATION_SAME_CITY if seeker_city and city[p] == seeker_city else LOCATION_SAME_STATE
            else:
                location = LOCATION_REMOTE
            append(
                ((static[p] + w_need * need + w_budget * budgets[price[p]] + w_location * location) * multiplier[p], p)
            )
        if not quick:
            return []
        if self._featured_lookup is not None:
            quick = self._resolve_featured(quick, limit)
        threshold = heapq.nlargest(limit, quick)[-1][0] - 1e-9
        finalists = []
        for quick_score, p in quick:
            if quick_score < threshold:
                continue
            provider = self.current(p)
            if not passes_hard_filters(seeker, provider, category, exclusions):  # a second check, by the rule book
                continue
            factors = self.factors(seeker, p, seeker_mask=seeker_mask, has_text=has_text, relevance=relevance[p])
            score = combine(factors, self.weights, featured=provider.featured, boost=self.boost)
            finalists.append((order_key(score, factors, provider.featured, provider.id), p, factors))
        finalists.sort()
        return [
            self._result(seeker, rank, position, factors, -key[0], terms)
            for rank, (key, position, factors) in enumerate(finalists[:limit], start=1)
        ]

    def _resolve_featured(self, quick: list[tuple[float, int]], limit: int) -> list[tuple[float, int]]:
        """Ask who is Featured among the providers that could reach the top `limit` with a boost.

        A provider not known to be Featured was scored at `(1 - boost)` of its score; with
        the boost it would score `s / (1 - boost)`. Only those at or above `threshold x
        (1 - boost)` can then enter the top, so only their users are looked up (a handful,
        not the whole category), and the others are left out of the rest of the ranking.
        """
        keep = 1.0 - self.boost
        cut = heapq.nlargest(limit, quick)[-1][0] * keep - 1e-9
        contenders = [(score, p) for score, p in quick if score >= cut]
        users = {self.providers[p].user_id for _, p in contenders} - self._looked_up
        newly: set[int] = set()
        if users:
            self._looked_up |= users
            for user_id in self._featured_lookup(users):
                for position in self._positions_of_user.get(user_id, ()):
                    if position not in self._featured:
                        newly.add(position)
                        self._featured.add(position)
                        self._multiplier[position] = 1.0
        if not newly or keep <= 0:
            return contenders
        return [(score / keep if p in newly else score, p) for score, p in contenders]

    def _result(
        self,
        seeker: SeekerProfile,
        rank: int,
        position: int,
        factors: tuple[float, ...],
        score: float,
        terms: Mapping[str, str],
    ) -> ScoredMatch:
        provider = self.current(position)
        breakdown = {name: round(value, 4) for name, value in zip(FACTORS, factors, strict=True)}
        breakdown["featured"] = 1.0 if provider.featured else 0.0
        return ScoredMatch(
            provider_id=provider.id,
            score=score,
            rank=rank,
            breakdown=breakdown,
            reasons=tuple(self._reasons(seeker, provider, position, factors, terms)),
            featured=provider.featured,
        )

    def _reasons(
        self,
        seeker: SeekerProfile,
        provider: ProviderCandidate,
        position: int,
        factors: tuple[float, ...],
        terms: Mapping[str, str],
    ) -> list[str]:
        """Plain-language reasons for a match, most telling first."""
        reasons: list[str] = []
        names = self.category.specialty_names
        shared = sorted(seeker.specialty_ids & provider.specialty_ids, key=lambda s: names.get(s, ""))
        for specialty_id in shared[:2]:
            reasons.append(f"Specializes in {_lower_first(names.get(specialty_id, 'your need'))}")
        matched = self.index.matched_terms(position, terms)
        if matched and not shared:
            quoted = ", ".join(f"“{terms[t]}”" for t in matched[:3])
            reasons.append(f"Their profile mentions {quoted}")
        _, budget, location, _, capacity = factors
        if budget >= BUDGET_IN_RANGE_FLOOR:
            reasons.append("Within your budget")
        elif budget != BUDGET_UNKNOWN and budget >= 0.35:
            reasons.append("Close to your budget")
        if location == LOCATION_SAME_CITY:
            reasons.append("Same city")
        elif location == LOCATION_SAME_STATE:
            reasons.append("Same state")
        else:
            reasons.append("Works remotely")
        if provider.rating_count:
            noun = "review" if provider.rating_count == 1 else "reviews"
            reasons.append(f"Rated {provider.rating_avg:.1f} from {provider.rating_count} {noun}")
        if provider.license_verified:
            reasons.append("License verified")
        if (provider.years_experience or 0) >= 5:
            reasons.append(f"{provider.years_experience} years of experience")
        if capacity >= 0.9:
            reasons.append("Has time for new clients")
        if provider.featured:
            reasons.append("Featured")
        return reasons


def rank_providers(
    seeker: SeekerProfile,
    category: CategoryRules,
    candidates: Iterable[ProviderCandidate],
    *,
    limit: int,
    exclusions: Exclusions | None = None,
) -> list[ScoredMatch]:
    """Rank once without keeping the pool (tests, one-off calls)."""
    return CandidatePool(category, candidates).rank(seeker, limit=limit, exclusions=exclusions)


def _lower_first(name: str) -> str:
    """'Retirement planning' → 'retirement planning', but 'SEO audits' stays as it is."""
    if len(name) > 1 and name[1].isupper():
        return name
    return name[:1].lower() + name[1:]
