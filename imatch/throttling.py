"""The API's default throttle: one counter per caller and minute, one cache round trip per request.

DRF's AnonRateThrottle and UserRateThrottle each read the caller's list of request times
and write it back (four cache round trips for an anonymous call, two for a logged-in one,
plus pickling a growing list). This throttle counts in fixed windows instead: logged-in
callers per user under the `user` rate, anonymous ones per client address under the
`anon` rate, with one command on Redis (a script: `INCR`, its expiry, and the reads below);
on other caches with `add` and `incr`. A caller may make up to twice the rate across a window's boundary —
the usual trade of fixed windows, fine for a limit that protects capacity. Refusals are
DRF's: 429 with `Retry-After` (the seconds left in the window).

Keys that most API requests read anyway (`read_along`: the public catalogue's version) are
read in the same round trip on Redis and kept for the rest of the request (`read_alongside`):
an anonymous catalogue read makes one round trip instead of two. A logged-in page reads them
with its session's user (`get_many_along`, imatch.session_auth). Whoever changes such a key
drops the copy (`forget_read_along`); it is dropped at the end of every request.

A read view that serves a person's kept answer (`imatch.person_cache`) names its keys with
`kept_keys(request, user_id)`; they are read in the same round trip too and handed to
`person_read_ahead`.

A request with an API token the process has checked before is counted by the token check
itself (`read_counting`, imatch.authentication): its round trip reads the kept check, counts
the request under the token's person and reads the keys above, so a kept API read makes one
round trip in all. A token the process has not checked yet is read the same way when the shared
cache knows whose it is (`read_counting_as`): the script reads the person's id first and names
the person's keys with it. The throttle then takes that count (`RequestRateThrottle.allow_request`). A
token the check then refuses (revoked, expired, an inactive account) takes its count back
(`uncount`): whoever holds an old token of someone cannot spend their rate. Counted this way,
a request that the view's permissions then refuse (403) stays counted, as the person made it
(DRF's order, authentication, permissions, throttles, leaves it uncounted otherwise).
"""

import contextlib
import functools
import hashlib
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace

from django.core.cache import cache, caches
from django.core.signals import request_finished, request_started
from redis.exceptions import NoScriptError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from imatch import redis_held
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


def _count(key: str, seconds: int, person_keys: list[str] = (), other_keys: list[str] = ()) -> tuple[int, dict]:
    """Add one to the counter `key` (created with an expiry of `seconds`); its new value, and the
    values of `other_keys` found in the cache (decoded). Reads the `read_along` keys and
    `person_keys` (for `person_read_ahead`) on the way."""
    backend = caches["default"]  # once: the `cache` proxy looks it up again for every attribute
    client = getattr(backend, "client", None)
    if redis_held.is_redis():  # one command
        # Keys by `make_key` here and below, not `make_and_validate_key`: they are this code's
        # (prefixes, ids, hashes), and the check for memcached's key rules costs ~5 µs a key.
        keys = list(_read_along_keys)
        names = [*keys, *person_keys, *other_keys]
        count, raws = _count_and_read([backend.make_key(name) for name in (key, *names)], seconds)
        found = {name: client.decode(raw) for name, raw in zip(names, raws, strict=True) if raw is not None}
        _read_along.set({name: found[name] for name in keys if name in found})
        if person_keys:
            person_read_ahead(person_keys, {name: found[name] for name in person_keys if name in found})
        return count, {name: found[name] for name in other_keys if name in found}
    # Other caches: the keys in a round trip of their own, so that tests exercise reading them with the count.
    if person_keys:
        person_read_ahead(person_keys, cache.get_many(person_keys))
    other = cache.get_many(list(other_keys)) if other_keys else {}
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key), other
    except ValueError:  # expired between add and incr
        cache.add(key, 1, seconds)
        return 1, other


# KEYS[1]: the counter, created with an expiry of ARGV[1] seconds; KEYS[2:]: read on the way.
# One command rather than a pipeline of INCR, EXPIRE and MGET: redis-py spends ~40 µs less CPU
# on it, and every API request makes it. (All keys on one server: no Redis Cluster here.)
_COUNT_AND_READ = b"""
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if #KEYS == 1 then return {count, {}} end
return {count, redis.call('MGET', unpack(KEYS, 2))}
"""
_COUNT_AND_READ_SHA = hashlib.sha1(_COUNT_AND_READ).hexdigest()  # noqa: S324 - Redis names scripts so


def _count_and_read(keys: list[str], seconds: int) -> tuple[int, list]:
    """The counter `keys[0]` plus one, and the raw values of `keys[1:]` (None: missing)."""
    count, raws = _script(_COUNT_AND_READ, _COUNT_AND_READ_SHA, keys, seconds)
    return int(count), raws


# KEYS[1]: holds the person's id; KEYS[2]: their counter (created with an expiry of ARGV[1]
# seconds); KEYS[3:]: read on the way. In KEYS[2:], ARGV[2] stands for the id, which only the
# server knows when the script runs: the keys it then touches are computed, not declared (fine on
# one server). Nothing is counted when KEYS[1] is missing.
_COUNT_AND_READ_AS = b"""
local id = redis.call('GET', KEYS[1])
if not id or not string.match(id, '^%d+$') then return false end
local keys = {}
for i = 2, #KEYS do keys[i - 1] = (string.gsub(KEYS[i], ARGV[2], id)) end
local count = redis.call('INCR', keys[1])
if count == 1 then redis.call('EXPIRE', keys[1], ARGV[1]) end
if #keys == 1 then return {id, count, {}} end
return {id, count, redis.call('MGET', unpack(keys, 2))}
"""
_COUNT_AND_READ_AS_SHA = hashlib.sha1(_COUNT_AND_READ_AS).hexdigest()  # noqa: S324 - Redis names scripts so

# KEYS[1]: a counter (created with an expiry of ARGV[1] seconds); KEYS[2] is set to ARGV[2] for
# ARGV[3] seconds.
_COUNT_AND_SET = b"""
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return count
"""
_COUNT_AND_SET_SHA = hashlib.sha1(_COUNT_AND_SET).hexdigest()  # noqa: S324 - Redis names scripts so

# Stands for the person's id in the keys `read_counting_as` reads before the id is known.
PERSON = "{person}"


def _script(script: bytes, sha: str, keys: list[str], *args):
    """Run the script `script` (named `sha` on the server) with `keys` and `args`, on the held
    connection (`imatch.redis_held`: every API request makes this command)."""
    try:
        return redis_held.command("EVALSHA", sha, len(keys), *keys, *args)
    except NoScriptError:  # a new or restarted server: load it once
        redis_held.command("SCRIPT", "LOAD", script)
        return redis_held.command("EVALSHA", sha, len(keys), *keys, *args)


@dataclass(frozen=True)
class _Window:
    """A caller's counter for the current window of their rate."""

    key: str
    limit: int
    seconds: int  # the counter's expiry
    ends: float  # when the window ends (Retry-After)


def _window(scope: str, ident) -> _Window | None:
    """The counter of `ident` under the rate of `scope` now; None: the rate is not set (no limit)."""
    rate = RequestRateThrottle.THROTTLE_RATES.get(scope)
    if rate is None:
        return None
    limit, duration = _parsed(rate)
    window = int(time.time() // duration)
    key = RequestRateThrottle.cache_format % {"scope": scope, "ident": ident, "window": window}
    return _Window(key=key, limit=limit, seconds=duration + 1, ends=(window + 1) * duration)


@functools.cache
def _parsed(rate: str) -> tuple[int, int]:
    return RequestRateThrottle().parse_rate(rate)  # DRF's reading of "600/minute"


def _person_keys(request, view, user_id: int) -> list[str]:
    kept_keys = getattr(view, "kept_keys", None)
    return kept_keys(request, user_id) if kept_keys and request.method in SAFE_METHODS else []


_COUNTED = "_imatch_throttle_counted"  # the request's attribute: (its window, its count)


def read_counting(request, user_id: int) -> Callable[[list[str]], dict] | None:
    """For the API token check of `user_id`'s token (`person_kept`'s `read`): read the check's keys,
    count the request under the person's rate and read the view's kept keys, in one round trip.

    None when the request's view does not count with `RequestRateThrottle` or no `user` rate is
    set: the check reads on its own and the throttle, if any, counts as usual.
    """
    view = (getattr(request, "parser_context", None) or {}).get("view")
    if view is None or not any(issubclass(each, RequestRateThrottle) for each in view.throttle_classes):
        return None
    window = _window("user", user_id)
    if window is None:
        return None

    def read(keys: list[str]) -> dict:
        count, found = _count(window.key, window.seconds, _person_keys(request, view, user_id), keys)
        setattr(request, _COUNTED, (window, count))
        return found

    return read


def read_counting_as(request, owner_key: str) -> Callable[[list[str]], tuple[int, dict] | None] | None:
    """`read_counting` for a token this process has not checked yet: the cache key `owner_key` holds
    the id of the token's person (written by whoever checked it first), read in the same round trip.

    `read(keys)` takes keys with `PERSON` where the id goes; it returns the id and the values found
    under the keys as they are for that id, or None when the cache does not know the token's
    person (nothing was counted: the token is checked by query and the throttle counts as usual).
    None instead of `read` when `read_counting` would be None, or the cache is not Redis. The
    view's kept keys are not read ahead (they are named per person): its answer reads them itself.
    """
    view = (getattr(request, "parser_context", None) or {}).get("view")
    if view is None or not any(issubclass(each, RequestRateThrottle) for each in view.throttle_classes):
        return None
    window = _window("user", PERSON)
    if window is None or not redis_held.is_redis():
        return None
    backend = caches["default"]
    client = backend.client

    def read(keys: list[str]) -> tuple[int, dict] | None:
        names = [backend.make_key(name) for name in (owner_key, window.key, *keys)]
        answer = _script(_COUNT_AND_READ_AS, _COUNT_AND_READ_AS_SHA, names, window.seconds, PERSON)
        if not answer:
            return None
        raw_id, count, raws = answer
        person = str(int(raw_id))
        found = {
            key.replace(PERSON, person): client.decode(raw)
            for key, raw in zip(keys, raws, strict=True)
            if raw is not None
        }
        setattr(request, _COUNTED, (replace(window, key=window.key.replace(PERSON, person)), int(count)))
        return int(person), found

    return read


def count_as_owner(request, user_id: int, owner_key: str, seconds: int) -> None:
    """After `read_counting_as` found no owner: count the request under `user_id`'s rate and write
    `owner_key` (their id, for `seconds`) in one round trip; `uncount` takes the count back.
    Only where `read_counting_as` gave a `read` (Redis, a view counted on the user rate)."""
    window = _window("user", user_id)
    backend = caches["default"]
    names = [backend.make_key(window.key), backend.make_key(owner_key)]
    count = _script(_COUNT_AND_SET, _COUNT_AND_SET_SHA, names, window.seconds, user_id, seconds)
    setattr(request, _COUNTED, (window, int(count)))


def uncount(request) -> None:
    """Take back the count `read_counting` made for this request (the token was refused after all)."""
    counted = getattr(request, _COUNTED, None)
    if counted is not None:
        delattr(request, _COUNTED)
        with contextlib.suppress(ValueError):  # the window ended meanwhile: its counter is gone
            cache.decr(counted[0].key)


class RequestRateThrottle(SimpleRateThrottle):
    """`user` rate per logged-in user, `anon` rate per client address; counted in fixed windows."""

    cache_format = "throttle:%(scope)s:%(ident)s:%(window)s"

    def __init__(self):  # the rate depends on the caller: chosen in allow_request
        self.window_ends = 0.0

    def allow_request(self, request, view) -> bool:
        counted = getattr(request, _COUNTED, None)
        if counted is not None:  # by the token check, in its round trip (`read_counting`)
            window, count = counted
        else:
            user = request.user
            scope = "user" if user is not None and user.is_authenticated else "anon"
            window = _window(scope, user.pk if scope == "user" else self.get_ident(request))
            if window is None:
                return True
            person_keys = _person_keys(request, view, user.pk) if scope == "user" else []
            count, _ = _count(window.key, window.seconds, person_keys)
        self.window_ends = window.ends
        return count <= window.limit

    def wait(self) -> float:
        return max(self.window_ends - time.time(), 0.0)
