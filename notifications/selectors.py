"""Reads of a person's notifications: only ever their own."""

from django.db.models import QuerySet

from imatch.errors import NotFound
from imatch.person_cache import Scope, person_answer
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


def unread_count_kept(*, user) -> int:
    """`unread_count`, kept under the person's notifications scope: the bell on every page reads no row on a hit."""
    return person_answer(
        user_id=user.pk, scopes=[Scope.NOTIFICATIONS], name="unread-count", build=lambda: unread_count(user=user)
    )
