"""Writes of conversations: post a message, mark a thread read."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from conversations.errors import ThreadClosed
from conversations.models import Message
from conversations.selectors import can_post, thread_for_user, thread_to_post_in
from conversations.tasks import unread_message_email_schedule
from imatch.errors import DomainError
from imatch.errors import ErrorCode as CommonCode
from imatch.person_cache import Scope, person_forget
from imatch.text import clean_text
from marketplace.models import Match, User
from notifications.models import NotificationKind
from notifications.services import notifications_mark_read_about, notify


def thread_path(match: Match) -> str:
    return reverse("thread", args=[match.pk])


@transaction.atomic
def message_post(*, match_id: int, user, body: str) -> Message:
    """One side writes to the other; the first unread message notifies them (and emails after a delay)."""
    match = thread_to_post_in(user=user, match_id=match_id)
    body = clean_text(body)
    if not body:
        raise DomainError("Write a message.", field="body", code=CommonCode.REQUIRED)
    if len(body) > Message.BODY_MAX:
        raise DomainError(
            f"Keep a message under {Message.BODY_MAX:,} characters.", field="body", code=CommonCode.TOO_LONG
        )
    if not can_post(match):
        raise ThreadClosed(f"This match was {match.get_status_display().lower()}: the conversation is closed.")
    recipient_id = match.provider_user_id if user.pk == match.seeker_user_id else match.seeker_user_id
    # The first message the recipient has not read starts an unread streak: one notification
    # and one (delayed) email for the streak, however many messages follow before they read.
    # (The recipient's unread messages in the thread are the person's own: `others_unread`.)
    message = Message.objects.create(match=match, sender=user, recipient_id=recipient_id, body=body)
    person_forget([recipient_id], Scope.MESSAGES)  # their unread threads (the dashboard)
    if not match.others_unread:
        notify(
            user=User(pk=recipient_id),  # the notification needs only their id
            kind=NotificationKind.NEW_MESSAGE,
            text=f"{user.name} sent you a message about your {match.category.display_name} match.",
            link=thread_path(match),
        )
        unread_message_email_schedule(message)
    return message


@transaction.atomic
def thread_mark_read(*, match_id: int, user) -> int:
    """The person read the thread: its messages to them, and its new-message notifications, are read. How many."""
    match = thread_for_user(user=user, match_id=match_id)
    now = timezone.now()
    count = Message.objects.filter(match=match, recipient=user, read_at__isnull=True).update(read_at=now)
    if count:
        person_forget([user.pk], Scope.MESSAGES)
    notifications_mark_read_about(user=user, kind=NotificationKind.NEW_MESSAGE, link=thread_path(match))
    return count
