"""Reads on categories, and the shared-cache copy of the public catalogue."""

from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch, QuerySet

from categories.models import Category, Specialty


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


def category_list_public() -> list[Category]:
    """The active categories by display name, specialties loaded: from the shared cache when it has them."""
    categories = cache.get(CATEGORIES_KEY)
    if categories is None:
        categories = list(category_list().order_by("display_name"))
        cache.set(CATEGORIES_KEY, categories, CATALOG_SECONDS)
    return categories


def catalog_forget() -> None:
    """Drop the cached catalogue now and again once the caller's transaction commits.

    Now: this request reads its own change. At commit: a request that filled the cache
    with the old rows while the change was not yet committed does not keep them.
    """
    keys = [CATEGORIES_KEY, PROVIDER_COUNTS_KEY, DIRECTORY_COUNTS_KEY]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
