"""Throttle and lockout counters are shared between processes through the real Redis.

The test settings use a per-process cache; this test points a second process and this one
at the Redis given by TEST_REDIS_URL (default redis://127.0.0.1:6379/5) with the production
settings' cache, and shows that what one process counted, the other refuses. Without a
Redis it skips with that reason, except on CI (CI=true), where it fails.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.throttling import ScopedRateThrottle

from tests.marketplace.factories import PASSWORD, UserFactory

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")

OTHER_PROCESS = """
import django
django.setup()
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_login_failed
from django.core.cache import caches
from django.test import RequestFactory
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

assert type(caches["default"]).__module__.startswith("django_redis"), type(caches["default"])
ip, email = "{ip}", "{email}"
factory = RequestFactory()
view = APIView()
view.throttle_scope = "auth"
throttle = ScopedRateThrottle()
for _ in range(20):
    request = factory.post("/api/v1/auth/token/", REMOTE_ADDR=ip)
    request.user = AnonymousUser()
    assert throttle.allow_request(request, view)
# What django.contrib.auth.authenticate() sends after a wrong password, ten times.
for _ in range(10):
    request = factory.post("/login/", {{"username": email, "password": "wrong"}}, REMOTE_ADDR=ip)
    user_login_failed.send(sender=__name__, credentials={{"username": email}}, request=request)
print("counted")
"""


def _redis_cache_settings() -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "imatch",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }


@pytest.fixture
def shared_redis_cache():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail(f"no Redis at {REDIS_URL} on CI: .ci/run starts one (Debian package 'redis-server').")
        pytest.skip(f"no Redis at {REDIS_URL} (CI has one)")
    # django-axes keeps its handler, and the cache it opened, for the life of the process:
    # open it again on Redis, and again on the test cache afterwards.
    with override_settings(CACHES=_redis_cache_settings()):
        AxesProxyHandler.get_implementation(force=True)
        yield
        cache.clear()  # the Redis database is the tests' own
    AxesProxyHandler.get_implementation(force=True)


def test_two_processes_share_throttle_and_lockout_counters_in_redis(shared_redis_cache, client, db, monkeypatch):
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "auth": "20/minute"}
    )
    ip = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    email = f"pat-{uuid.uuid4().hex[:8]}@example.com"
    UserFactory(email=email)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "imatch.settings",
        "REDIS_URL": REDIS_URL,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "shared-cache-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    other = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS.format(ip=ip, email=email)],
        env=env,
        cwd=Path(settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 0 and "counted" in other.stdout, other.stderr

    # This process has counted nothing, yet the address is throttled and the email locked.
    token = client.post(
        "/api/v1/auth/token/",
        {"email": "someone@example.com", "password": "x"},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )
    assert token.status_code == 429 and token.json()["code"] == "throttled"
    login = client.post("/login/", {"username": email, "password": PASSWORD}, REMOTE_ADDR="198.51.100.3")
    assert login.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_api_throttle_counts_in_redis_with_one_round_trip(shared_redis_cache, monkeypatch):
    """imatch.throttling: INCR and its expiry pipelined; the counter is the shared one."""
    from imatch import throttling

    key = "throttle:anon:192.0.2.1:1"
    assert [throttling._count(key, 61)[0] for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3 or int(cache.client.get_client().get(cache.make_key(key))) == 3
    assert 0 < cache.ttl(key) <= 61


def test_the_throttle_loads_its_script_again_on_a_server_that_lost_it(shared_redis_cache):
    """imatch.throttling `_count_and_read`: a restarted Redis has no scripts (NOSCRIPT): loaded once more."""
    from imatch import throttling

    key = "throttle:anon:192.0.2.2:1"
    cache.set("read-with-it", {"a": 1})
    cache.client.get_client().script_flush()
    assert throttling._count(key, 61, other_keys=["read-with-it", "missing"]) == (1, {"read-with-it": {"a": 1}})
    assert throttling._count(key, 61) == (2, {})
    assert 0 < cache.ttl(key) <= 61


def test_a_kept_api_read_makes_one_round_trip_and_no_query(shared_redis_cache, db, monkeypatch):
    """The token check's script call counts the request and reads the kept answer ahead
    (imatch.throttling `read_counting`, `kept_keys`; imatch.person_cache `person_read_ahead`)."""
    import redis.connection

    from tests.conftest import client_for

    sent = []
    send = redis.connection.AbstractConnection.send_packed_command
    monkeypatch.setattr(
        redis.connection.AbstractConnection,
        "send_packed_command",
        lambda self, command, *args, **kwargs: sent.append(command) or send(self, command, *args, **kwargs),
    )
    for url in (
        "/api/v1/pot/balance/",
        "/api/v1/pot/transactions/?limit=5",
        "/api/v1/matches/",
        "/api/v1/engagements/",
    ):
        api = client_for(UserFactory())
        first, keeping = api.get(url), api.get(url)  # a token's first check in a process reads it; then kept
        sent.clear()
        with override_settings(PERSON_CACHE_VERIFY=False), CaptureQueriesContext(connection) as queries:
            kept = api.get(url)
        assert first.status_code == kept.status_code == 200
        assert first.content == keeping.content == kept.content
        assert (len(sent), len(queries)) == (1, 0), url


def test_a_refused_token_takes_its_count_back_in_redis(shared_redis_cache, db, monkeypatch):
    """imatch.throttling `uncount`: the DECR of what the token check's script call counted."""
    from knox.models import AuthToken

    from tests.conftest import client_for

    _user_rate(monkeypatch, "5/minute")
    user = UserFactory()
    old = client_for(user)
    assert [old.get("/api/v1/pot/balance/").status_code for _ in range(2)] == [200, 200]
    AuthToken.objects.filter(user=user).delete()
    assert {old.get("/api/v1/pot/balance/").status_code for _ in range(10)} == {401}
    fresh = client_for(user)
    assert [fresh.get("/api/v1/pot/balance/").status_code for _ in range(4)] == [200, 200, 200, 429]


@pytest.fixture
def redis_commands(monkeypatch):
    """The commands sent to Redis from now on, as sent (packed)."""
    import redis.connection

    sent = []
    send = redis.connection.AbstractConnection.send_packed_command
    monkeypatch.setattr(
        redis.connection.AbstractConnection,
        "send_packed_command",
        lambda self, command, *args, **kwargs: sent.append(command) or send(self, command, *args, **kwargs),
    )
    return sent


def _another_process(monkeypatch) -> None:
    """What a process that has not checked any token yet knows of them (imatch.authentication)."""
    from imatch import authentication

    monkeypatch.setattr(authentication, "_token_users", {})


def test_a_token_another_process_checked_is_known_by_the_throttles_round_trip_with_no_query(
    shared_redis_cache, db, monkeypatch, redis_commands
):
    """imatch.authentication: whose a token is sits in the shared cache (`api-token-owner:`), read
    with the kept check and the count in the throttle's one script call (`read_counting_as`)."""
    from tests.conftest import client_for

    api = client_for(UserFactory())
    first, keeping = api.get("/api/v1/pot/balance/"), api.get("/api/v1/pot/balance/")  # checked, then kept
    _another_process(monkeypatch)
    redis_commands.clear()
    with override_settings(PERSON_CACHE_VERIFY=False), CaptureQueriesContext(connection) as queries:
        elsewhere = api.get("/api/v1/pot/balance/")
    assert first.status_code == keeping.status_code == elsewhere.status_code == 200
    assert first.content == elsewhere.content
    # The check and the count in one script call; the kept balance (named per person, so not read
    # ahead before the person is known) in a read of its own.
    assert len(queries) == 0
    assert [b"".join(command).split(b"\r\n")[2] for command in redis_commands] == [b"EVALSHA", b"MGET"]


def test_a_token_new_to_the_shared_cache_is_checked_by_query_and_then_known_to_every_process(
    shared_redis_cache, db, monkeypatch
):
    from imatch import authentication
    from tests.conftest import client_for

    user = UserFactory()
    api = client_for(user)
    assert not any(key.startswith(authentication._OWNER_PREFIX) for key in _all_keys())
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/pot/balance/").status_code == 200
    assert any("knox_authtoken" in query["sql"] for query in queries.captured_queries)
    owners = [key for key in _all_keys() if key.startswith(authentication._OWNER_PREFIX)]
    assert len(owners) == 1 and cache.get(owners[0]) == user.pk
    _another_process(monkeypatch)
    assert api.get("/api/v1/pot/balance/").status_code == 200
    assert authentication._token_users == {
        owners[0].replace(authentication._OWNER_PREFIX, authentication._KEPT_PREFIX): user.pk
    }


def test_a_token_checked_by_query_is_counted_once_in_the_round_trip_that_names_its_owner(
    shared_redis_cache, db, monkeypatch, redis_commands
):
    """imatch.throttling `count_as_owner`: the count and `api-token-owner:` in one script call;
    the throttle does not count the request again."""
    from tests.conftest import client_for

    _user_rate(monkeypatch, "3/minute")
    api = client_for(UserFactory())
    redis_commands.clear()
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/pot/balance/").status_code == 200
    assert any("knox_authtoken" in query["sql"] for query in queries.captured_queries)
    # Whose is it? (no one knows yet); the count with the answer; then the balance's own reads.
    assert [b"".join(command).split(b"\r\n")[2] for command in redis_commands[:2]] == [b"EVALSHA", b"EVALSHA"]
    _another_process(monkeypatch)
    assert [api.get("/api/v1/pot/balance/").status_code for _ in range(3)] == [200, 200, 429]


def test_a_revoked_token_known_to_the_shared_cache_is_refused_and_takes_its_count_back(
    shared_redis_cache, db, monkeypatch
):
    """Whose a token was stays in the shared cache after it is revoked: the check still refuses it
    (its kept check was forgotten with the token), and the count it made for the person is taken back."""
    from knox.models import AuthToken

    from tests.conftest import client_for

    _user_rate(monkeypatch, "5/minute")
    user = UserFactory()
    old = client_for(user)
    assert [old.get("/api/v1/pot/balance/").status_code for _ in range(2)] == [200, 200]
    AuthToken.objects.filter(user=user).delete()
    for _ in range(10):
        _another_process(monkeypatch)
        assert old.get("/api/v1/pot/balance/").status_code == 401
    _another_process(monkeypatch)
    fresh = client_for(user)
    assert [fresh.get("/api/v1/pot/balance/").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_person_counted_through_the_shared_cache_is_the_tokens_one_counter(shared_redis_cache, db, monkeypatch):
    """Requests made through processes new to the token count on the person's one counter."""
    from tests.conftest import client_for

    _user_rate(monkeypatch, "4/minute")
    api, other = client_for(UserFactory()), client_for(UserFactory())
    answers = []
    for _ in range(5):
        _another_process(monkeypatch)
        answers.append(api.get("/api/v1/pot/balance/").status_code)
    assert answers == [200, 200, 200, 200, 429]
    assert other.get("/api/v1/pot/balance/").status_code == 200


@pytest.mark.parametrize("stored", [b"not-an-id", b"12; DROP", b""])
def test_an_owner_entry_that_is_not_an_id_counts_for_nobody(shared_redis_cache, db, monkeypatch, stored):
    """A garbled `api-token-owner:` entry is as if missing: the token is checked by query."""
    from imatch import authentication
    from tests.conftest import client_for

    user = UserFactory()
    api = client_for(user)
    assert api.get("/api/v1/pot/balance/").status_code == 200
    (owner,) = [key for key in _all_keys() if key.startswith(authentication._OWNER_PREFIX)]
    cache.client.get_client().set(cache.make_key(owner), stored)
    _another_process(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/pot/balance/").status_code == 200
    assert any("knox_authtoken" in query["sql"] for query in queries.captured_queries)


def _all_keys() -> list[str]:
    """The cache's keys as the code names them (without django-redis's prefix and version)."""
    prefix = cache.make_key("")
    return [key.decode().removeprefix(prefix) for key in cache.client.get_client().keys(cache.make_key("*"))]


def test_a_token_of_an_inactive_account_checked_by_query_takes_its_count_back(shared_redis_cache, db, monkeypatch):
    from imatch.throttling import _window
    from tests.conftest import client_for

    user = UserFactory()
    api = client_for(user)
    user.is_active = False
    user.save()
    for _ in range(3):
        _another_process(monkeypatch)
        assert api.get("/api/v1/pot/balance/").status_code == 401
    assert cache.get(_window("user", user.pk).key) == 0


def _user_rate(monkeypatch, rate: str) -> None:
    """The API's `user` rate for this test."""
    from imatch.throttling import RequestRateThrottle

    monkeypatch.setattr(RequestRateThrottle, "THROTTLE_RATES", {**RequestRateThrottle.THROTTLE_RATES, "user": rate})


# --- The held connection (imatch.redis_held) ---------------------------------------------


def test_the_held_connection_serves_every_command_of_a_process_and_is_made_again_after_a_fork(shared_redis_cache):
    from imatch import redis_held

    key = cache.make_key(f"held-{uuid.uuid4().hex}")
    assert redis_held.command("SET", key, "1") == b"OK"
    held = redis_held._held.connection
    assert redis_held.command("INCR", key) == 2
    assert redis_held._held.connection is held  # the same connection: no pool's get and release
    redis_held._held.pid = -1  # as a forked worker finds the connection its parent made
    assert redis_held.command("GET", key) == b"2"
    assert redis_held._held.connection is not held  # its own: never the parent's socket
    redis_held.delete_many([key.split(":", 2)[-1]])
    assert cache.client.get_client().exists(key) == 0


def test_a_held_connection_the_server_closed_is_made_again_and_the_command_answered(shared_redis_cache):
    from imatch import redis_held

    redis_held.command("PING")
    own_id = redis_held.command("CLIENT", "ID")
    assert cache.client.get_client().client_kill_filter(_id=own_id) == 1  # as a restart or a timeout would
    assert redis_held.command("PING") == b"PONG"
    assert redis_held.command("CLIENT", "ID") != own_id


def test_a_redis_that_does_not_answer_raises_as_the_client_does(shared_redis_cache):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from imatch import redis_held

    unreachable = _redis_cache_settings()
    unreachable["default"]["LOCATION"] = "redis://127.0.0.1:1/0"
    with override_settings(CACHES=unreachable), pytest.raises(RedisConnectionError):
        redis_held.command("PING")
