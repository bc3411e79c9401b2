"""Operations' writes: sending the weekly report to operators."""

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model

from imatch.mail import send_email_on_commit
from operations.report import weekly_report
from operations.report_render import as_text

log = logging.getLogger(__name__)


def weekly_report_recipients() -> list[str]:
    """WEEKLY_REPORT_RECIPIENTS, or every active staff account when it is empty."""
    if settings.WEEKLY_REPORT_RECIPIENTS:
        return list(settings.WEEKLY_REPORT_RECIPIENTS)
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    return list(staff.order_by("email").values_list("email", flat=True))


def weekly_report_send(*, weeks: int = 1, now: datetime | None = None) -> list[str]:
    """Email the weekly report (plain text) to the operators; returns who it went to (nobody: nothing sent)."""
    recipients = weekly_report_recipients()
    if not recipients:
        log.warning("Weekly report not sent: no operator to send it to (WEEKLY_REPORT_RECIPIENTS, staff accounts)")
        return []
    report = weekly_report(weeks=weeks, now=now)
    send_email_on_commit(
        subject=f"I MATCH weekly report, {report.weeks[0].label}",
        body=as_text(report),
        to=recipients,
        about="weekly report",
    )
    return recipients
