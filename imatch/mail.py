"""Sending an email as a background task (`send_email`), queued once the transaction commits.

Callers render the message (they hold the objects) and call `send_email_on_commit`: a
refused or rolled-back action sends nothing, a committed one queues the task. A worker
retries a failing mail server with backoff; without a broker the task runs inline.
"""

import logging

from celery import shared_task
from django.core.mail import EmailMessage
from django.db import transaction

log = logging.getLogger(__name__)

SEND_RETRIES = 5
RETRY_BACKOFF_SECONDS = 60  # 1, 2, 4, 8, 16 minutes


@shared_task(bind=True, name="imatch.send_email", max_retries=SEND_RETRIES, ignore_result=True)
def send_email(self, *, subject: str, body: str, to: list[str], about: str = "") -> None:
    """Send one plain-text email from DEFAULT_FROM_EMAIL; `about` names it in the logs (never the address)."""
    try:
        EmailMessage(subject=subject, body=body, to=to).send()
    except Exception as error:
        # The action that asked for the email is committed: a mail server hiccup must not
        # undo or fail it. A worker tries again later; inline, or after the last try, it is logged.
        if self.request.is_eager or self.request.retries >= self.max_retries:
            log.exception("Could not send the %s email", about or "an")
            return
        raise self.retry(exc=error, countdown=RETRY_BACKOFF_SECONDS * 2**self.request.retries) from error
    log.info("Sent the %s email", about or "an")


def task_on_commit(task, *, kwargs: dict, about: str, **options) -> None:
    """Queue `task` with `kwargs` once the current transaction commits (at once outside one).

    The action that asked for it stands whatever happens to the queueing: a broker that is
    down loses the task, logged as `about`. `options` go to `apply_async` (`countdown`,
    `kwargsrepr`).

    Celery writes the arguments' reprs into the message for the worker's logs, each by its
    `saferepr` (~30 us of CPU for a dict of one id). The task gets no positional arguments, and
    keyword arguments that are ids only have a plain `repr` that is the same string: both are
    written here (a test holds them to Celery's).
    """
    options.setdefault("argsrepr", "()")
    if "kwargsrepr" not in options and all(type(value) is int for value in kwargs.values()):
        written = repr(kwargs)
        if len(written) <= task.app.amqp.kwargsrepr_maxsize:  # where Celery's would be cut short
            options["kwargsrepr"] = written

    def queue() -> None:
        try:
            task.apply_async(kwargs=kwargs, **options)
        except Exception:  # the broker is down: the action stands, the task is lost and logged
            log.exception("Could not queue the %s", about)

    transaction.on_commit(queue)


def send_email_on_commit(*, subject: str, body: str, to: list[str], about: str = "") -> None:
    """Queue `send_email` once the current transaction commits (at once outside a transaction)."""
    # The worker logs a task's arguments: show it what the email is about, not the address or
    # the body (a link with a token, personal details).
    task_on_commit(
        send_email,
        kwargs={"subject": subject, "body": body, "to": to, "about": about},
        about=f"{about or 'an'} email",
        kwargsrepr=repr({"about": about}),
    )
