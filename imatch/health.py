"""`GET /health`: is the process up, and can it reach its database, its cache and its broker?

Load balancers probe it over plain HTTP (settings.SECURE_REDIRECT_EXEMPT). Each dependency
answers "ok" or its error; the broker is checked only when `CELERY_BROKER_URL` is set
(otherwise tasks run inline and it says "inline"). Any failure answers 503.

The database and the cache are checked on every call. The broker check opens a new broker
connection (~2.5 ms of CPU, most of the cost of a probe), so a process remembers a successful
broker check for BROKER_OK_SECONDS: probes a few times a second reuse it, a broker that goes
down is reported at most that many seconds late, and a failure is never remembered (each probe
after a failure checks again).
"""

import logging
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from imatch import redis_held
from imatch.celery import app as celery_app

log = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2
BROKER_OK_SECONDS = 2.0

# Per process: the broker URL last found reachable and when (time.monotonic()).
_broker_ok: dict[str, float] = {}
_broker_ok_lock = threading.Lock()


def _error(error: Exception) -> str:
    return str(error) or type(error).__name__


def database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return _error(error)
    return "ok"


def cache_check() -> str:
    key, value = f"health:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        stored = _store_read_delete(key, value)
    except Exception as error:  # any backend (Redis, database, memcached) raises its own errors
        return _error(error)
    return "ok" if stored == value else "the cache did not return what was stored"


def _store_read_delete(key: str, value: str) -> str | None:
    """Store `value` under `key` for 10 s, read it back, delete it; what was read.

    On Redis (django-redis) the three commands go in one pipelined round trip instead of three.
    """
    if redis_held.is_redis():
        redis_key = cache.make_and_validate_key(key)
        pipe = cache.client.get_client(write=True).pipeline(transaction=False)
        pipe.set(redis_key, value.encode(), ex=10)
        pipe.get(redis_key)
        pipe.delete(redis_key)
        stored = pipe.execute()[1]
        return stored.decode() if stored is not None else None
    cache.set(key, value, timeout=10)
    stored = cache.get(key)
    cache.delete(key)
    return stored


def broker_check() -> str:
    """ "inline" without a broker; "ok" if it was reachable in the last BROKER_OK_SECONDS; else connect."""
    broker_url = settings.CELERY_BROKER_URL
    if not broker_url:
        return "inline"
    with _broker_ok_lock:
        checked_at = _broker_ok.get(broker_url)
    if checked_at is not None and time.monotonic() - checked_at < BROKER_OK_SECONDS:
        return "ok"
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as error:  # kombu wraps the transport's errors in several classes
        with _broker_ok_lock:
            _broker_ok.pop(broker_url, None)
        return _error(error)
    with _broker_ok_lock:
        _broker_ok.clear()  # only the current URL's answer is worth keeping
        _broker_ok[broker_url] = time.monotonic()
    return "ok"


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"|"inline"}, or 503 naming the failure."""
    checks = {"database": database_check(), "cache": cache_check(), "broker": broker_check()}
    failed = {name: result for name, result in checks.items() if result not in ("ok", "inline")}
    if failed:
        log.error("Health check failed: %s", failed, extra={"failed": sorted(failed)})
        return JsonResponse({"status": "error", **checks}, status=503)
    return JsonResponse({"status": "ok", **checks})
