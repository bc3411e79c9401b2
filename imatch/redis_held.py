"""One Redis command on a connection this process and thread hold: the hot path of every API request.

Through redis-py 8's client a command costs some 40-60 µs of CPU beyond its socket calls (the
pool's get and release with a poll of the socket, the retry wrapper, observability hooks). Measured
here in a loop of 5,000 under the production settings: `cache.delete_many` of one key 92-135 µs of
CPU, the same `DEL` on a held connection 74-78 µs (a `DEL` by redis-py alone 85-100 µs, on a held
connection 28 µs). Every API request makes one command (the throttle's count with the token check,
`imatch.throttling`) and every write one more (the forget at commit, `imatch.person_cache`), so
those go through `command`; everything else uses the cache as usual.

The connection is made with the settings of the shared cache's own pool (`make_connection`: same
server, database, timeouts), one per thread, and made again in a forked process (gunicorn's
workers fork from a master that may have used it). A connection error is retried once on a new
connection, as the client retries; a second one raises, as the client does.
"""

import os
import threading

from django.core.cache import caches
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class _Held(threading.local):
    pool = None  # the pool the connection was made from (the cache's settings may change in tests)
    pid = 0
    connection = None


_held = _Held()


def is_redis() -> bool:
    """Whether the shared cache is Redis (django-redis); the database's cache otherwise (tests, SQLite)."""
    return hasattr(getattr(caches["default"], "client", None), "get_client")


def delete_many(keys: list[str]) -> None:
    """`cache.delete_many(keys)`: one `DEL` on the held connection when the cache is Redis."""
    backend = caches["default"]
    if is_redis():
        command("DEL", *(backend.make_key(key) for key in keys))
    else:
        backend.delete_many(keys)


def command(*args):
    """The reply of one Redis command (`"DEL", key`) sent to the shared cache's server; raises as redis-py does."""
    pool = caches["default"].client.get_client(write=True).connection_pool
    connection = _held.connection
    if connection is None or _held.pool is not pool or _held.pid != os.getpid():
        connection = pool.make_connection()
        _held.pool, _held.pid, _held.connection = pool, os.getpid(), connection
    try:
        return _sent(connection, args)
    except (RedisConnectionError, RedisTimeoutError):
        # A connection the server closed (a restart, an idle timeout): once more on a new one, as
        # redis-py's client retries. Both commands sent here are safe to repeat (a count, a DEL).
        connection.disconnect()
        return _sent(connection, args)


def _sent(connection, args):
    connection.send_command(*args, check_health=False)
    return connection.read_response()
