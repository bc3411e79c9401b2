"""The API's default throttle: one counter per caller and minute, one cache round trip per request.

DRF's AnonRateThrottle and UserRateThrottle each read the caller's list of request times
and write it back (four cache round trips for an anonymous call, two for a logged-in one,
plus pickling a growing list). This throttle counts in fixed windows instead: logged-in
callers per user under the `user` rate, anonymous ones per client address under the
`anon` rate, with one `INCR` (and its expiry, pipelined) on Redis; on other caches with
`add` and `incr`. A caller may make up to twice the rate across a window's boundary —
the usual trade of fixed windows, fine for a limit that protects capacity. Refusals are
DRF's: 429 with `Retry-After` (the seconds left in the window).

Keys that most API requests read anyway (`read_along`: the public catalogue's version) are
read in the same round trip on Redis and kept for the rest of the request (`read_alongside`):
an anonymous catalogue read makes one round trip instead of two. A logged-in page reads them
with its session's user (`get_many_along`, imatch.session_auth). Whoever changes such a key
drops the copy (`forget_read_along`); it is dropped at the end of every request.

A read view that serves a person's kept answer (`imatch.person_cache`) names its keys with
`kept_keys(request)` (once the caller is known: DRF authenticates before it throttles); they
are read in the same round trip too and handed to `person_read_ahead`, so a kept API read
makes this one round trip after the token check's.
"""

import time
from contextvars import ContextVar

from django.core.cache import cache, caches
from django.core.signals import request_finished, request_started
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from imatch.person_cache import person_read_ahead

_read_along_keys: list[str] = []
_read_along: ContextVar[dict | None] = ContextVar("throttle_read_along", default=None)


def read_along(key: str) -> None:
    """Read the cache key `key` in the throttle's round trip from now on (an app registers it once)."""
    if key not in _read_along_keys:
        _read_along_keys.append(key)


def read_alongside(key: str):
    """The value of `key` read with this request's throttle count, or None (not read, or not in the cache)."""
    values = _read_along.get()
    return None if values is None else values.get(key)


def get_many_along(keys: list[str]) -> dict:
    """`cache.get_many(keys)`, reading the `read_along` keys in the same round trip when this request
    has not read them yet (the session's user: a logged-in page reads the catalogue's version with it)."""
    if _read_along.get() is not None:
        return cache.get_many(keys)
    along = [key for key in _read_along_keys if key not in keys]
    found = cache.get_many([*keys, *along])
    _read_along.set({key: found.pop(key) for key in along if key in found})
    return found


def forget_read_along(key: str) -> None:
    """Drop this request's copy of `key` (its owner changed or deleted it)."""
    values = _read_along.get()
    if values is not None:
        values.pop(key, None)


def _forget_all(**kwargs) -> None:
    _read_along.set(None)


request_started.connect(_forget_all, dispatch_uid="imatch.throttling.started")
request_finished.connect(_forget_all, dispatch_uid="imatch.throttling.finished")


def _count(key: str, seconds: int, person_keys: list[str] = ()) -> int:
    """Add one to the counter `key` (created with an expiry of `seconds`); its new value. Reads
    the `read_along` keys and `person_keys` (for `person_read_ahead`) on the way."""
    backend = caches["default"]  # once: the `cache` proxy looks it up again for every attribute
    client = getattr(backend, "client", None)
    if client is not None and hasattr(client, "get_client"):  # django-redis: one pipelined round trip
        redis_key = backend.make_and_validate_key(key)
        pipe = client.get_client(write=True).pipeline(transaction=False)
        pipe.incr(redis_key)
        pipe.expire(redis_key, seconds)
        keys = list(_read_along_keys)
        names = [*keys, *person_keys]
        if names:  # one MGET: cheaper for redis-py to write and read than a GET per key
            pipe.mget([backend.make_and_validate_key(name) for name in names])
        results = pipe.execute()
        raws = results[2] if names else []
        read = zip(keys, raws[: len(keys)], strict=True)
        _read_along.set({name: client.decode(raw) for name, raw in read if raw is not None})
        if person_keys:
            ahead = zip(person_keys, raws[len(keys) :], strict=True)
            person_read_ahead(person_keys, {name: client.decode(raw) for name, raw in ahead if raw is not None})
        return int(results[0])
    if person_keys:  # other caches: a round trip of its own, so that tests exercise reading ahead
        person_read_ahead(person_keys, cache.get_many(person_keys))
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
        kept_keys = getattr(view, "kept_keys", None)
        person_keys = (
            kept_keys(request) if kept_keys and self.scope == "user" and request.method in SAFE_METHODS else []
        )
        return _count(key, self.duration + 1, person_keys) <= self.num_requests

    def wait(self) -> float:
        return max(self.window_ends - time.time(), 0.0)
