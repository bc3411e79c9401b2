"""Load one category's candidates for the matching engine, with a fixed number of queries.

The engine (`marketplace.matching`) is pure Python over plain data; this selector-level
module is what reads the database for it and keeps the per-process cache. The profile index of a
category (BM25 over bios, specialty masks, quality) is the costly part to build, so it
is kept per process. When the category's providers change (fingerprint: their count and
latest `updated_at`), only the changed rows are read again: a rating, a price or a
verification is applied to the cached pool at once; a new provider or a new profile text
rebuilds it. A cached pool is also refreshed from rows changed in the last minute at
least once a minute, so a transaction that committed after a newer one is never missed.
Loads (active clients, open leads, Featured) change with every match and are read on
every call.

Queries for one seeker: category specialties 1, provider fingerprint 1, loads 1,
exclusions 2, Featured at most 1 (asked only about the providers that could reach the
top with a boost); plus 2 (changed rows, their specialties) when the cached index is
refreshed, or 3 (providers, their specialties, all provider ids) when it is rebuilt —
the same for 10 providers or 50,000 (an inactive category lists nobody: 1 to rebuild).
"""

import contextlib
import ctypes
import dataclasses
import json
import logging
import statistics
import threading
import time
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings as django_settings
from django.db import DatabaseError
from django.db.models import Count, Q, Subquery
from django.utils import timezone

from categories.models import Category, Specialty
from currency.selectors import featured_or_pro_user_ids
from marketplace.matching.factors import (
    CategoryRules,
    Exclusions,
    InvalidWeights,
    ProviderCandidate,
    Responsiveness,
    SeekerProfile,
    Weights,
)
from marketplace.matching.pool import CandidatePool
from marketplace.models import (
    ENGAGEMENT_OPEN_STATUSES,
    Match,
    MatchStatus,
    Provider,
    Seeker,
)

logger = logging.getLogger(__name__)

LEADS_WINDOW = timedelta(days=14)
HISTORY_WINDOW = timedelta(days=90)  # responsiveness: introductions of the last 90 days
HISTORY_EVERY = 300.0  # seconds: a category's answering histories are read again at least this often
SYNONYMS_FILE = Path(django_settings.BASE_DIR) / "fixtures" / "matching_synonyms.json"
REFRESH_EVERY = 60.0  # seconds: a cached pool is checked against recently changed rows at least this often
REFRESH_LOOKBACK = timedelta(seconds=60)  # longer than any transaction that saves a provider

# Per process, one profile index per category id (the pool's own invariant is in
# `marketplace.matching.pool`). On every call `_cached_pool` reads the category's
# settings and its providers' fingerprint (count, latest `updated_at`), then:
# - reuses the cached pool as it is when the settings, the count and the latest change
#   are the ones it was built or refreshed with, and it was checked less than
#   REFRESH_EVERY ago;
# - refreshes it from changed rows when the settings and the count are the same but the
#   latest change moved or REFRESH_EVERY passed: the rows changed since REFRESH_LOOKBACK
#   before the cached latest change go through `CandidatePool.replaced`;
# - rebuilds it (all providers read again) when the settings or the count differ, the
#   latest change moved back (what the pool saw was rolled back), or a changed row is a
#   provider it never saw, or `replaced` refuses (a new member, a new text, specialties
#   or user).
# It sees only writes that move `providers.updated_at` (`Model.save()`, the services).
# It cannot see writes that bypass it: `QuerySet.update()` or `bulk_update()` that do
# not set `updated_at`, raw SQL, `loaddata` (it writes the fixture's `updated_at`),
# `provider.specialties.set()` without saving the provider, a row saved with an
# `updated_at` older than REFRESH_LOOKBACK, and anything in other tables a candidate
# depends on. After such writes, call `clear_pool_cache()` in that process, or restart
# the workers.
# The one such dependency a candidate has is its user's `is_active` (`user_active`):
# every write of it goes through `user_deactivate` / `user_reactivate`
# (marketplace/services/profiles.py), which set the user's providers' `updated_at` in
# the same transaction, so every worker sees a deactivation on its next match request
# (tests/marketplace/test_user_deactivation_workers.py proves it across two processes). The
# admin shows `is_active` read-only for that reason.
_pools: dict[int, "_CachedPool"] = {}
_pools_lock = threading.Lock()


_histories: dict[int, "_CachedHistories"] = {}  # category id → histories and the pool they were applied to
_synonyms: dict[str, object] = {}  # "mtime" and "groups" of SYNONYMS_FILE as last read


def clear_pool_cache() -> None:
    """Forget every cached profile index and answering history (tests; after bulk SQL edits of providers)."""
    with _pools_lock:
        _pools.clear()
        _histories.clear()
        _synonyms.clear()


def synonym_groups(category_name: str) -> tuple[tuple[str, ...], ...]:
    """The synonym and lemma groups for a category: the file's `all` groups and the category's own.

    Read again when the file changes (its modification time), so an operator's edit
    reaches every worker's next match request (the category's index is then rebuilt).
    """
    try:
        mtime = SYNONYMS_FILE.stat().st_mtime
    except FileNotFoundError:
        return ()
    with _pools_lock:
        if _synonyms.get("mtime") != mtime:
            data = json.loads(SYNONYMS_FILE.read_text(encoding="utf-8"))
            _synonyms["groups"] = {
                key: tuple(tuple(str(entry) for entry in group) for group in groups)
                for key, groups in data.items()
                if isinstance(groups, list)
            }
            _synonyms["mtime"] = mtime
        groups = _synonyms["groups"]
    return (*groups.get("all", ()), *groups.get(category_name, ()))


def category_rules(category: Category) -> CategoryRules:
    """The category as the engine sees it (one query: its specialties)."""
    try:
        weights = Weights.from_overrides(category.matching_weights)
    except (InvalidWeights, TypeError):
        weights = Weights()  # the admin validates overrides; a bad value typed in SQL falls back
    return CategoryRules(
        id=category.pk,
        active=category.active,
        requires_license=category.requires_license,
        specialty_names=dict(Specialty.objects.filter(category=category).values_list("id", "name")),
        weights=weights,
        synonyms=synonym_groups(category.name),
        default_radius_km=float(category.default_radius_km),
    )


def _as_float(value) -> float | None:
    return None if value is None else float(value)


def _load_candidates(category: Category, *, changed_since: datetime | None = None) -> Iterator[ProviderCandidate]:
    """The category's providers that can be matched, or all of them changed since a moment (two queries).

    Matchable: listed (`ProviderQuerySet.listed_in`) and accepting clients; an inactive
    category lists nobody, so its pool is empty and loading it costs no query. Changed
    rows are read whatever their state, so that a provider who stops being matchable is seen.
    """
    providers = (
        Provider.objects.listed_in(category).filter(accepting_clients=True)
        if changed_since is None
        else Provider.objects.filter(category=category, updated_at__gt=changed_since)
    )
    specialties: dict[int, set[int]] = {}
    through = Provider.specialties.through.objects.filter(provider__in=providers.values("pk"))
    for provider_id, specialty_id in through.values_list("provider_id", "specialty_id"):
        specialties.setdefault(provider_id, set()).add(specialty_id)
    rows = (
        providers.order_by("id")
        .values_list(
            "id",
            "user_id",
            "bio",
            "certifications",
            "pricing_min",
            "pricing_max",
            "city",
            "state",
            "remote",
            "latitude",
            "longitude",
            "accepting_clients",
            "max_active_clients",
            "license_verified",
            "license_provisional",
            "years_experience",
            "rating_avg",
            "rating_count",
            "user__is_active",
        )
        .iterator(chunk_size=2000)
    )
    # Streamed in id order: the pool indexes each profile as it comes, so the rows and their
    # bios are never all in memory at once (at 100,000 providers that was most of a worker's).
    return (
        ProviderCandidate(
            id=pid,
            user_id=user_id,
            category_id=category.pk,
            specialty_ids=frozenset(specialties.get(pid, ())),
            bio=bio,
            certifications=certifications,
            pricing_min=_as_float(pricing_min),
            pricing_max=_as_float(pricing_max),
            city=city,
            state=state,
            remote=remote,
            latitude=latitude,
            longitude=longitude,
            accepting_clients=accepting,
            max_active_clients=max_active,
            license_verified=verified,
            license_provisional=provisional,
            years_experience=years,
            rating_avg=float(rating_avg),
            rating_count=rating_count,
            user_active=user_active,
        )
        for (
            pid,
            user_id,
            bio,
            certifications,
            pricing_min,
            pricing_max,
            city,
            state,
            remote,
            latitude,
            longitude,
            accepting,
            max_active,
            verified,
            provisional,
            years,
            rating_avg,
            rating_count,
            user_active,
        ) in rows
    )


def provider_loads(category: Category, *, now: datetime) -> tuple[dict[int, int], dict[int, int]]:
    """Per provider: active clients (accepted matches, open engagements) and open leads of 14 days."""
    active = Q(status=MatchStatus.ACCEPTED) | Q(
        status=MatchStatus.ENGAGED, engagement__status__in=ENGAGEMENT_OPEN_STATUSES
    )
    lead = Q(status__in=(MatchStatus.SUGGESTED, MatchStatus.INTRODUCED), created_at__gte=now - LEADS_WINDOW)
    rows = (
        Match.objects.filter(category=category)
        .filter(active | lead)
        .values("provider_id")
        .annotate(active=Count("id", filter=active), leads=Count("id", filter=lead))
        .values_list("provider_id", "active", "leads")
        .order_by()
    )
    active_clients: dict[int, int] = {}
    open_leads: dict[int, int] = {}
    for provider_id, active_count, lead_count in rows:
        active_clients[provider_id] = active_count
        open_leads[provider_id] = lead_count
    return active_clients, open_leads


def _providers_fingerprint(category: Category) -> tuple:
    """Count and latest change of the category's providers, in one query on the index (category, updated_at).

    Any insert, delete or save of one of them changes one of the two. (Two subqueries:
    SQLite answers each from the index at once, but is slow at computing both in one pass.)
    """
    providers = Provider.objects.filter(category=category).order_by()
    count = providers.values("category").annotate(n=Count("*")).values("n")
    latest = providers.order_by("-updated_at").values("updated_at")[:1]
    return (
        Category.objects.filter(pk=category.pk)
        .annotate(provider_count=Subquery(count), providers_changed=Subquery(latest))
        .values_list("provider_count", "providers_changed")
        .get()
    )


@dataclass(frozen=True)
class _CachedPool:
    settings: tuple  # what of the category the pool depends on
    count: int  # the category's providers, matchable or not
    changed: datetime | None  # their latest updated_at
    provider_ids: array  # all of their ids, ascending, to tell an update from an insert (8 bytes each)
    refreshed_at: float  # time.monotonic()
    pool: CandidatePool


def _cached_pool(category: Category, rules: CategoryRules) -> CandidatePool:
    """The category's pool without loads: cached, refreshed from changed rows, or built."""
    settings = (
        rules.active,
        rules.requires_license,
        json.dumps(category.matching_weights, sort_keys=True, default=str),
        tuple(sorted(rules.specialty_names.items())),
        rules.synonyms,
    )
    count, changed = _providers_fingerprint(category)
    with _pools_lock:
        cached = _pools.get(category.pk)
    moved_back = cached is not None and cached.changed is not None and (changed is None or changed < cached.changed)
    if cached is not None and cached.settings == settings and cached.count == count and not moved_back:
        fresh = time.monotonic() - cached.refreshed_at < REFRESH_EVERY
        if cached.changed == changed and fresh:
            return cached.pool
        since = (cached.changed or changed) - REFRESH_LOOKBACK if (cached.changed or changed) else None
        rows = list(_load_candidates(category, changed_since=since)) if since else []
        known = cached.provider_ids
        joined = any((at := bisect_left(known, row.id)) == len(known) or known[at] != row.id for row in rows)
        pool = None if joined else cached.pool.replaced(rows)
        if pool is not None:
            _remember(category, _refreshed(cached, changed=changed, pool=pool))
            return pool
    pool = CandidatePool(rules, _load_candidates(category))
    ids = Provider.objects.filter(category=category).order_by("id").values_list("id", flat=True)
    provider_ids = array("q", ids.iterator())
    _return_freed_memory()
    _remember(
        category,
        _CachedPool(
            settings=settings,
            count=count,
            changed=changed,
            provider_ids=provider_ids,
            refreshed_at=time.monotonic(),
            pool=pool,
        ),
    )
    return pool


def _return_freed_memory() -> None:
    """Hand the memory a build used and freed (rows, profile texts) back to the system.

    glibc keeps freed memory for later; after building a large category's pool most of it
    would stay resident in the worker for nothing. Linux (glibc) only; elsewhere a no-op.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _refreshed(cached: _CachedPool, *, changed: datetime | None, pool: CandidatePool) -> _CachedPool:
    return dataclasses.replace(cached, changed=changed, pool=pool, refreshed_at=time.monotonic())


def _remember(category: Category, entry: _CachedPool) -> None:
    with _pools_lock:
        _pools[category.pk] = entry


def provider_histories(category: Category, *, now: datetime) -> dict[int, Responsiveness]:
    """Per provider of the category: how they answered introductions in the last 90 days, and leads ever (two queries).

    Answered: accepted (later engaged or not) or declined by the provider. The expired
    streak counts the introductions left to expire since the provider's last answer.
    """
    rows = (
        Match.objects.filter(category=category, introduced_at__gte=now - HISTORY_WINDOW)
        .exclude(status=MatchStatus.INTRODUCED)
        .values_list("provider_id", "status", "introduced_at", "responded_at", "declined_by_id", "provider__user_id")
        .order_by("provider_id", "introduced_at", "id")
    )
    seen: dict[int, dict] = {}
    for provider_id, status, introduced_at, responded_at, declined_by, provider_user in rows:
        entry = seen.setdefault(provider_id, {"answered": 0, "accepted": 0, "hours": [], "streak": 0})
        accepted = status in (MatchStatus.ACCEPTED, MatchStatus.ENGAGED)
        if accepted or (status == MatchStatus.DECLINED and declined_by == provider_user):
            entry["answered"] += 1
            entry["accepted"] += accepted
            entry["streak"] = 0
            if responded_at is not None:
                entry["hours"].append(max(0.0, (responded_at - introduced_at).total_seconds() / 3600))
        elif status == MatchStatus.EXPIRED:
            entry["streak"] += 1
    leads = dict(
        Match.objects.filter(category=category)
        .values("provider_id")
        .annotate(n=Count("id"))
        .values_list("provider_id", "n")
        .order_by()
    )
    return {
        provider_id: Responsiveness(
            answered=seen.get(provider_id, {}).get("answered", 0),
            accepted=seen.get(provider_id, {}).get("accepted", 0),
            median_hours=statistics.median(seen[provider_id]["hours"])
            if provider_id in seen and seen[provider_id]["hours"]
            else None,
            expired_streak=seen.get(provider_id, {}).get("streak", 0),
            leads=leads.get(provider_id, 0),
        )
        for provider_id in seen.keys() | leads.keys()
    }


@dataclass(frozen=True)
class _CachedHistories:
    read_at: float  # time.monotonic()
    histories: dict[int, Responsiveness]
    base: CandidatePool  # the cached pool they were applied to
    pool: CandidatePool  # the result


def _with_histories(category: Category, pool: CandidatePool, *, now: datetime) -> CandidatePool:
    """The pool with the category's answering histories, read at most every HISTORY_EVERY seconds per process."""
    with _pools_lock:
        cached = _histories.get(category.pk)
    if cached is not None and time.monotonic() - cached.read_at < HISTORY_EVERY:
        if cached.base is pool:
            return cached.pool
        histories, read_at = cached.histories, cached.read_at
    else:
        histories, read_at = provider_histories(category, now=now), time.monotonic()
    entry = _CachedHistories(read_at=read_at, histories=histories, base=pool, pool=pool.with_histories(histories))
    with _pools_lock:
        _histories[category.pk] = entry
    return entry.pool


def candidate_pool(category: Category, *, now: datetime | None = None) -> CandidatePool:
    """The category's pool with current loads (the profile index from the per-process cache when fresh)."""
    now = now or timezone.now()
    pool = _with_histories(category, _cached_pool(category, category_rules(category)), now=now)
    active_clients, open_leads = provider_loads(category, now=now)
    return pool.with_loads(
        active_clients=active_clients,
        open_leads=open_leads,
        featured_lookup=lambda user_ids: featured_or_pro_user_ids(user_ids=sorted(user_ids), at=now),
    )


def warm_pools() -> dict[str, int]:
    """Build the index of every active category now (process start), so no request pays for it.

    Gunicorn calls it in the master process before it forks the workers
    (`gunicorn.conf.py`, `preload_app`): each worker starts with the indexes built and
    shares their memory with the others until it changes them. Returns the matchable
    providers per category. A database that is not reachable or not migrated is left to
    the first request (logged, never fatal to the start).
    """
    built: dict[str, int] = {}
    try:
        for category in Category.objects.filter(active=True).order_by("pk"):
            built[category.name] = len(candidate_pool(category))
    except DatabaseError:
        logger.warning("Matching indexes not built at start: the database is not ready.", exc_info=True)
    return built


def seeker_profile(seeker: Seeker) -> SeekerProfile:
    """The seeker as the engine sees it (one query for the specialties unless prefetched)."""
    return SeekerProfile(
        id=seeker.pk,
        user_id=seeker.user_id,
        category_id=seeker.category_id,
        specialty_ids=frozenset(s.pk for s in seeker.specialties.all()),
        needs_description=seeker.needs_description,
        budget_min=_as_float(seeker.budget_min),
        budget_max=_as_float(seeker.budget_max),
        city=seeker.city,
        state=seeker.state,
        remote_ok=seeker.remote_ok,
        latitude=seeker.latitude,
        longitude=seeker.longitude,
        radius_km=float(seeker.radius_km) if seeker.radius_km else None,
    )


def seeker_exclusions(seeker: Seeker) -> Exclusions:
    """Providers already matched to this seeker, and people this seeker's user declined or was declined by."""
    matched = frozenset(Match.objects.filter(seeker=seeker).values_list("provider_id", flat=True))
    declined = Match.objects.filter(status=MatchStatus.DECLINED).filter(
        Q(seeker__user_id=seeker.user_id) | Q(provider__user_id=seeker.user_id)
    )
    users: set[int] = set()
    for seeker_user, provider_user in declined.values_list("seeker__user_id", "provider__user_id"):
        users.add(provider_user if seeker_user == seeker.user_id else seeker_user)
    users.discard(seeker.user_id)
    return Exclusions(provider_ids=matched, user_ids=frozenset(users))
