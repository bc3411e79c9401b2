"""Scheduled work of the marketplace, run by Celery beat (settings.CELERY_BEAT_SCHEDULE).

The same services as `manage.py run_matching`: end the provisional verification of Phase 1
advisors past their license deadline (they are told once), expire introductions left
unanswered for 72 hours, then fill the free match slots of every seeker in the active categories.
"""

import logging

from celery import shared_task
from django.utils import timezone

from categories.errors import CategoryInactive
from categories.models import Category
from marketplace.emails import introduction_emails
from marketplace.services import matches, pro, profiles

# Defined beside its templates (`marketplace.emails`); named here so the worker's autodiscovery registers it.
__all__ = ["introduction_emails", "pro_expiry_notices", "run_matching"]

log = logging.getLogger(__name__)


@shared_task(name="marketplace.run_matching")
def run_matching() -> dict[str, int]:
    """Expire stale introductions and match every open seeker; returns the totals it logs."""
    now = timezone.now()
    lapsed = profiles.providers_provisional_lapse(now=now)  # before matching: lapsed advisors get no new leads
    expired = matches.match_expire_stale(now=now)
    totals = {"lapsed": lapsed, "expired": len(expired), "seekers": 0, "matched": 0, "matches": 0, "unmatched": 0}
    for category in Category.objects.filter(active=True).order_by("name"):
        try:
            run = matches.match_run_for_category(category=category, now=now)
        except CategoryInactive:  # deactivated by an operator since the list was read
            log.info("Matching skipped %s: deactivated during the run", category.name)
            continue
        totals["seekers"] += run.seekers
        totals["matched"] += run.matched
        totals["matches"] += run.matches
        totals["unmatched"] += run.unmatched
    log.info(
        "Matching run: %(expired)s introductions expired, %(matches)s new matches for %(matched)s "
        "of %(seekers)s open seekers",
        totals,
        extra={"matching": totals},
    )
    return totals


@shared_task(name="marketplace.pro_expiry_notices")
def pro_expiry_notices() -> int:
    """Tell providers whose Pro ends within PRO_EXPIRY_NOTICE_DAYS, once per period (idempotent)."""
    told = pro.pro_expiry_notify()
    log.info("Pro expiry notices: %s sent", told)
    return told
