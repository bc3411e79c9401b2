"""One category's providers, prepared once so that each seeker is ranked quickly. Pure Python: no ORM import.

A pool is costly to build (the BM25 index of every profile) and cheap to rank with, so
`marketplace.candidates` keeps one per category and process. What makes that safe:

- Members: a pool holds at least every provider of its category that was matchable
  (`provider_matchable`, what the loader loads) when it was built or last refreshed. It
  may hold more: a provider who stopped being matchable stays in and is left out by the
  hard filters (`_index_locations`, `passes_hard_filters`), never by membership, so a
  pool never has to drop anyone.
- Fixed at build: the category's settings (`CategoryRules`: active, license rule, weights,
  specialty vocabulary, synonyms), the set of members, and what comes from their profile
  text and user (bio, certifications, specialties, user id: the BM25 index and its
  document frequencies, specialty masks, positions by user).
- `replaced(changed)` keeps all of that and recomputes only the per-row parts of the
  changed providers (quality, price, city and state, capacity, whether their account is
  active, the state index), carrying the histories and loads over; when the category's
  mean rating (the quality prior, to 0.1 star) moves, every member's quality is
  recomputed. It returns None, and the pool must be rebuilt, when a changed row would
  add a member (a new provider, or one who became matchable) or changes the text,
  specialties or user of a member. A change of the category's settings, or a provider
  deleted, also needs a new pool: `replaced` cannot see those, the loader checks them.
- Histories (responsiveness of the last 90 days, leads ever) change slowly:
  `with_histories()` gives a copy the loader caches for a few minutes.
- Loads (active clients, open leads, Featured) are never part of the cached state:
  `with_loads()` gives each caller its own copy on top of the shared index.
"""

import copy
import heapq
import math
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import replace

from marketplace.matching.factors import EARTH_RADIUS_KM as _EARTH_KM
from marketplace.matching.factors import (
    FACTORS,
    LOCATION_AT_RADIUS,
    LOCATION_REMOTE,
    LOCATION_SAME_CITY,
    LOCATION_SAME_STATE,
    NO_HISTORY,
    CategoryRules,
    Exclusions,
    ProviderCandidate,
    Ranked,
    Responsiveness,
    ScoredMatch,
    SeekerProfile,
    bayesian_rating,
    budget_fit,
    capacity_fit,
    category_rating_prior,
    combine,
    location_fit,
    order_key,
    passes_hard_filters,
    promote_featured,
    provider_matchable,
    quality_fit,
    responsiveness_fit,
    responsiveness_multiplier,
    seeker_radius,
)
from marketplace.matching.reasons import match_reasons
from marketplace.matching.text import BM25Index, Lexicon, query_terms, tokenize

_NO_HISTORY_FIT = responsiveness_fit(NO_HISTORY)
_NO_PLACE = 2.0  # a sine no latitude has: the provider's place is unknown
# Beyond two radii `distance_fit` is at most LOCATION_AT_RADIUS / 2: no better than working remotely.
_FAR_IS_REMOTE = LOCATION_AT_RADIUS * 0.5 <= LOCATION_REMOTE
_BUDGET_CACHE_SIZE = 64  # distinct seeker budgets remembered per pool (they repeat: round numbers)


class CandidatePool:
    """One category's providers, prepared once so each seeker is ranked quickly.

    Built from the candidates of the category (others are dropped, so a provider in
    another category changes nothing): the BM25 index of their profiles, their
    seeker-independent factors (quality, capacity, responsiveness), specialty bitmasks,
    and an index by state so a seeker only walks the location-compatible providers.
    """

    def __init__(self, category: CategoryRules, candidates: Iterable[ProviderCandidate]):
        self.category = category
        self.weights = category.weights.normalised()
        self.boost = category.weights.boost
        self.lexicon = Lexicon(category.synonyms)
        # The index keeps the terms; the pool keeps no profile text (a category's bios are
        # most of its memory), only a digest of it to tell a new text from an old one. Each
        # profile is indexed as it comes: given an iterator in ascending id order (what the
        # loader streams), no list of every profile's text is ever made.
        self._text_digest = array("q")
        self.providers: list[ProviderCandidate] = []
        self.index = BM25Index(self._take(candidates))
        providers = self.providers
        self._position = _Positions((p.id, i) for i, p in enumerate(providers))
        self._positions_of_user = _Positions((p.user_id, i) for i, p in enumerate(providers))
        self._bit = {sid: 1 << i for i, sid in enumerate(sorted(category.specialty_names))}
        # Specialty bitmasks, each distinct one kept once: a provider holds the index of theirs,
        # so a seeker's coverage is computed once per distinct mask, not once per provider.
        kinds: dict[int, int] = {}
        self._mask_kind = [kinds.setdefault(self._mask(p.specialty_ids), len(kinds)) for p in providers]
        self._mask_values = list(kinds)
        # Seeker-independent parts, as parallel lists (the ranking loop reads lists, not objects).
        self._prior = category_rating_prior(providers)
        self._quality = [quality_fit(p, self._prior) for p in providers]
        self._city = [sys.intern(p.city.casefold()) for p in providers]  # a few hundred distinct: kept once each
        self._state = [p.state for p in providers]
        self._set_coordinates()
        prices: dict[tuple[float | None, float | None], int] = {}
        self._price = [prices.setdefault((p.pricing_min, p.pricing_max), len(prices)) for p in providers]
        self._price_ranges = list(prices)
        self._budget_cache: dict[tuple, array] = {}
        self._index_locations()
        # Parts that depend on the history and the load, first for none at all: most
        # providers of a large category have neither, so applying them only touches the few.
        self._history: dict[int, Responsiveness] = {}
        self._rebuild_bases()
        self._set_histories({p.id: p.history for p in providers if p.history != NO_HISTORY})
        self._apply_loads(
            active_clients={p.id: p.active_clients for p in providers if p.active_clients},
            open_leads={p.id: p.open_leads for p in providers if p.open_leads},
            featured_user_ids={p.user_id for p in providers if p.featured},
        )

    def _take(self, candidates: Iterable[ProviderCandidate]) -> Iterator[list[str]]:
        """The category's candidates by id, each kept lean and its document given to the index."""
        members = (c for c in candidates if c.category_id == self.category.id)
        if not isinstance(candidates, Iterator):
            members = iter(sorted(members, key=lambda c: c.id))
        last_id = None
        for candidate in members:
            if last_id is not None and candidate.id <= last_id:
                raise ValueError("A pool's candidates come in ascending id order (or as a list or a set).")
            last_id = candidate.id
            self._text_digest.append(hash((candidate.bio, candidate.certifications)))
            self.providers.append(_lean(candidate))
            yield self._document(candidate)

    def _document(self, provider: ProviderCandidate) -> list[str]:
        names = self.category.specialty_names
        text = " ".join(
            (provider.bio, provider.certifications, *(names.get(s, "") for s in sorted(provider.specialty_ids)))
        )
        return tokenize(text, self.lexicon)

    def _set_coordinates(self) -> None:
        """Sine, cosine and radians of each provider's latitude, and its longitude in radians (flat arrays).

        `_NO_PLACE` (an impossible sine) marks a place the gazetteer did not know; remote
        providers are flagged in a bytearray. About 33 bytes per provider.
        """
        sines, cosines, latitudes, longitudes = array("d"), array("d"), array("d"), array("d")
        for provider in self.providers:
            if provider.latitude is None or provider.longitude is None:
                sines.append(_NO_PLACE)
                cosines.append(0.0)
                latitudes.append(0.0)
                longitudes.append(0.0)
            else:
                latitude = math.radians(provider.latitude)
                sines.append(math.sin(latitude))
                cosines.append(math.cos(latitude))
                latitudes.append(latitude)
                longitudes.append(math.radians(provider.longitude))
        self._sin_lat, self._cos_lat, self._lat, self._lon = sines, cosines, latitudes, longitudes
        self._is_remote = bytearray(1 if p.remote else 0 for p in self.providers)

    def _index_locations(self) -> None:
        """Index by state the providers that pass the filters that do not depend on the seeker or the load."""
        category = self.category
        self._by_state: dict[str, list[int]] = {}
        self._remote_by_state: dict[str, list[int]] = {}  # the remote ones among them, by state
        for position, provider in enumerate(self.providers):
            if not (provider_matchable(category, provider) and provider.max_active_clients > 0):
                continue
            self._by_state.setdefault(provider.state, []).append(position)
            if provider.remote:
                self._remote_by_state.setdefault(provider.state, []).append(position)

    def __len__(self) -> int:
        return len(self.providers)

    # --- Seeker-independent parts without load ------------------------------------------

    def _rebuild_bases(self) -> None:
        """The per-provider parts for no history and no load (fresh lists)."""
        _, _, _, w_quality, w_capacity, w_responsiveness = self.weights
        self._responsiveness = [_NO_HISTORY_FIT] * len(self.providers)
        self._base_capacity = [capacity_fit(p.max_active_clients, 0, 0, 0) for p in self.providers]
        self._base_static = [
            w_quality * q + w_capacity * c + w_responsiveness * _NO_HISTORY_FIT
            for q, c in zip(self._quality, self._base_capacity, strict=True)
        ]
        self._multiplier = [responsiveness_multiplier(_NO_HISTORY_FIT)] * len(self.providers)
        for position in self._history:
            self._rebase(position)

    def _rebase(self, position: int) -> None:
        """Recompute one provider's no-load parts from its profile and history."""
        provider = self.providers[position]
        history = self._history.get(position, NO_HISTORY)
        _, _, _, w_quality, w_capacity, w_responsiveness = self.weights
        responsiveness = responsiveness_fit(history)
        self._responsiveness[position] = responsiveness
        self._multiplier[position] = responsiveness_multiplier(responsiveness)
        self._base_capacity[position] = capacity_fit(provider.max_active_clients, 0, 0, history.leads)
        self._base_static[position] = (
            w_quality * self._quality[position]
            + w_capacity * self._base_capacity[position]
            + w_responsiveness * responsiveness
        )

    def _set_histories(self, histories: Mapping[int, Responsiveness]) -> None:
        """Replace every provider's history (keys: provider ids; others have none)."""
        old = set(self._history)
        positions = ((self._position.get(pid), h) for pid, h in histories.items() if h != NO_HISTORY)
        self._history = {position: h for position, h in positions if position is not None}
        for position in old | set(self._history):
            self._rebase(position)

    def _copy_bases(self) -> "CandidatePool":
        pool = copy.copy(self)
        pool._responsiveness, pool._multiplier = list(self._responsiveness), list(self._multiplier)
        pool._base_capacity, pool._base_static = list(self._base_capacity), list(self._base_static)
        return pool

    def replaced(self, changed: Iterable[ProviderCandidate]) -> "CandidatePool | None":
        """A copy with these providers' new data, keeping the text index; None if it must be rebuilt.

        The index stays valid while no provider joins the pool and no profile text (bio,
        certifications, specialties) changes: ratings, prices, location, capacity or
        verification changes are applied here in a few milliseconds. Otherwise None: build
        a new pool. Providers outside the category, or outside the pool and still not
        matchable, are ignored. (The module docstring states the whole invariant.)
        """
        updates: dict[int, ProviderCandidate] = {}
        for candidate in changed:
            if candidate.category_id != self.category.id:
                continue
            position = self._position.get(candidate.id)
            if position is None:
                if provider_matchable(self.category, candidate):
                    return None  # a provider joins the pool (the loader would load it): its text must be indexed
                continue  # still not matchable: stays out
            old = self.providers[position]
            if (self._text_digest[position], old.specialty_ids, old.user_id) != (
                hash((candidate.bio, candidate.certifications)),
                candidate.specialty_ids,
                candidate.user_id,
            ):
                return None
            updates[position] = _lean(candidate)
        pool = self._copy_bases()
        if not updates:
            return pool
        pool.providers = list(self.providers)
        pool._quality, pool._city, pool._state = list(self._quality), list(self._city), list(self._state)
        pool._price, pool._price_ranges = list(self._price), list(self._price_ranges)
        pool._budget_cache = {}
        prices = {price: index for index, price in enumerate(pool._price_ranges)}
        for position, candidate in updates.items():
            pool.providers[position] = replace(candidate, history=self.providers[position].history)
            pool._city[position] = sys.intern(candidate.city.casefold())
            pool._state[position] = candidate.state
            price = (candidate.pricing_min, candidate.pricing_max)
            if price not in prices:
                prices[price] = len(pool._price_ranges)
                pool._price_ranges.append(price)
            pool._price[position] = prices[price]
        pool._prior = category_rating_prior(pool.providers)
        if pool._prior != self._prior:
            pool._quality = [quality_fit(p, pool._prior) for p in pool.providers]
            pool._rebuild_bases()
        else:
            for position in updates:
                pool._quality[position] = quality_fit(pool.providers[position], pool._prior)
                pool._rebase(position)
        pool._set_coordinates()
        pool._index_locations()
        pool._reapply_loads_of(self)
        return pool

    def with_histories(self, histories: Mapping[int, Responsiveness]) -> "CandidatePool":
        """A copy sharing this pool's profile index, with every provider's answering history (by provider id)."""
        pool = self._copy_bases()
        pool.providers = list(self.providers)
        pool._set_histories(histories)
        for position in self._history.keys() | pool._history.keys():
            pool.providers[position] = replace(
                pool.providers[position], history=pool._history.get(position, NO_HISTORY)
            )
        pool._reapply_loads_of(self)
        return pool

    def _reapply_loads_of(self, source: "CandidatePool") -> None:
        self._apply_loads(
            active_clients={self.providers[p].id: c for p, c in source._active.items()},
            open_leads={self.providers[p].id: c for p, c in source._leads.items()},
            featured_user_ids={self.providers[p].user_id for p in source._featured},
        )

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
        self._active: dict[int, int] = {}
        self._leads: dict[int, int] = {}
        self._featured: set[int] = set()
        self._featured_lookup: Callable[[Collection[int]], Iterable[int]] | None = None
        self._looked_up: set[int] = set()  # user ids featured_lookup was asked about
        self._full: set[int] = set()  # at capacity: fails the hard filter
        position_of = self._position.get
        for counts, loads in ((active_clients, self._active), (open_leads, self._leads)):
            for provider_id, count in counts.items():
                position = position_of(provider_id) if count else None
                if position is not None:
                    loads[position] = count
        for position in self._active.keys() | self._leads.keys():
            self._recompute_load(position)
        for user_id in featured_user_ids:
            self._featured.update(self._positions_of_user.all(user_id))

    def _recompute_load(self, position: int) -> None:
        provider = self.providers[position]
        active = self._active.get(position, 0)
        history = self._history.get(position, NO_HISTORY)
        self._capacity[position] = capacity = capacity_fit(
            provider.max_active_clients, active, self._leads.get(position, 0), history.leads
        )
        _, _, _, w_quality, w_capacity, w_responsiveness = self.weights
        self._static[position] = (
            w_quality * self._quality[position]
            + w_capacity * capacity
            + w_responsiveness * self._responsiveness[position]
        )
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
        """The provider at this position with its current load and history."""
        return replace(
            self.providers[position],
            active_clients=self._active.get(position, 0),
            open_leads=self._leads.get(position, 0),
            featured=position in self._featured,
            history=self._history.get(position, NO_HISTORY),
        )

    def note_lead(self, provider_id: int) -> None:
        """Count a new lead for a provider (batch runs), so the next seeker sees the load."""
        position = self._position.get(provider_id)
        if position is not None:
            self._leads[position] = self._leads.get(position, 0) + 1
            history = self._history.get(position, NO_HISTORY)
            self._history[position] = replace(history, leads=history.leads + 1)
            self._recompute_load(position)

    def _compatible_positions(self, seeker: SeekerProfile) -> list[int]:
        """Providers that may pass the location filter (same state; remote ones too if the seeker is)."""
        same_state = self._by_state.get(seeker.state, []) if seeker.state else []
        if not seeker.remote_ok:
            return same_state
        positions = list(same_state)
        for state, remote in self._remote_by_state.items():
            if not seeker.state or state != seeker.state:
                positions.extend(remote)
        return positions

    def _excluded_positions(self, seeker: SeekerProfile, exclusions: Exclusions) -> set[int]:
        excluded = {self._position.get(pid) for pid in exclusions.provider_ids}
        excluded.discard(None)
        excluded |= self._full
        for user_id in (seeker.user_id, *exclusions.user_ids):
            excluded.update(self._positions_of_user.all(user_id))
        return excluded

    def factors(
        self, seeker: SeekerProfile, position: int, *, seeker_mask: int, has_text: bool, relevance: float
    ) -> tuple[float, ...]:
        """The six factors of one provider for this seeker (the ranking loop inlines the same)."""
        provider = self.providers[position]  # prices and place: the load and history are in the lists
        wanted = seeker_mask.bit_count()
        if wanted:
            coverage = (seeker_mask & self._mask_values[self._mask_kind[position]]).bit_count() / wanted
            need = 0.6 * coverage + 0.4 * math.sqrt(relevance) if has_text else coverage
        else:
            need = math.sqrt(relevance) if has_text else 0.5
        return (
            need,
            budget_fit(seeker.budget_min, seeker.budget_max, provider.pricing_min, provider.pricing_max),
            location_fit(seeker, provider, seeker_radius(seeker, self.category)),
            self._quality[position],
            self._capacity[position],
            self._responsiveness[position],
        )

    def rank(self, seeker: SeekerProfile, *, limit: int, exclusions: Exclusions | None = None) -> list[ScoredMatch]:
        """The best `limit` providers for the seeker, best first, with breakdown and reasons.

        A fast pass (`quick_scores`) computes every compatible provider's score from
        precomputed lists; the few within `boost` of the `limit`-th score (only they can
        reach the top, by the boost) are then scored again factor by factor (the reference
        computation), checked against every hard filter, ordered, and the Featured ones
        among them promoted by `promote_featured`.
        """
        exclusions = exclusions or Exclusions()
        category = self.category
        if limit <= 0 or not category.active or seeker.category_id != category.id:
            return []
        terms = query_terms(seeker.needs_description, self.lexicon)
        relevance = self.index.relevance(terms)
        seeker_mask = self._mask(seeker.specialty_ids)
        has_text = bool(terms)
        positions, scores = self.quick_scores(seeker, exclusions, relevance=relevance, has_text=has_text)
        if not scores:
            return []
        threshold = heapq.nlargest(limit, scores)[-1] - self.boost - 1e-9
        contenders = [p for score, p in zip(scores, positions, strict=True) if score >= threshold]
        self._look_up_featured(contenders)
        finalists = []
        for p in contenders:
            provider = self.current(p)
            if not passes_hard_filters(seeker, provider, category, exclusions):  # a second check, by the rule book
                continue
            factors = self.factors(seeker, p, seeker_mask=seeker_mask, has_text=has_text, relevance=relevance[p])
            score = combine(factors, self.weights)
            finalists.append((order_key(score, factors, provider.featured, provider.id), p, factors, score))
        finalists.sort()
        view = [
            Ranked(
                score=score,
                need=factors[0],
                budget=factors[1],
                rating=self._rating(p),
                featured=p in self._featured,
            )
            for _, p, factors, score in finalists
        ]
        order = promote_featured(view, self.boost)[:limit]
        return [
            self._result(seeker, rank, finalists[i][1], finalists[i][2], finalists[i][3], terms)
            for rank, i in enumerate(order, start=1)
        ]

    def quick_scores(
        self, seeker: SeekerProfile, exclusions: Exclusions, *, relevance: list[float], has_text: bool
    ) -> tuple[list[int], list[float]]:
        """The positions of the providers that may pass the hard filters, and their scores (parallel lists).

        The score of each is `combine(factors(...))` up to float rounding (the sums are
        grouped differently), from lists computed once per pool: this loop is most of a
        ranking's time, so it allocates nothing per provider but its score, computes the
        specialty coverage once per distinct mask and the budget fit once per price range,
        and skips the trigonometry of remote providers that are too far for distance to
        matter. `rank` scores the few that can reach the top again by the reference code.
        """
        seeker_mask = self._mask(seeker.specialty_ids)
        wanted = seeker_mask.bit_count()
        category = self.category
        w_need, w_budget, w_location = self.weights[:3]
        # Need fit is `base + text * sqrt(relevance)`: the same floats as `factors` (adding 0.0 or
        # multiplying by 1.0 changes none), with the specialty part computed once per distinct mask.
        if wanted:
            share = 0.6 if has_text else 1.0
            need_base = [share * ((seeker_mask & mask).bit_count() / wanted) for mask in self._mask_values]
            text_part = 0.4 if has_text else 0.0
        else:
            need_base = [0.0 if has_text else 0.5] * len(self._mask_values)
            text_part = 1.0 if has_text else 0.0
        budgets = self._weighted_budgets(seeker.budget_min, seeker.budget_max, w_budget)
        positions = self._compatible_positions(seeker)
        excluded = self._excluded_positions(seeker, exclusions)
        if excluded:
            positions = [p for p in positions if p not in excluded]
        seeker_city, seeker_state = seeker.city.casefold(), seeker.state
        mask_kind, static, multiplier, price, city, state = (
            self._mask_kind,
            self._static,
            self._multiplier,
            self._price,
            self._city,
            self._state,
        )
        # Distance (the same float as factors.great_circle_km), when the seeker's place is known.
        placed = seeker.latitude is not None and seeker.longitude is not None
        if placed:
            seeker_lat = math.radians(seeker.latitude)
            sin_seeker, cos_seeker, lon_seeker = (
                math.sin(seeker_lat),
                math.cos(seeker_lat),
                math.radians(seeker.longitude),
            )
        radius = seeker_radius(seeker, category)
        remote_path = LOCATION_REMOTE if seeker.remote_ok else 0.0
        # A remote provider more than two radii away scores the remote path whatever the exact
        # distance (beyond two radii `distance_fit` is below LOCATION_REMOTE), and the difference
        # of latitudes alone proves it: no cosine needed. The margin covers the rounding of acos.
        south, north = -math.inf, math.inf  # the band of latitudes where the exact distance is needed
        if placed and seeker.remote_ok and _FAR_IS_REMOTE:
            far = 2.0 * max(1.0, radius) / _EARTH_KM * (1.0 + 1e-6)
            south, north = seeker_lat - far, seeker_lat + far
        edge = max(1.0, radius)  # distance_fit's radius, inlined below
        near_slope = 1.0 - LOCATION_AT_RADIUS
        sin_lat, cos_lat, lat, lon, is_remote = self._sin_lat, self._cos_lat, self._lat, self._lon, self._is_remote
        acos, cos, sqrt = math.acos, math.cos, math.sqrt
        scores: list[float] = []
        append = scores.append
        for p in positions:
            need = need_base[mask_kind[p]] + text_part * sqrt(relevance[p])
            if placed and sin_lat[p] != _NO_PLACE:
                if is_remote[p] and not south <= lat[p] <= north:
                    location = remote_path
                else:
                    cos_angle = sin_seeker * sin_lat[p] + cos_seeker * cos_lat[p] * cos(lon_seeker - lon[p])
                    if cos_angle > 1.0:
                        cos_angle = 1.0
                    elif cos_angle < -1.0:
                        cos_angle = -1.0
                    km = _EARTH_KM * acos(cos_angle)
                    if km <= edge:
                        location = 1.0 - near_slope * km / edge
                    else:
                        location = LOCATION_AT_RADIUS * 0.5 ** ((km - edge) / edge)
                    if is_remote[p] and location < remote_path:
                        location = remote_path
            elif seeker_state and state[p] == seeker_state:
                location = LOCATION_SAME_CITY if seeker_city and city[p] == seeker_city else LOCATION_SAME_STATE
            else:
                location = LOCATION_REMOTE
            append((static[p] + w_need * need + budgets[price[p]] + w_location * location) * multiplier[p])
        return positions, scores

    def _weighted_budgets(self, budget_min: float | None, budget_max: float | None, weight: float) -> array:
        """`weight x budget_fit` of each distinct price range for this budget, remembered per budget.

        Seekers' budgets repeat (round numbers), and a category has hundreds of distinct
        price ranges: computing them once per budget, not once per seeker, saves most of
        the budget part of a ranking. The cache belongs to the price ranges (a refreshed
        pool with other prices starts a new one); at 64 budgets of 5,000 ranges it holds 2.5 MB.
        """
        key = (budget_min, budget_max, weight)
        cache = self._budget_cache
        budgets = cache.get(key)
        if budgets is None:
            fits = (budget_fit(budget_min, budget_max, low, high) for low, high in self._price_ranges)
            budgets = array("d", (weight * fit for fit in fits))  # 8 bytes a range, not a float object
            if len(cache) >= _BUDGET_CACHE_SIZE:
                cache.clear()
            cache[key] = budgets
        return budgets

    def _rating(self, position: int) -> float:
        provider = self.providers[position]
        return bayesian_rating(min(5.0, max(0.0, provider.rating_avg)), provider.rating_count, self._prior)

    def _look_up_featured(self, positions: list[int]) -> None:
        """Ask who is Featured among the providers that could reach the top (a handful, not the category)."""
        if self._featured_lookup is None:
            return
        users = {self.providers[p].user_id for p in positions} - self._looked_up
        if not users:
            return
        self._looked_up |= users
        for user_id in self._featured_lookup(users):
            self._featured.update(self._positions_of_user.all(user_id))

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
            reasons=tuple(
                match_reasons(
                    seeker,
                    provider,
                    factors,
                    specialty_names=self.category.specialty_names,
                    matched_terms=self.index.matched_terms(position, terms),
                    terms=terms,
                    radius_km=seeker_radius(seeker, self.category),
                )
            ),
            featured=provider.featured,
        )


class _Positions:
    """Positions by key (a provider's id, or its user's), as two arrays sorted by key.

    What a dict of ints would do for the lookups a pool makes (a few per seeker, and per
    provider with a load or a history), in 16 bytes per provider instead of about 100 for
    a dict and its int objects (issue 11: a worker's memory at 100,000 providers).
    """

    __slots__ = ("_keys", "_positions")

    def __init__(self, pairs: Iterable[tuple[int, int]]):
        ordered = sorted(pairs)
        self._keys = array("q", [key for key, _ in ordered])
        self._positions = array("q", [position for _, position in ordered])

    def get(self, key: int) -> int | None:
        """The first position of the key, None if it has none."""
        at = bisect_left(self._keys, key)
        return self._positions[at] if at < len(self._keys) and self._keys[at] == key else None

    def __getitem__(self, key: int) -> int:
        position = self.get(key)
        if position is None:
            raise KeyError(key)
        return position

    def all(self, key: int) -> array:
        """Every position of the key (a user may have several providers in a category), in order."""
        return self._positions[bisect_left(self._keys, key) : bisect_right(self._keys, key)]


_SHARED: dict[object, object] = {}


def _lean(candidate: ProviderCandidate) -> ProviderCandidate:
    """The candidate without its profile text, its repeated values shared (memory of a large category).

    Prices, places and ratings repeat too (round prices, a city's coordinates): each float
    object is kept once. Only strings, frozensets and floats share the table: no int or
    bool, which would compare equal to a float and come back as one.
    """
    shared = _SHARED
    if len(shared) > 100_000:
        shared.clear()

    def once(value):
        return shared.setdefault(value, value) if value is not None else None

    return replace(
        candidate,
        bio="",
        certifications="",
        specialty_ids=once(candidate.specialty_ids),
        city=once(candidate.city),
        state=once(candidate.state),
        pricing_min=once(candidate.pricing_min),
        pricing_max=once(candidate.pricing_max),
        latitude=once(candidate.latitude),
        longitude=once(candidate.longitude),
        rating_avg=once(candidate.rating_avg),
    )


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
