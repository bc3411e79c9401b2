"""The broker's transport on Redis (imatch.broker): kombu's own, with one Redis client per channel.

Against the real Redis of CELERY_TEST_BROKER_URL (default redis://127.0.0.1:6379/7, as
tests/test_worker.py, whose worker consumes through this transport); skipped with the reason
when Redis is unreachable (CI has it).
"""

import json
import os
import subprocess
import sys
import uuid

import pytest
from celery import Celery
from django.conf import settings

from imatch.broker import Channel
from tests.conftest import BROKER_URL

KEPT = "imatch.broker:Transport"


@pytest.fixture
def broker(broker_redis):
    queue = f"imatch-test-{uuid.uuid4().hex}"
    yield broker_redis, queue
    broker_redis.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def _app(transport: str | None) -> Celery:
    app = Celery(broker=BROKER_URL, set_as_current=False)
    if transport:
        app.conf.broker_transport = transport
    return app


def _queued(app: Celery, queue: str, **kwargs) -> None:
    app.send_task("imatch.check", kwargs={"match_id": 7}, task_id="the-task", queue=queue, **kwargs)


def test_the_kept_client_transport_queues_what_kombu_s_own_queues(broker):
    client, queue = broker
    stored = []
    for transport in (None, KEPT):
        app = _app(transport)
        try:
            _queued(app, queue)
            with app.connection_for_write() as connection:
                assert isinstance(connection.default_channel, Channel) is (transport == KEPT)
        finally:
            app.close()
        stored.append(json.loads(client.rpop(queue)))
    for message in stored:  # each app's own reply queue, each message's own tag
        del message["properties"]["reply_to"], message["properties"]["delivery_tag"]
    assert stored[0] == stored[1]
    assert stored[1]["headers"]["kwargsrepr"] == "{'match_id': 7}"


def test_a_channel_keeps_its_client_until_its_pool_is_dropped(broker):
    client, queue = broker
    app = _app(KEPT)
    try:
        with app.producer_or_acquire() as producer:
            _queued(app, queue, producer=producer)
            channel = producer.channel
            kept = channel._kept_client
            _queued(app, queue, producer=producer)
            assert isinstance(channel, Channel) and kept is not None
            assert channel._kept_client is kept and kept.connection_pool is channel.pool  # not one client per task
            channel._after_fork()  # what kombu does in a forked child: the pool is dropped
            _queued(app, queue, producer=producer)
            assert channel._kept_client is not kept and channel._kept_client.connection_pool is channel.pool
    finally:
        app.close()
    assert client.llen(queue) == 3


def test_only_a_redis_url_gets_the_kept_client_transport():
    """rediss:// keeps kombu's own (kombu reads that scheme for TLS), as does any other broker."""
    script = (
        "import os, runpy\n"
        "for url in ('redis://cache:6379/0', 'rediss://cache:6380/0', 'sentinel://s:26379', 'amqp://mq//', ''):\n"
        "    os.environ['CELERY_BROKER_URL'] = url\n"
        "    print(repr(runpy.run_module('imatch.settings').get('CELERY_BROKER_TRANSPORT')))\n"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "CELERY_"))}
    env |= {"DJANGO_DEBUG": "true"}
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    assert run.stdout.split() == [repr(KEPT), "None", "None", "None", "None"]
