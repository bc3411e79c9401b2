"""Dates and times in the person's own time zone (the `time_zone` of their account, UTC otherwise).

Pages and the API asked by a logged-in browser session show times in the session's person's
zone. An API request that presents a token (`Authorization: Token …`) is answered in UTC: DRF
answers it as the token's person or refuses it, never as the session's, so the session's person
is not read for it (a session lookup was ~6 % of the instructions of a kept API read). Rules that
count by calendar day or month never use the zone of the request (see `imatch.weeks`).
"""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from imatch.authentication import is_token_scheme
from imatch.error_pages import is_api


class UserTimeZoneMiddleware:
    """Activate the logged-in person's time zone for the request (templates convert to it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = None if presents_api_token(request) else getattr(request, "user", None)
        name = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def presents_api_token(request: HttpRequest) -> bool:
    """Whether the request is an API request with an `Authorization` header of the token scheme
    (as `imatch.authentication.TokenAuthentication` reads it)."""
    words = request.META.get("HTTP_AUTHORIZATION", "").split(None, 1)
    return bool(words) and is_token_scheme(words[0]) and is_api(request)
