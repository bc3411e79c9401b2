"""A newcomer's first profile in one step: the account (when they have none) and the profile, together."""

from typing import Any

from django.db import transaction

from categories.models import Category
from marketplace.models import Provider, Seeker, User
from marketplace.services.profiles import provider_create, seeker_create, user_register


@transaction.atomic
def seeker_start(
    *, user: User | None, account: dict[str, Any] | None, category: Category, needs: dict[str, Any]
) -> Seeker:
    """A seeker's request in a category; for someone not logged in, their account is made with it (both or neither).

    `account` holds the sign-up fields (`email`, `name`, `password`, optional `referral_code`,
    `time_zone`) and is used only when `user` is None.
    """
    if user is None:
        user = user_register(**(account or {}))
    return seeker_create(user=user, category=category, **needs)


@transaction.atomic
def provider_start(
    *, user: User | None, account: dict[str, Any] | None, category: Category, profile: dict[str, Any]
) -> Provider:
    """A provider's profile in a category; for someone not logged in, their account is made with it."""
    if user is None:
        user = user_register(**(account or {}))
    return provider_create(user=user, category=category, **profile)
