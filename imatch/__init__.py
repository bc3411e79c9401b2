"""The I MATCH project package. Loads the Celery app so that `@shared_task`s bind to it."""

from imatch.celery import app as celery_app

__all__ = ["celery_app"]
