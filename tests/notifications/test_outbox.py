"""The outbox (notifications.outbox): a task queued in a transaction is sent once it commits, never when it
rolls back; the flush publishes and deletes, keeps a batch the broker refused, and drops rows that can never
be sent. Without a broker (the test settings) the flush runs inline after the commit; `broker` runs as with one.
"""

import logging
from datetime import timedelta

import pytest
from celery import shared_task
from django.contrib import admin
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from imatch.celery import app as celery_app
from notifications.models import OutboxTask
from notifications.outbox import OUTBOX_BATCH, outbox_flush, outbox_insert_sql, outbox_queue
from notifications.tasks import flush_outbox

ran: list[int] = []  # what `probe` ran inline, in order


@shared_task(name="tests.outbox_probe", ignore_result=True)
def probe(*, n: int) -> None:
    """A task for the outbox's tests: records its argument (`n < 0` fails)."""
    if n < 0:
        raise ValueError("the probe fails")
    ran.append(n)


@pytest.fixture(autouse=True)
def _nothing_ran():
    ran.clear()
    yield
    ran.clear()


def _due() -> list[tuple[str, dict]]:
    return list(OutboxTask.objects.order_by("pk").values_list("task", "kwargs"))


def _published(broker) -> list[tuple[str, dict]]:
    return [(call.args[0], call.args[2]) for call in broker.call_args_list]


def _queued(*numbers: int, task: str = probe.name) -> None:
    """Rows as an earlier run (or another process) left them: no flush after their commit."""
    OutboxTask.objects.bulk_create([OutboxTask(task=task, kwargs={"n": n}) for n in numbers])


# --- Without a broker: the flush runs once the transaction commits ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_in_a_transaction_runs_once_it_commits_and_its_row_is_gone():
    with transaction.atomic():
        due = outbox_queue(task=probe, kwargs={"n": 1})
        assert ran == [] and _due() == [(probe.name, {"n": 1})]  # not before the commit
    assert ran == [1] and _due() == []
    assert timezone.now() - timedelta(seconds=5) < due.queued_at <= timezone.now()
    outbox_queue(task=probe, kwargs={"n": 2})  # outside a transaction: at once
    assert ran == [1, 2] and _due() == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_no_row_and_runs_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_queue(task=probe, kwargs={"n": 1})
        raise RuntimeError("the action is refused")
    assert ran == [] and _due() == []


@pytest.mark.django_db
def test_a_task_that_fails_inline_is_logged_and_does_not_stop_the_others(caplog):
    _queued(1, -1, 2)
    assert outbox_flush() == 3
    assert ran == [1, 2] and _due() == []
    assert f"The {probe.name} task (outbox row" in caplog.text and "the probe fails" in caplog.text


# --- With a broker: the request does not publish; the flush publishes and deletes ----------------------------


@pytest.mark.django_db
def test_with_a_broker_queueing_writes_the_row_and_publishes_nothing(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outbox_queue(task=probe, kwargs={"n": 1})
    assert callbacks == [] and not broker.called and ran == []
    assert _due() == [(probe.name, {"n": 1})]


@pytest.mark.django_db
def test_the_flush_publishes_each_due_task_oldest_first_and_deletes_its_row(broker):
    _queued(1, 2, 3)
    assert outbox_flush() == 3
    assert _published(broker) == [(probe.name, {"n": 1}), (probe.name, {"n": 2}), (probe.name, {"n": 3})]
    assert _due() == [] and ran == []  # published, not run here
    assert outbox_flush() == 0 and broker.call_count == 3  # nothing twice


@pytest.mark.django_db
def test_a_refused_publish_keeps_every_row_of_its_batch_due_for_the_next_flush(broker, caplog):
    _queued(1, 2, 3)
    broker.side_effect = [None, OperationalError("the broker is down")]
    assert outbox_flush() == 0
    assert "Could not send the outbox's tasks: they stay due" in caplog.text
    assert _due() == [(probe.name, {"n": 1}), (probe.name, {"n": 2}), (probe.name, {"n": 3})]
    broker.side_effect = None  # the broker is back
    assert outbox_flush() == 3 and _due() == []
    # At least once: the task published before the refusal is published again.
    assert [kwargs["n"] for _, kwargs in _published(broker)] == [1, 2, 1, 2, 3]


@pytest.mark.django_db
def test_the_flush_goes_batch_after_batch_and_stops_after_its_last(broker):
    _queued(*range(7))
    assert outbox_flush(batch=2, batches=3) == 6  # three full batches: the seventh row waits for the next run
    assert _due() == [(probe.name, {"n": 6})]
    assert outbox_flush(batch=2, batches=3) == 1 and _due() == []
    assert [kwargs["n"] for _, kwargs in _published(broker)] == list(range(7))
    assert OUTBOX_BATCH == 200


@pytest.mark.django_db
def test_a_refusal_in_a_later_batch_keeps_only_that_batch(broker):
    _queued(*range(5))
    broker.side_effect = [None, None, OperationalError("the broker is down")]
    assert outbox_flush(batch=2) == 2  # the first batch committed; the second rolled back
    assert [kwargs["n"] for _, kwargs in _due()] == [2, 3, 4]


@pytest.mark.django_db
def test_rows_that_can_never_be_sent_are_logged_and_dropped_without_blocking_the_others(broker, caplog):
    _queued(1)
    _queued(2, task="tests.renamed_since")  # no process knows it
    OutboxTask.objects.create(task=probe.name, kwargs=[3])  # not a JSON object
    OutboxTask.objects.create(task=probe.name, kwargs={"m": 4})  # an argument the task does not take
    _queued(5)
    with caplog.at_level(logging.ERROR, logger="notifications.outbox"):
        assert outbox_flush() == 5
    assert _published(broker) == [(probe.name, {"n": 1}), (probe.name, {"n": 5})]
    assert _due() == []
    dropped = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert len(dropped) == 3
    assert "Dropped the tests.renamed_since task" in dropped[0] and dropped[0].endswith(": no such task")
    assert "keyword arguments [3]" in dropped[1] and dropped[1].endswith("are not a JSON object")
    assert "keyword arguments {'m': 4}" in dropped[2] and "unexpected keyword argument 'm'" in dropped[2]


@pytest.mark.django_db
def test_an_app_s_tasks_are_imported_before_a_name_is_called_unknown(broker, monkeypatch):
    # The web process imports an app's tasks when it first uses them; the flush imports them all first.
    registered = celery_app.tasks[probe.name]
    monkeypatch.delitem(celery_app.tasks, probe.name)
    discovered = []

    def autodiscover_tasks(**options) -> None:
        discovered.append(options)
        celery_app.tasks[registered.name] = registered

    monkeypatch.setattr(celery_app, "autodiscover_tasks", autodiscover_tasks)
    _queued(1, 2)
    assert outbox_flush() == 2 and discovered == [{"force": True}]  # once: then it is known
    assert _published(broker) == [(probe.name, {"n": 1}), (probe.name, {"n": 2})]


# --- The beat's task, the SQL of a hand-written statement, the admin ------------------------------------------


def test_the_beat_flushes_the_outbox_every_two_seconds():
    celery_app.loader.import_default_modules()
    entry = celery_app.conf.beat_schedule["flush-outbox"]
    assert entry["task"] == flush_outbox.name and flush_outbox.name in celery_app.tasks
    assert entry["schedule"] == 2.0 and entry["options"]["expires"] > 2


@pytest.mark.django_db
def test_the_beat_s_task_flushes(broker):
    _queued(1, 2)
    assert flush_outbox() == 2
    assert _published(broker) == [(probe.name, {"n": 1}), (probe.name, {"n": 2})] and _due() == []


def test_a_statement_s_outbox_insert_refuses_an_argument_name_that_is_not_an_identifier():
    with pytest.raises(ValueError, match="must be identifiers"):
        outbox_insert_sql(rows="introduced", kwargs={"match_id'); DROP TABLE x; --": '"m_id"'}, queued_at="now()")
    sql = outbox_insert_sql(rows="introduced", kwargs={"match_id": '"m_id"'}, queued_at='"m_introduced_at"')
    assert sql == (
        'INSERT INTO "task_outbox" ("task", "kwargs", "queued_at") '
        'SELECT %s::text, jsonb_build_object(\'match_id\', "m_id"), "m_introduced_at" FROM introduced'
    )


@pytest.mark.django_db
def test_operators_read_the_outbox_and_change_nothing(admin_client, rf, operator, broker):
    _queued(1)
    row = OutboxTask.objects.get()
    request = rf.get("/")
    request.user = operator
    model_admin = admin.site._registry[OutboxTask]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row) and not model_admin.has_delete_permission(request, row)
    page = admin_client.get(reverse("admin:notifications_outboxtask_changelist"))
    assert page.status_code == 200 and probe.name in page.content.decode()
