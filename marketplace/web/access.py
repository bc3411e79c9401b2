"""Object access for web views: an access helper's NotFound becomes the page's 404."""

from collections.abc import Callable
from typing import TypeVar

from django.http import Http404, HttpRequest

from imatch.errors import NotFound

T = TypeVar("T")


def owned_or_404(access: Callable[..., T], request: HttpRequest, **ids) -> T:
    """Run an access helper (e.g. `seeker_for_user`) for the logged-in user; others' objects are 404."""
    try:
        return access(user=request.user, **ids)
    except NotFound as error:
        raise Http404(error.message) from error
