"""The outbox: background tasks written as rows in the action's transaction and sent to the broker after it.

An action that asks for a task (an introduction's emails) writes an `OutboxTask` row in its own
transaction, with `outbox_queue` or, inside a hand-written statement, with the INSERT of
`outbox_insert_sql`. A refused or rolled-back action leaves no row, a committed one always leaves
it, and the request makes no round trip to the broker.

With a broker, the worker's beat runs `outbox_flush` every 2 seconds (`notifications.flush_outbox`
in CELERY_BEAT_SCHEDULE): a task leaves within ~2 s, and only while a worker with beat runs
(`make worker`: `celery -A imatch worker -B`). Each batch is taken with `SELECT … FOR UPDATE SKIP
LOCKED`, published, and deleted in one transaction, so two flushes at once never take the same row.
Without a broker (CELERY_TASK_ALWAYS_EAGER: `make run`, the tests) `outbox_flush_on_commit` flushes
once the transaction commits and the tasks run inline at once.

Delivery is at least once. When the broker refuses a publish, the batch's transaction rolls back
and all its rows stay due for the next run, the ones already published too: those are sent again
(so are those of a flush whose commit fails after its publishes). A task queued here must bear
running twice; an introduction's emails would then arrive twice.

A row that can never be sent is logged and deleted, so it does not block the rows behind it: a
task no process knows (renamed or removed since it was queued), or keyword arguments that are not
a JSON object or that the task does not take.
"""

import logging

from celery import Task
from django.conf import settings
from django.db import connection, transaction

from imatch.celery import app as celery_app
from imatch.db import instance_insert
from notifications.models import OutboxTask

log = logging.getLogger(__name__)

OUTBOX_BATCH = 200  # rows per transaction of a flush
OUTBOX_BATCHES_PER_RUN = 25  # a flush stops after 5,000 rows: the next run, 2 s later, goes on


def outbox_queue(*, task: Task, kwargs: dict) -> OutboxTask:
    """Queue `task` with `kwargs` through the outbox, in the caller's transaction (a rollback takes it back).

    `kwargs` is stored as JSON and written to the log if the row is dropped: ids and plain values,
    no addresses or message bodies.
    """
    due = instance_insert(OutboxTask(task=task.name, kwargs=kwargs))
    outbox_flush_on_commit()
    return due


def outbox_flush_on_commit() -> None:
    """Without a broker, flush the outbox once the current transaction commits (at once outside one).

    With a broker it does nothing: the beat's flush sends the rows. Called by `outbox_queue`, and by
    a service whose own statement wrote the row (`outbox_insert_sql`).
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(outbox_flush)


def outbox_insert_sql(*, rows: str, kwargs: dict[str, str], queued_at: str) -> str:
    """The INSERT … SELECT of one outbox row per row of `rows` (a CTE's name), for a hand-written statement.

    PostgreSQL only. Its one parameter (`%s`) is the task's name; `kwargs` gives the SQL of each
    keyword argument's value (a column of `rows`), `queued_at` the SQL of the time. With
    `kwargs={"match_id": '"m_id"'}` it writes what `outbox_queue(task=…, kwargs={"match_id": …})`
    writes for each row.
    """
    if not all(name.isidentifier() for name in kwargs):  # written into the SQL as string literals
        raise ValueError(f"Keyword argument names must be identifiers: {sorted(kwargs)}")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(OutboxTask._meta.get_field(name).column) for name in ("task", "kwargs", "queued_at"))
    arguments = ", ".join(f"'{name}', {value}" for name, value in kwargs.items())
    return (
        f"INSERT INTO {quote(OutboxTask._meta.db_table)} ({columns}) "  # noqa: S608 - names from the model and the caller
        f"SELECT %s::text, jsonb_build_object({arguments}), {queued_at} FROM {rows}"
    )


def outbox_flush(*, batch: int = OUTBOX_BATCH, batches: int = OUTBOX_BATCHES_PER_RUN) -> int:
    """Send the due tasks to the broker, oldest first, batch after batch; how many rows it took.

    It stops at a batch that was not full, after `batches` batches, or when the broker refuses a
    publish: that batch's rows stay due (logged). Without a broker each task runs inline once its
    batch has committed, and a failure of its own is logged.
    """
    taken = 0
    for _ in range(batches):
        try:
            count = _batch_send(batch)
        except Exception:
            log.exception("Could not send the outbox's tasks: they stay due for the next flush")
            break
        taken += count
        if count < batch:
            break
    return taken


def _batch_send(batch: int) -> int:
    """Take up to `batch` due rows that no other flush holds, publish them, delete them; how many it took."""
    eager = settings.CELERY_TASK_ALWAYS_EAGER  # the setting Celery's `task_always_eager` is read from
    inline = []
    with transaction.atomic():
        due = list(
            OutboxTask.objects.select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", "task", "kwargs", "queued_at")[:batch]
        )
        for row in due:
            task = _task(row)
            if task is None:
                continue
            if eager:
                inline.append((task, row))
                continue
            try:
                # A refused publish raises out of the transaction: every row of the batch stays due.
                task.apply_async(kwargs=row[2])
            except TypeError as error:  # Celery checks the arguments against the task's before publishing
                _dropped(row, str(error))
        OutboxTask.objects.filter(pk__in=[row[0] for row in due]).delete()
    for task, row in inline:
        try:
            task.apply_async(kwargs=row[2])
        except Exception:  # the action that queued it has committed: a task's failure must not fail it
            log.exception("The %s task (outbox row %s) failed", row[1], row[0])
    return len(due)


def _task(row: tuple) -> Task | None:
    """The registered task a row names, or None for a row that can never be sent (logged)."""
    _, name, kwargs, _ = row
    task = celery_app.tasks.get(name)
    if task is None:
        # A process imports an app's tasks when it first needs them (the worker imports them all
        # at its start): import every app's `tasks` module before calling a name unknown.
        celery_app.autodiscover_tasks(force=True)
        task = celery_app.tasks.get(name)
    if task is None:
        _dropped(row, "no such task")
    elif not isinstance(kwargs, dict):
        _dropped(row, "its keyword arguments are not a JSON object")
        task = None
    return task


def _dropped(row: tuple, reason: str) -> None:
    pk, name, kwargs, queued_at = row
    log.error(
        "Dropped the %s task of the outbox (row %s, queued %s, keyword arguments %r): %s",
        name,
        pk,
        queued_at.isoformat(),
        kwargs,
        reason,
    )
