"""Answers kept per person in the shared cache, forgotten by the services that change them.

A logged-in read (a person's balance, their lists, their dashboard) depends on a few *scopes*
of what the marketplace holds about that person. Each scope of each person has a token in the
shared cache (`person:<scope>:<user id>`). An answer is kept together with the tokens of the
scopes it was built from (`person_answer`); it is served again only while every one of those
tokens is unchanged, so one `get_many` round trip reads the tokens and the answer at once.

Every service that changes what a scope covers calls `person_forget(user_ids, scope)`, which
drops the tokens when the transaction commits (a request that rebuilt an answer from the old
rows while the change was not yet committed keeps it under a token that no longer counts) and,
before that, when the same transaction reads one of those answers (it reads its own change).
A posting that nothing reads before its commit (an award, an API spend) thus costs one cache
round trip, not two. `SCOPE_SECONDS` is the backstop for changes made outside the services
(operators' SQL in the runbook): no answer outlives it.

With `PERSON_CACHE_VERIFY` (the test settings turn it on) every answer served from the cache
is built again and compared: a service that changes a scope without forgetting it fails the
test that exercises it, whichever test that is (`StaleAnswer`).
"""

import hashlib
import uuid
from collections.abc import Callable, Hashable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.utils import timezone

from imatch import redis_held

T = TypeVar("T")

SCOPE_SECONDS = 300  # the longest an answer or a token lives: the backstop for writes outside the services


class Scope(StrEnum):
    """What a person's kept answers may depend on; each is forgotten by the services named here."""

    # The wallet, its POT rows, purchases and redemptions: currency.ledger (every posting),
    # currency.services (purchases used, redemptions decided).
    LEDGER = "ledger"
    # The matches and engagements lists of either side: marketplace.services.lists (matches,
    # engagements, ratings, profile edits, the admin's edits of names and emails).
    MATCHES = "matches"
    # The unread notifications count (the bell on every page): notifications.services (a
    # notification made, one or all marked read).
    NOTIFICATIONS = "notifications"
    # The person's user row and API tokens, which the kept token checks hold
    # (imatch.authentication): marketplace.signals (every save of a user, every save and delete of a token,
    # the admin's and cascades included) and the services that update users with
    # `QuerySet.update` (profiles, referrals, the legacy import's writer).
    ACCOUNT = "account"
    # The person's own seeker and provider profiles, with their specialties (the dashboard):
    # marketplace.signals (every save and delete of a profile, every change of its specialties).
    PROFILES = "profiles"
    # The threads holding messages the person has not read: conversations.services (a message
    # posted forgets its recipient, a thread marked read its reader).
    MESSAGES = "messages"
    # What the person grew the marketplace by, as badges count it: the people they referred
    # (marketplace.services.referrals), their accepted community answers (community.services)
    # and published articles (library.services).
    GROWTH = "growth"


class StaleAnswer(AssertionError):
    """A kept answer differs from a fresh one: some write changed a scope without `person_forget`."""


def _token_key(scope: str, user_id: int) -> str:
    return f"person:{scope}:{user_id}"


def _answer_key(user_id: int, name: Hashable) -> str:
    # Hashed: a name holds spaces, quotes and URLs, which are not portable cache-key characters.
    return f"person-answer:{user_id}:{hashlib.blake2b(repr(name).encode(), digest_size=16).hexdigest()}"


def person_answer_keys(*, user_id: int, scopes: Iterable[Scope], name: Hashable) -> list[str]:
    """The cache keys `person_answer` reads for these arguments: to read them ahead (`person_read_ahead`)."""
    return [*(_token_key(scope, user_id) for scope in scopes), _answer_key(user_id, name)]


def person_answer(
    *,
    user_id: int,
    scopes: Iterable[Scope],
    name: Hashable,
    build: Callable[[], T],
    variant: Hashable | Callable[[], Hashable] = "",
    seconds: int = SCOPE_SECONDS,
    fresh_until: Callable[[T], datetime | None] | None = None,
    verify_at_end: bool = True,
) -> T:
    """`build()`'s value for this person, kept in the shared cache while `scopes` stay unchanged.

    `name` says which answer it is (the page, the filters), e.g. `("transactions", "page=2")`.
    `variant` is what else the value depends on that changes for everyone at once (the
    catalogue's version): checked like the scopes' tokens rather than in the key, so the keys are
    known before it is (`person_answer_keys`); a function gives it when called (so that
    `person_answers_verify` asks with the variant of its own moment). `fresh_until(value)`: the moment a value that
    depends on the time stops being true (a lead's hours left, the week), None: never; it is
    built again from then on. The value must pickle and compare with `==`.
    `verify_at_end=False`: `build` renders what the caller read for this request (another kept
    answer), so asking for it again after the request proves nothing (`person_answers_verify`).
    """
    scopes = tuple(scopes)
    *token_keys, answer_key = person_answer_keys(user_id=user_id, scopes=scopes, name=name)
    dropped = _forget_now_if_changed_in_this_transaction(token_keys)
    found = None if dropped else _read_ahead_take([*token_keys, answer_key])
    if found is None:
        found = cache.get_many([*token_keys, answer_key])
    tokens = (
        *(found[key] if key in found else _token_create(key) for key in token_keys),
        variant() if callable(variant) else variant,
    )
    kept = found.get(answer_key)
    verify = getattr(settings, "PERSON_CACHE_VERIFY", False)
    if kept is not None and kept[0] == tokens and not _expired(kept[1], fresh_until):
        value = kept[1]
        if verify:
            fresh = build()
            if fresh != value:
                raise StaleAnswer(f"The kept answer {name!r} of user {user_id} is stale: {value!r} != {fresh!r}")
    else:
        value = build()
        cache.set(answer_key, (tokens, value), seconds)
    if verify and verify_at_end:  # asked for again at the end of the test (`person_answers_verify`)
        zone = timezone.get_current_timezone_name()
        _kept_for_verifying.append(_Kept(user_id, scopes, name, build, variant, fresh_until, zone))
    return value


def _expired(value, fresh_until: Callable[[object], datetime | None] | None) -> bool:
    until = fresh_until(value) if fresh_until is not None else None
    return until is not None and until <= timezone.now()


# --- Verifying at the end of a test: what a later write made stale without forgetting it -------


@dataclass(frozen=True)
class _Kept:
    """An answer kept under PERSON_CACHE_VERIFY, with what it takes to ask for it again."""

    user_id: int
    scopes: tuple[Scope, ...]
    name: Hashable
    build: Callable[[], object]
    variant: Hashable | Callable[[], Hashable]
    fresh_until: Callable[[object], datetime | None] | None
    zone: str


_kept_for_verifying: list[_Kept] = []


def person_answers_verify() -> None:
    """Ask again for every answer kept since the last call (PERSON_CACHE_VERIFY only; the test suite
    calls it after each test): one still served under its tokens is compared with a fresh build,
    so a write made after the page was seen, without forgetting its scope, fails the test
    (`StaleAnswer`) even when the test never looks at that page again. In the time zone it was
    kept in (what it was rendered in)."""
    latest = {(entry.user_id, entry.name): entry for entry in _kept_for_verifying}
    try:
        for entry in latest.values():
            with timezone.override(entry.zone):
                person_answer(
                    user_id=entry.user_id,
                    scopes=entry.scopes,
                    name=entry.name,
                    build=entry.build,
                    variant=entry.variant,
                    fresh_until=entry.fresh_until,
                )
    finally:
        _kept_for_verifying.clear()


def person_kept(
    key: str,
    *,
    user_id: int,
    scope: Scope,
    read: Callable[[list[str]], dict] | None = None,
    found: dict | None = None,
) -> tuple[object | None, str]:
    """What `person_keep` kept under `key` for this person while `scope` stayed unchanged (None:
    nothing, or kept under an older token), and the scope's token to keep a new value under.

    One round trip, like `person_answer`; for a caller that must check what it keeps itself
    (the API token check: a refusal is never served from the cache). Read the token before
    building the value: a change committed meanwhile makes the token count no longer. `read`:
    what reads the two keys instead of `cache.get_many` (one that reads more in the same round
    trip). `found`: their values as the caller read them already (`person_kept_keys`), used unless
    this transaction drops the scope's token now.
    """
    token_key, _ = person_kept_keys(key, user_id=user_id, scope=scope)
    dropped = _forget_now_if_changed_in_this_transaction([token_key])
    if found is None or dropped:  # read before the drop: stale
        found = (read or cache.get_many)([token_key, key])
    token = found[token_key] if token_key in found else _token_create(token_key)
    kept = found.get(key)
    if kept is not None and kept[0] == token:
        return kept[1], token
    return None, token


def person_kept_keys(key: str, *, user_id: int | str, scope: Scope) -> list[str]:
    """The cache keys `person_kept` reads for these arguments (the scope's token, then `key`)."""
    return [_token_key(scope, user_id), key]


def person_keep(key: str, value: object, *, token: str, seconds: int = SCOPE_SECONDS) -> None:
    """Keep `value` under `key` with the scope's `token` that `person_kept` answered."""
    cache.set(key, (token, value), seconds)


def _token_create(key: str) -> str:
    token = uuid.uuid4().hex
    if not cache.add(key, token, SCOPE_SECONDS):
        token = cache.get(key) or token  # another process made it first
    return token


class _ForgetAtCommit:
    """`person_forget`'s commit callback: drops its tokens at commit, and earlier if this transaction reads them.

    It waits in the connection's `run_on_commit` list, so a rolled-back savepoint takes it away
    with the change it was for.
    """

    def __init__(self, keys: list[str]):
        self.keys = keys
        self.dropped = False  # dropped already for a read in this transaction

    def __call__(self) -> None:
        redis_held.delete_many(self.keys)  # every write makes it: the held connection's round trip


def _forget_now_if_changed_in_this_transaction(token_keys: list[str]) -> bool:
    """Drop the tokens this transaction forgot and has not dropped yet, before it reads an answer
    under them; whether it dropped any."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return False
    wanted = set(token_keys)
    dropped = False
    for _, callback, _ in connection.run_on_commit:
        if isinstance(callback, _ForgetAtCommit) and not callback.dropped and wanted.intersection(callback.keys):
            redis_held.delete_many(callback.keys)
            callback.dropped = dropped = True
    if dropped:
        _read_ahead.set(None)  # what was read ahead holds the tokens just dropped
    return dropped


# --- Reading ahead: a request's kept answer read in a round trip it makes anyway -------------

_read_ahead: ContextVar[tuple[set[str], dict] | None] = ContextVar("person_read_ahead", default=None)


def person_read_ahead(keys: Iterable[str], found: dict) -> None:
    """The caller read `keys` from the cache (`found`: those present, decoded) in a round trip
    of its own (the API throttle's, imatch.throttling): `person_answer` uses them once instead
    of reading them again. Any `person_forget` of this request drops them."""
    _read_ahead.set((set(keys), found))


def person_answers_read_ahead(*keys: Iterable[str]) -> None:
    """Read the keys of the next `person_answer` calls of this request (`person_answer_keys` of
    each) in one round trip: a page made of two kept answers reads the cache once, not twice."""
    wanted = list(dict.fromkeys(key for each in keys for key in each))
    ahead = _read_ahead.get()
    if ahead is not None and ahead[0].issuperset(wanted):
        return  # read already (with the session's user: imatch.session_auth)
    person_read_ahead(wanted, cache.get_many(wanted))


def _read_ahead_take(keys: list[str]) -> dict | None:
    """`keys` (scopes' tokens, then the answer's key) as read ahead, or None: not all of them were."""
    ahead = _read_ahead.get()
    if ahead is None or not ahead[0].issuperset(keys):
        return None
    # Once: a second read of the same answer reads the cache (it may have been built again). The
    # tokens serve every answer under them: nothing in this request changed them, or its
    # `person_forget` (or a drop before a read in its transaction) dropped what was read ahead.
    ahead[0].discard(keys[-1])
    return {key: ahead[1][key] for key in keys if key in ahead[1]}


def _drop_read_ahead(**kwargs) -> None:
    _read_ahead.set(None)


request_started.connect(_drop_read_ahead, dispatch_uid="imatch.person_cache.started")
request_finished.connect(_drop_read_ahead, dispatch_uid="imatch.person_cache.finished")


def person_forget(user_ids: Iterable[int], *scopes: Scope) -> None:
    """Forget every answer of these people that depends on `scopes` (at commit; earlier for this transaction).

    The forgets of one transaction at one savepoint level are dropped together, in one round trip
    at the commit (an introduction forgets both sides' matches and both bells: one DEL, not two).
    """
    keys = [_token_key(scope, user_id) for user_id in set(user_ids) for scope in scopes]
    if not keys:
        return
    _read_ahead.set(None)
    pending = _pending_forget()
    if pending is not None:
        pending.keys.extend(key for key in keys if key not in pending.keys)
        return
    transaction.on_commit(_ForgetAtCommit(keys))  # outside a transaction: at once


def _pending_forget() -> "_ForgetAtCommit | None":
    """This transaction's forget waiting for the commit at the current savepoint level, not dropped yet.

    Only one registered under exactly the savepoints open now: a rolled-back savepoint takes it
    away together with every change whose keys joined it, as it would their own callbacks. One
    dropped early for a read is left alone: keys joining it would not be dropped before the next read.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    open_now = set(connection.savepoint_ids)
    for savepoints, callback, _ in reversed(connection.run_on_commit):
        if isinstance(callback, _ForgetAtCommit) and not callback.dropped and savepoints == open_now:
            return callback
    return None
