"""Flushes of the outbox at once, on real PostgreSQL connections: each takes rows the others do not hold
(`SELECT … FOR UPDATE SKIP LOCKED`), so no row is sent twice and none waits for another flush."""

import threading
from collections import defaultdict

import pytest
from celery import shared_task

from notifications.models import OutboxTask
from notifications.outbox import outbox_flush
from tests.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@shared_task(name="tests.outbox_probe_postgres", ignore_result=True)
def probe(*, n: int) -> None:
    """Published only (the `broker` fixture): never run."""


def test_two_flushes_at_once_take_different_rows_and_send_each_row_once(broker):
    OutboxTask.objects.bulk_create([OutboxTask(task=probe.name, kwargs={"n": n}) for n in range(300)])
    # Each flush's first publish waits until the other flush is publishing too: both hold a batch
    # at once. A flush that waited for the other's locked rows instead would never get there.
    both_hold_a_batch = threading.Barrier(2, timeout=10)
    sent_by: dict[int, list[int]] = defaultdict(list)

    def publish(name, args, kwargs, **options) -> None:
        sent = sent_by[threading.get_ident()]
        if not sent:
            both_hold_a_batch.wait()
        sent.append(kwargs["n"])

    broker.side_effect = publish
    taken = race(2, lambda _: outbox_flush(batch=100))
    assert sum(taken) == 300 and min(taken) >= 100, taken
    assert len(sent_by) == 2 and all(len(sent) >= 100 for sent in sent_by.values())
    sent = sorted(n for numbers in sent_by.values() for n in numbers)
    assert sent == list(range(300))  # every row once
    assert not OutboxTask.objects.exists()
