"""Writes of conversations: post a message, mark a thread read."""

import functools

from django.db import connection, transaction
from django.utils import timezone

from conversations.errors import ThreadClosed
from conversations.models import Message
from conversations.selectors import (
    OPEN_STATUSES,
    can_post,
    post_statement,
    thread_for_user,
    thread_from_post_row,
    thread_to_post_in,
)
from conversations.tasks import unread_message_email_schedule
from imatch.db import prepared_cursor
from imatch.errors import DomainError
from imatch.errors import ErrorCode as CommonCode
from imatch.links import page_path
from imatch.person_cache import Scope, person_forget
from imatch.text import clean_text
from marketplace.models import Match, User
from notifications.models import NotificationKind
from notifications.services import notifications_mark_read_about, notify

_OPEN = [str(status) for status in OPEN_STATUSES]  # a text[] parameter: the values


def thread_path(match: Match) -> str:
    return page_path("thread", match.pk)


def message_post(*, match_id: int, user, body: str) -> Message:
    """One side writes to the other; the first unread message notifies them (and emails after a delay).

    On PostgreSQL a well-formed post is first tried as one statement (`_post_continuing_streak`):
    it reads the thread as `thread_to_post_in` does and inserts the message when the thread is
    open and the post continues an unread streak, the steady state of a thread. That is the whole
    post (no notification, no email: the statement is its only write and atomic by itself), one
    round trip instead of four (BEGIN, the thread, the insert, COMMIT). Otherwise the thread it
    read goes on to `_message_post` (read outside that transaction: under PostgreSQL's read
    committed, a read inside it was no more current by the insert); on SQLite (no data-modifying
    CTE) every post is `_message_post`.
    """
    body = clean_text(body)
    match = None
    if body and len(body) <= Message.BODY_MAX and connection.vendor == "postgresql":
        match, message = _post_continuing_streak(match_id=match_id, user=user, body=body)
        if message is not None:
            person_forget([message.recipient_id], Scope.MESSAGES)  # their unread threads (the dashboard)
            return message
    return _message_post(match_id=match_id, user=user, body=body, match=match)


@transaction.atomic
def _message_post(*, match_id: int, user, body: str, match: Match | None) -> Message:
    """The post in one transaction: the thread (unless read already), the refusals, the message, and the
    first unread message's notification and email."""
    if match is None:
        match = thread_to_post_in(user=user, match_id=match_id)
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


_INSERTED = ("match", "sender", "recipient", "body", "created_at", "read_at")  # the statement's column order


@functools.cache
def _continuing_statement() -> str:
    """The SQL of `_post_continuing_streak` (PostgreSQL), written out once per process (names from the models).

    `thread` is `thread_to_post_in`'s row; `posted` inserts the message from it only for a side of
    the match, in an open thread, when the other side has not read some of the person's messages
    (a data-modifying CTE runs once whether or not the outer query reads it; every part of the
    statement sees the thread as it was before the insert).
    """
    quote = connection.ops.quote_name
    columns = ", ".join(quote(Message._meta.get_field(name).column) for name in _INSERTED)
    return (
        "WITH thread (id, status, category_id, seeker_id, provider_id, seeker_user_id, provider_user_id, "  # noqa: S608
        f"others_unread, name, display_name) AS ({post_statement()}), "
        f"posted AS (INSERT INTO {quote(Message._meta.db_table)} ({columns}) "
        "SELECT id, %s, CASE WHEN seeker_user_id = %s THEN provider_user_id ELSE seeker_user_id END, %s, %s, NULL "
        "FROM thread WHERE %s IN (seeker_user_id, provider_user_id) AND status = ANY(%s) AND others_unread "
        f"RETURNING {quote(Message._meta.pk.column)}) "
        "SELECT thread.*, posted.* FROM thread LEFT JOIN posted ON TRUE"
    )


def _post_continuing_streak(*, match_id: int, user, body: str) -> tuple[Match, Message | None]:
    """The thread as `thread_to_post_in` reads it (NotFound likewise), and the message if the post
    continued an unread streak in an open thread (else None: nothing was written).

    One statement (`_continuing_statement`) instead of the thread's query, then the ORM's insert
    in a transaction: built by the ORM, that insert alone was a sixth of the post's CPU (cProfile).
    """
    now = timezone.now()  # `Message.created_at`'s default
    with prepared_cursor(connection) as cursor:
        # Prepared once per database session: its four tables' join plans in ~5x the time it runs.
        cursor.execute(_continuing_statement(), [user.pk, match_id, user.pk, user.pk, body, now, user.pk, _OPEN])
        *row, message_id = cursor.fetchone() or (None,)
    match = thread_from_post_row(row or None, user=user)
    if message_id is None:
        return match, None
    recipient_id = match.provider_user_id if user.pk == match.seeker_user_id else match.seeker_user_id
    message = Message.from_db(connection.alias, None, [message_id, match.pk, user.pk, recipient_id, body, now, None])
    message.match, message.sender = match, user  # as `Message.objects.create(match=match, sender=user, …)` keeps them
    return match, message


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
