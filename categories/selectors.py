"""Reads on categories."""

from django.db.models import Prefetch, QuerySet

from categories.models import Category, Specialty


def category_list(*, include_inactive: bool = False) -> QuerySet[Category]:
    """Categories with their specialties prefetched; only active ones unless asked."""
    categories = Category.objects.prefetch_related(Prefetch("specialties", queryset=Specialty.objects.order_by("name")))
    return categories if include_inactive else categories.filter(active=True)


def category_get(*, name: str, include_inactive: bool = False) -> Category | None:
    """One category by machine name, or None when it does not exist (or is not public)."""
    return category_list(include_inactive=include_inactive).filter(name=name).first()
