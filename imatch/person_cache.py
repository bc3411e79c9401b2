"""Answers kept per person in the shared cache, forgotten by the services that change them.

A logged-in read (a person's balance, their lists, their dashboard) depends on a few *scopes*
of what the marketplace holds about that person. Each scope of each person has a token in the
shared cache (`person:<scope>:<user id>`). An answer is kept together with the tokens of the
scopes it was built from (`person_answer`); it is served again only while every one of those
tokens is unchanged, so one `get_many` round trip reads the tokens and the answer at once.

Every service that changes what a scope covers calls `person_forget(user_ids, scope)`, which
drops the tokens now (the request reads its own change) and again when the transaction
commits (a request that rebuilt an answer from the old rows while the change was not yet
committed keeps it under a token that no longer counts). `SCOPE_SECONDS` is the backstop for
changes made outside the services (operators' SQL in the runbook): no answer outlives it.

With `PERSON_CACHE_VERIFY` (the test settings turn it on) every answer served from the cache
is built again and compared: a service that changes a scope without forgetting it fails the
test that exercises it, whichever test that is (`StaleAnswer`).
"""

import uuid
from collections.abc import Callable, Hashable, Iterable
from enum import StrEnum
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

SCOPE_SECONDS = 300  # the longest an answer or a token lives: the backstop for writes outside the services


class Scope(StrEnum):
    """What a person's kept answers may depend on; each is forgotten by the services named here."""

    LEDGER = "ledger"  # wallet, POT rows, purchases: currency.ledger (postings), currency.services (purchases used)
    MATCHES = "matches"  # matches/engagements lists: marketplace.services.lists (match, engagement, rating, profile)


class StaleAnswer(AssertionError):
    """A kept answer differs from a fresh one: some write changed a scope without `person_forget`."""


def _token_key(scope: str, user_id: int) -> str:
    return f"person:{scope}:{user_id}"


def _answer_key(user_id: int, name: Hashable) -> str:
    return f"person-answer:{user_id}:{name}"


def person_answer(
    *,
    user_id: int,
    scopes: Iterable[Scope],
    name: Hashable,
    build: Callable[[], T],
    seconds: int = SCOPE_SECONDS,
) -> T:
    """`build()`'s value for this person, kept in the shared cache while `scopes` stay unchanged.

    `name` says which answer it is (and its variant: the page, the filters), e.g.
    `("transactions", "page=2")`. The value must pickle and compare with `==`.
    """
    token_keys = [_token_key(scope, user_id) for scope in scopes]
    answer_key = _answer_key(user_id, name)
    found = cache.get_many([*token_keys, answer_key])
    tokens = tuple(found[key] if key in found else _token_create(key) for key in token_keys)
    kept = found.get(answer_key)
    if kept is not None and kept[0] == tokens:
        if getattr(settings, "PERSON_CACHE_VERIFY", False):
            fresh = build()
            if fresh != kept[1]:
                raise StaleAnswer(f"The kept answer {name!r} of user {user_id} is stale: {kept[1]!r} != {fresh!r}")
        return kept[1]
    value = build()
    cache.set(answer_key, (tokens, value), seconds)
    return value


def _token_create(key: str) -> str:
    token = uuid.uuid4().hex
    if not cache.add(key, token, SCOPE_SECONDS):
        token = cache.get(key) or token  # another process made it first
    return token


def person_forget(user_ids: Iterable[int], *scopes: Scope) -> None:
    """Forget every answer of these people that depends on `scopes`: now, and again at commit."""
    keys = [_token_key(scope, user_id) for user_id in set(user_ids) for scope in scopes]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
