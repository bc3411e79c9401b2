"""Writes on categories: launching and deactivating (admin action, API and commands)."""

from django.db import transaction
from django.utils import timezone

from categories.models import Category
from categories.selectors import catalog_forget


@transaction.atomic
def category_launch(*, category: Category) -> Category:
    """Make a category public and open for profiles; the first launch date is kept."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    category.active = True
    if category.launched_at is None:
        category.launched_at = timezone.now()
    category.save(update_fields=["active", "launched_at"])
    catalog_forget()
    return category


@transaction.atomic
def category_deactivate(*, category: Category) -> Category:
    """Hide a category from everything public; existing profiles are kept."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    category.active = False
    category.save(update_fields=["active"])
    catalog_forget()
    return category
