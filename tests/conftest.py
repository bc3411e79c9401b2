"""Shared fixtures: an API client, people, and the seeded categories."""

import os
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from categories.models import Category
from tests.marketplace.factories import UserFactory

# Property tests (hypothesis): on CI each draws the same examples every run, so a run fails for
# the change it tests, never for a counterexample that today's dice found in old code; a local
# `make test` draws new ones each run, which is how such counterexamples are found (one pinned as an
# `@example` in tests/marketplace/test_matching_learning.py). A failure prints the blob that replays it.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "explore")

# The real Redis that tests/test_worker.py and tests/test_broker.py queue tasks on (CI has it).
BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/7")


@pytest.fixture
def broker_redis():
    """A client of the broker's Redis (BROKER_URL); the test is skipped with the reason when it is unreachable."""
    import redis

    client = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is unreachable at {BROKER_URL} ({error}); CI runs this test with Redis")
    yield client
    client.close()


@pytest.fixture
def broker(settings, monkeypatch) -> mock.Mock:
    """Run as with a broker: the outbox waits for its flush, and a task is published, not run inline.

    Celery reads CELERY_TASK_ALWAYS_EAGER from Django's settings when it needs it. The publish is
    Celery's `send_task` (after the task's own `apply_async` has checked the arguments), here a
    mock: its calls are what the broker got; a `side_effect` makes it refuse.
    """
    from imatch.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert app.conf.task_always_eager is False
    published = mock.Mock(name="send_task")
    monkeypatch.setattr(app, "send_task", published)
    return published


@pytest.fixture
def seeded_categories(db) -> dict[str, Category]:
    """The first four categories of fixtures/categories.json, keyed by machine name."""
    call_command("seed_categories", "categories", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return {category.name: category for category in Category.objects.all()}


@pytest.fixture(autouse=True)
def _fresh_candidate_pools():
    """Matching keeps each category's profile index per process: never reuse one across tests."""
    from marketplace.candidates import clear_pool_cache

    clear_pool_cache()
    yield
    clear_pool_cache()


@pytest.fixture(autouse=True)
def _throttle_clock_stands_still(monkeypatch):
    """The API throttle counts in fixed windows of the clock (imatch.throttling): a test that
    straddled a minute's end saw its counts start again and failed now and then. For each test
    the throttle's clock stands 30 s into a minute (so a refusal's Retry-After is 30 s)."""
    import time
    from types import SimpleNamespace

    from imatch import throttling

    now = time.time()
    monkeypatch.setattr(throttling, "time", SimpleNamespace(time=lambda: now - now % 60 + 30))


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counts, login lockouts and rate limits live in the cache: no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def no_verify():
    """Serve kept answers as production does (imatch.person_cache): a stale one is not caught by rebuilding it."""
    with override_settings(PERSON_CACHE_VERIFY=False):
        yield


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:
    """An API client authenticated with a new API token of the user's."""
    from marketplace.services.tokens import api_token_issue

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    return client


@pytest.fixture
def user_api(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def operator_api(operator) -> APIClient:
    return client_for(operator)


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only tests (real row locks, parallel connections) on other databases."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason=f"needs PostgreSQL (running on {connection.vendor}); CI runs it on PostgreSQL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _let_test_flush_empty_the_pot_ledger() -> None:
    """Django's test flush (transactional tests, live_server) empties SQLite tables with DELETE,
    which the ledger's immutability triggers refuse: drop them for the flush and put them back.
    (PostgreSQL's flush uses TRUNCATE, which row triggers do not see.)"""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from currency import triggers

    DatabaseOperations = DatabaseWrapper.ops_class

    original = DatabaseOperations.sql_flush
    if getattr(original, "keeps_pot_triggers", False):
        return

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if "pot_transactions" in tables:
            return [*triggers.SQLITE_UNINSTALL, *statements, *triggers.SQLITE_INSTALL]
        return statements

    sql_flush.keeps_pot_triggers = True
    DatabaseOperations.sql_flush = sql_flush


_let_test_flush_empty_the_pot_ledger()


@pytest.fixture(autouse=True)
def _pot_ledger_verifies_after_each_test(request):
    """Whatever a database test did, the POT ledger it leaves behind must prove out (`verify_ledger`).

    A test module that breaks the ledger on purpose sets `LEDGER_TAMPERED = True`.
    """
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db or getattr(request.module, "LEDGER_TAMPERED", False):
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so this check runs before the rollback
    yield
    from currency.audit import verify_ledger

    report = verify_ledger()
    assert report.ok, f"verify_ledger after this test: {report.problems}"


@pytest.fixture(autouse=True)
def _kept_answers_verify_after_each_test(request):
    """Every answer a database test kept per person (`imatch.person_cache`) is asked for again at its end.

    One still served under its scopes' tokens is compared with a fresh build: a write made after a
    page was seen that does not forget what the page depends on fails the test that made it,
    whether or not the test looks at that page again (`person_answers_verify`).
    """
    from imatch.person_cache import _kept_for_verifying, person_answers_verify

    _kept_for_verifying.clear()
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so this check runs before the rollback
    yield
    person_answers_verify()
