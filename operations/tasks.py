"""Scheduled work of operations, run by Celery beat (settings.CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from operations.services import weekly_report_send

log = logging.getLogger(__name__)


@shared_task(name="operations.weekly_report")
def send_weekly_report() -> int:
    """Email last week's report to the operators (Monday morning); returns how many got it."""
    recipients = weekly_report_send(weeks=1)
    log.info("Weekly report sent to %s operators", len(recipients))
    return len(recipients)
