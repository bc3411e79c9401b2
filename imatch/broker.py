"""The Celery broker's transport on Redis: kombu's own, with one Redis client per channel for its commands.

kombu's Redis channel builds a new `redis.Redis` client around its connection pool for each
command it sends outside the consumer's loop (`Channel.conn_or_acquire`), so for every task
queued; redis-py builds the client's table of ~170 response callbacks at each construction:
~0.06-0.1 ms of CPU per task queued, a fifth of the publish. This channel keeps the client it
built while its pool is the same one (kombu drops the pool on a fork and on close: the next
command gets a client around the new pool). The same commands go over the same pool's
connections; a client around a pool it was given holds no connection of its own, so sharing
it is what kombu's own `Channel.client` already does for the consumer.

Chosen by `CELERY_BROKER_TRANSPORT` for a redis:// broker URL (settings.py; not rediss://, whose
scheme kombu reads for TLS).
"""

from contextlib import contextmanager

from kombu.transport import redis


class Channel(redis.Channel):
    _kept_client = None

    @contextmanager
    def conn_or_acquire(self, client=None):
        if client:
            yield client
            return
        pool, kept = self.pool, self._kept_client
        if kept is None or kept.connection_pool is not pool:
            kept = self._kept_client = self._create_client()
        yield kept


class Transport(redis.Transport):
    Channel = Channel
