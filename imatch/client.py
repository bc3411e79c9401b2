"""Who is asking: the client address and login name that throttles and lockouts count by.

One rule for every limit (API throttles, django-axes lockouts, password-reset limits):
the address is DRF's reading of `NUM_PROXIES` (setting `API_NUM_PROXIES`). With 0, the
socket address is the client and `X-Forwarded-For` is ignored, because a client can write
anything in it; with N trusted proxies, the address the N-th proxy from us saw.
"""

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_ip(request: HttpRequest) -> str:
    """The client's address as the nearest trusted proxy gives it (the same one the API throttles use)."""
    return BaseThrottle().get_ident(request)


def login_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The login name django-axes counts failures by: the email as typed, trimmed and lower-cased.

    Emails log in case-insensitively, so `Pat@x` and `pat@x` must share one failure count.
    """
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username") if hasattr(request, "POST") else None
    if not isinstance(username, str):
        return None
    return username.strip().lower() or None
