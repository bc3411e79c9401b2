"""Who is asking: the client address that throttles and rate limits count by.

One rule for every limit: the address is DRF's reading of `NUM_PROXIES` (setting
`API_NUM_PROXIES`). With 0, the socket address is the client and `X-Forwarded-For` is
ignored, because a client can write anything in it; with N trusted proxies, the address
the N-th proxy from us saw.
"""

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_ip(request: HttpRequest) -> str:
    """The client's address as the nearest trusted proxy gives it (the same one the API throttles use)."""
    return BaseThrottle().get_ident(request)
