"""The API's default throttle: one counter per caller and minute, one cache round trip per request.

DRF's AnonRateThrottle and UserRateThrottle each read the caller's list of request times
and write it back (four cache round trips for an anonymous call, two for a logged-in one,
plus pickling a growing list). This throttle counts in fixed windows instead: logged-in
callers per user under the `user` rate, anonymous ones per client address under the
`anon` rate, with one `INCR` (and its expiry, pipelined) on Redis; on other caches with
`add` and `incr`. A caller may make up to twice the rate across a window's boundary —
the usual trade of fixed windows, fine for a limit that protects capacity. Refusals are
DRF's: 429 with `Retry-After` (the seconds left in the window).
"""

import time

from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle


def _count(key: str, seconds: int) -> int:
    """Add one to the counter `key` (created with an expiry of `seconds`); its new value."""
    client = getattr(cache, "client", None)
    if client is not None and hasattr(client, "get_client"):  # django-redis: one pipelined round trip
        redis_key = cache.make_and_validate_key(key)
        pipe = client.get_client(write=True).pipeline(transaction=False)
        pipe.incr(redis_key)
        pipe.expire(redis_key, seconds)
        return int(pipe.execute()[0])
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, seconds)
        return 1


class RequestRateThrottle(SimpleRateThrottle):
    """`user` rate per logged-in user, `anon` rate per client address; counted in fixed windows."""

    cache_format = "throttle:%(scope)s:%(ident)s:%(window)s"

    def __init__(self):  # the rate depends on the caller: chosen in allow_request
        self.window_ends = 0.0

    def allow_request(self, request, view) -> bool:
        user = request.user
        self.scope = "user" if user is not None and user.is_authenticated else "anon"
        rate = self.THROTTLE_RATES.get(self.scope)
        if rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(rate)
        ident = user.pk if self.scope == "user" else self.get_ident(request)
        now = time.time()
        window = int(now // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = self.cache_format % {"scope": self.scope, "ident": ident, "window": window}
        return _count(key, self.duration + 1) <= self.num_requests

    def wait(self) -> float:
        return max(self.window_ends - time.time(), 0.0)
