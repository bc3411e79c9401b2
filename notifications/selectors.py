"""Reads of a person's notifications: only ever their own."""

from django.db.models import QuerySet

from imatch.errors import NotFound
from notifications.models import Notification


def notifications_of(*, user) -> QuerySet[Notification]:
    """The person's notifications, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def notification_for_user(*, user, notification_id: int) -> Notification:
    """One of the person's own notifications, else NotFound (also for staff: notifications are private)."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is None:
        raise NotFound("No such notification.")
    return notification


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
