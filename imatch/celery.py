"""The Celery application: background work (email) and the schedule (the outbox every 2 s; matching, expiry hourly).

Configured from Django's settings (the `CELERY_` ones, see settings.py "Background work").
Without `CELERY_BROKER_URL` every task runs inline where it is queued, so a single
process (`make run`) needs no broker; `make worker` runs a worker and the beat scheduler,
whose flush of the outbox (`notifications.outbox`) sends an introduction's emails.
"""

import os

from celery import Celery, signals

from imatch.request_id import current_request_id, request_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imatch.settings")

app = Celery("imatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
# marketplace.tasks, … for every installed app; imatch.mail is the shared email task.
app.autodiscover_tasks()
app.conf.imports = ("imatch.mail",)

REQUEST_ID_HEADER = "request_id"


@signals.before_task_publish.connect
def _send_the_request_id(headers: dict | None = None, **kwargs) -> None:
    """A task queued while serving a request logs under that request's id."""
    request_id = current_request_id()
    if headers is not None and request_id:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@signals.task_prerun.connect
def _take_the_request_id(task=None, **kwargs) -> None:
    if task is not None and not task.request.is_eager:
        request_id_var.set(getattr(task.request, REQUEST_ID_HEADER, None) or f"task-{task.request.id}")


@signals.task_postrun.connect
def _drop_the_request_id(task=None, **kwargs) -> None:
    if task is not None and not task.request.is_eager:
        request_id_var.set(None)
