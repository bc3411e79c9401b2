"""Scheduled work of the content library, run by Celery beat (settings.CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from library.services import article_views_prune

log = logging.getLogger(__name__)


@shared_task(name="library.prune_article_views")
def prune_article_views() -> int:
    """Delete the per-reader view rows whose day is over (the counts stay on the articles)."""
    deleted = article_views_prune()
    log.info("Article views pruned: %s rows older than yesterday", deleted)
    return deleted
