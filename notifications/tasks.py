"""Scheduled work of notifications, run by Celery beat (settings.CELERY_BEAT_SCHEDULE): the outbox's flush."""

from celery import shared_task

from notifications.outbox import outbox_flush


@shared_task(name="notifications.flush_outbox", ignore_result=True)
def flush_outbox() -> int:
    """Send the tasks due in the outbox to the broker (every 2 seconds); how many rows it took."""
    return outbox_flush()
