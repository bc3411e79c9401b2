"""Reads of conversations: only the two sides of a match reach its thread (operators read it in the admin)."""

import functools
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import Coalesce

from conversations.models import Message
from imatch.errors import NotFound
from marketplace.models import Match, MatchStatus, Provider, Seeker

# The two may write while the match is alive; a declined or expired match keeps its thread read-only.
OPEN_STATUSES = (MatchStatus.INTRODUCED, MatchStatus.ACCEPTED, MatchStatus.ENGAGED)


def threads_of(*, user) -> QuerySet[Match]:
    """The matches the person talks on (introduced, either side), latest activity first, with unread counts."""
    return (
        Match.objects.filter(Q(seeker__user=user) | Q(provider__user=user), introduced_at__isnull=False)
        .select_related("seeker__user", "provider__user", "category")
        .annotate(
            unread=Count("messages", filter=Q(messages__recipient=user, messages__read_at__isnull=True)),
            last_message_at=Max("messages__created_at"),
        )
        .order_by(Coalesce("last_message_at", "introduced_at").desc(), "-id")
    )


def threads_with_unread(*, user) -> QuerySet[Match]:
    """The threads holding messages the person has not read, latest activity first.

    Only the matches of the person's unread messages are grouped (the messages' recipient
    index), not every thread of theirs with every message.
    """
    unread = Message.objects.filter(recipient=user, read_at__isnull=True).values("match_id")
    return threads_of(user=user).filter(pk__in=unread, unread__gt=0)


@dataclass(frozen=True)
class UnreadThread:
    """A thread holding messages the person has not read, as the dashboard names it."""

    match_id: int
    unread: int
    other_name: str  # the other side's name
    category_display_name: str


def unread_threads_of(*, user) -> list[UnreadThread]:
    """`threads_with_unread`, only what the dashboard's "Action needed" shows of each (one query).

    The same rows and order; the columns of the two sides' names and the category's, not their
    every column grouped (the thread's row of each joined table).
    """
    rows = threads_with_unread(user=user).values_list(
        "pk", "unread", "seeker__user_id", "seeker__user__name", "provider__user__name", "category__display_name"
    )
    return [
        UnreadThread(pk, unread, provider_name if user.pk == seeker_user_id else seeker_name, category)
        for pk, unread, seeker_user_id, seeker_name, provider_name, category in rows
    ]


def thread_for_user(*, user, match_id: int) -> Match:
    """The match whose thread the person may read (a side of it, after the introduction), else NotFound.

    Staff get NotFound too: operators read threads in the admin, read-only.
    """
    match = (
        Match.objects.filter(Q(seeker__user=user) | Q(provider__user=user), introduced_at__isnull=False, pk=match_id)
        .select_related("seeker__user", "provider__user", "category")
        .first()
    )
    if match is None:
        raise NotFound("No such conversation.")
    return match


@functools.cache
def post_statement() -> str:
    """The SQL of `thread_to_post_in`, written out once per process (names from the models).

    Its parameters: the person's user id, the match's id. `message_post` reads it as a CTE too.
    """
    quote = connection.ops.quote_name
    matches, messages = quote(Match._meta.db_table), quote(Message._meta.db_table)
    seekers, providers = quote(Seeker._meta.db_table), quote(Provider._meta.db_table)
    categories = quote(Match._meta.get_field("category").related_model._meta.db_table)
    return (
        "SELECT m.id, m.status, m.category_id, m.seeker_id, m.provider_id, s.user_id, p.user_id, "  # noqa: S608
        f"EXISTS (SELECT 1 FROM {messages} u WHERE u.match_id = m.id AND u.sender_id = %s AND u.read_at IS NULL), "
        f"c.name, c.display_name FROM {matches} m JOIN {seekers} s ON s.id = m.seeker_id "
        f"JOIN {providers} p ON p.id = m.provider_id JOIN {categories} c ON c.id = m.category_id "
        "WHERE m.id = %s AND m.introduced_at IS NOT NULL"
    )


def _partial(model, **values):
    """An instance of `model` loaded with these fields only (`from_db` takes them in the model's field order)."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def thread_to_post_in(*, user, match_id: int) -> Match:
    """The match of a thread the person writes in, as `thread_for_user` decides it, else NotFound.

    For `message_post`: one query by the match's id, written out (built by the ORM, it cost more
    CPU than the rest of the post), that loads what a post needs: the match's status and sides,
    the category's name, the two sides' user ids (`seeker_user_id`, `provider_user_id`: the side
    is checked here, on the row) and whether the other side has not read some of the person's
    messages yet (`others_unread`). Other fields of the match load on access.
    """
    with connection.cursor() as cursor:
        cursor.execute(post_statement(), [user.pk, match_id])
        row = cursor.fetchone()
    return thread_from_post_row(row, user=user)


def thread_from_post_row(row: tuple | None, *, user) -> Match:
    """The match of a row of `post_statement` (its ten columns), as `thread_to_post_in` loads it; NotFound
    for no row or a row of a match the person is no side of."""
    if row is None or user.pk not in (row[5], row[6]):
        raise NotFound("No such conversation.")
    pk, status, category_id, seeker_id, provider_id, seeker_user_id, provider_user_id, unread, name, display = row
    match = _partial(Match, id=pk, status=status, category_id=category_id, seeker_id=seeker_id, provider_id=provider_id)
    match.category = _partial(
        Match._meta.get_field("category").related_model, id=category_id, name=name, display_name=display
    )
    match.seeker_user_id, match.provider_user_id, match.others_unread = seeker_user_id, provider_user_id, bool(unread)
    return match


def messages_of(*, match: Match) -> QuerySet[Message]:
    """A thread's messages, oldest first."""
    return Message.objects.filter(match=match).select_related("sender").order_by("created_at", "id")


def unread_messages_count(*, user) -> int:
    return Message.objects.filter(recipient=user, read_at__isnull=True).count()


def other_side(match: Match, user):
    """The person on the other side of the match from `user`."""
    return match.provider.user if user.pk == match.seeker.user_id else match.seeker.user


def can_post(match: Match) -> bool:
    return match.status in OPEN_STATUSES
