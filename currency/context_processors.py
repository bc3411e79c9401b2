"""The logged-in person's POT for the navigation bar: one query, run only by pages that show it."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from currency.selectors import wallet_summary


def wallet(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_pot": SimpleLazyObject(lambda: wallet_summary(user=user))}
