"""Reads on categories, and the shared-cache copy of the public catalogue."""

import time
from collections.abc import Callable, Hashable
from typing import TypeVar
from uuid import uuid4

from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch, QuerySet

from categories.models import Category, Specialty
from imatch.throttling import forget_read_along, read_along, read_alongside


def category_list(*, include_inactive: bool = False) -> QuerySet[Category]:
    """Categories with their specialties prefetched; only active ones unless asked."""
    categories = Category.objects.prefetch_related(Prefetch("specialties", queryset=Specialty.objects.order_by("name")))
    return categories if include_inactive else categories.filter(active=True)


def category_get(*, name: str, include_inactive: bool = False) -> Category | None:
    """One category by machine name, or None when it does not exist (or is not public)."""
    return category_list(include_inactive=include_inactive).filter(name=name).first()


# --- The public catalogue, kept in the shared cache ------------------------------------
# Every page and the category API read the active categories; they change when an operator
# launches, deactivates or edits one. The services and the admin that change them call
# `catalog_forget`; the expiry is the backstop for changes made in SQL (the runbook).
CATALOG_SECONDS = 300
CATEGORIES_KEY = "catalog:categories"
# The home page's listed-provider count per category (marketplace.selectors): cleared with
# the categories, and by the marketplace services that list or unlist a provider.
PROVIDER_COUNTS_KEY = "catalog:provider-counts"
# The directory's total per query (marketplace.selectors.provider_directory_count): the same.
DIRECTORY_COUNTS_KEY = "catalog:directory-counts"


# The catalogue's version: a token in the shared cache that `catalog_forget` drops. Each
# process keeps what it derived from the catalogue (the categories, the provider counts, the
# directory's first pages as built for anonymous visitors) under that version
# (`catalog_memo`): one small cache read per request instead of unpickling rows or querying.
CATALOG_VERSION_KEY = "catalog:version"
CATALOG_MEMO_ENTRIES = 512  # entries one process keeps at once (then it starts afresh)
_memo: dict[Hashable, tuple[str, float, object]] = {}

T = TypeVar("T")


# An API request reads it with its throttle count, in the same round trip (imatch.throttling).
read_along(CATALOG_VERSION_KEY)


def catalog_version() -> str:
    """The current version of the public catalogue (a new one after each `catalog_forget`)."""
    version = read_alongside(CATALOG_VERSION_KEY) or cache.get(CATALOG_VERSION_KEY)
    if version is None:
        version = uuid4().hex
        if not cache.add(CATALOG_VERSION_KEY, version, CATALOG_SECONDS):
            version = cache.get(CATALOG_VERSION_KEY) or version  # another process set it first
    return version


def catalog_memo(key: Hashable, build: Callable[[], T], *, seconds: float = CATALOG_SECONDS) -> T:
    """`build()`, kept in this process while the catalogue keeps its version (and at most `seconds`).

    For reads derived from the public catalogue and the directory: every service that changes
    them calls `catalog_forget`, which makes a new version for every process at once.
    """
    version = catalog_version()
    now = time.monotonic()
    kept = _memo.get(key)
    if kept is not None and kept[0] == version and kept[1] > now:
        return kept[2]
    value = build()
    if len(_memo) >= CATALOG_MEMO_ENTRIES:
        _memo.clear()
    _memo[key] = (version, now + seconds, value)
    return value


def catalog_memo_drop(key: Hashable) -> None:
    """Forget one value `catalog_memo` kept (a build that turned out not to be for keeping)."""
    _memo.pop(key, None)


def category_list_public() -> list[Category]:
    """The active categories by display name, specialties loaded: kept per process and in the shared cache."""
    return catalog_memo(CATEGORIES_KEY, _category_list_shared)


def _category_list_shared() -> list[Category]:
    categories = cache.get(CATEGORIES_KEY)
    if categories is None:
        categories = list(category_list().order_by("display_name"))
        cache.set(CATEGORIES_KEY, categories, CATALOG_SECONDS)
    return categories


def catalog_forget() -> None:
    """Drop the cached catalogue now and again once the caller's transaction commits.

    Now: this request reads its own change. At commit: a request that filled the cache
    with the old rows while the change was not yet committed does not keep them. A new
    version makes every process drop what it kept (`catalog_memo`).
    """
    keys = [CATEGORIES_KEY, PROVIDER_COUNTS_KEY, DIRECTORY_COUNTS_KEY, CATALOG_VERSION_KEY]
    _memo.clear()
    forget_read_along(CATALOG_VERSION_KEY)
    cache.delete_many(keys)
    transaction.on_commit(lambda: (_memo.clear(), cache.delete_many(keys)))
