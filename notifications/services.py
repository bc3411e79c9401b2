"""Writes of notifications: `notify` (called by the services where an event happens) and marking read.

Each forgets the person's kept unread count (`Scope.NOTIFICATIONS`, the bell on every page).
"""

from typing import NamedTuple

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from imatch.db import instances_insert
from imatch.person_cache import Scope, person_forget
from notifications.models import Notification, NotificationKind
from notifications.selectors import notification_for_user


class Notice(NamedTuple):
    """One notification for `notify_many`: the arguments of `notify`."""

    user: AbstractBaseUser
    kind: NotificationKind
    text: str
    link: str = ""


def notification_new(notice: Notice) -> Notification:
    """The row `notify` writes for `notice`, not saved (its text cut to fit): for a caller that
    inserts it itself, as the ledger's one-statement award does."""
    return Notification(user=notice.user, kind=notice.kind, text=notice.text[: Notification.TEXT_MAX], link=notice.link)


def notify(*, user, kind: NotificationKind, text: str, link: str = "") -> Notification:
    """Tell the person in the app that something happened (in the caller's transaction: a rollback takes it back)."""
    person_forget([user.pk], Scope.NOTIFICATIONS)
    notification = notification_new(Notice(user, kind, text, link))
    notification.save(force_insert=True)
    return notification


def notify_many(*notices: Notice) -> list[Notification]:
    """`notify` for several people at once (one event, both sides): one insert, one forget of their bells.

    The rows `bulk_create` would write, by one INSERT written out (`imatch.db.instances_insert`:
    ~0.3 ms less CPU than `bulk_create` for an introduction's two)."""
    person_forget([notice.user.pk for notice in notices], Scope.NOTIFICATIONS)
    return instances_insert([notification_new(notice) for notice in notices])


@transaction.atomic
def notification_mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of the person's notifications read (again: nothing changes)."""
    notification = notification_for_user(user=user, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        person_forget([user.pk], Scope.NOTIFICATIONS)
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user) -> int:
    """Mark every unread notification of the person read; how many were unread."""
    marked = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        person_forget([user.pk], Scope.NOTIFICATIONS)
    return marked


def notifications_mark_read_about(*, user, kind: NotificationKind, link: str) -> int:
    """Mark read the person's unread notifications of this kind about this page (they have seen it)."""
    marked = Notification.objects.filter(user=user, kind=kind, link=link, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if marked:
        person_forget([user.pk], Scope.NOTIFICATIONS)
    return marked
