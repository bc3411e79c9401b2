"""The logged-in person's POT for the navigation bar: kept under their ledger scope, read only by pages that show it."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from currency.selectors import wallet_summary_kept


def wallet(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_pot": SimpleLazyObject(lambda: wallet_summary_kept(user=user))}
