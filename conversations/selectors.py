"""Reads of conversations: only the two sides of a match reach its thread (operators read it in the admin)."""

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from conversations.models import Message
from imatch.errors import NotFound
from marketplace.models import Match, MatchStatus

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


def thread_to_post_in(*, user, match_id: int) -> Match:
    """The match of a thread the person writes in, as `thread_for_user` decides it, else NotFound.

    For `message_post`: one read by the match's id, with its category, the two sides' user ids
    (`seeker_user_id`, `provider_user_id`: the side is checked here, on the row) and whether the
    other side has not read some of the person's messages yet (`others_unread`). The access
    read with both sides' joins and users, then a query for the unread messages, cost twice as much.
    """
    mine_unread = Message.objects.filter(match=OuterRef("pk"), sender=user, read_at__isnull=True)
    match = (
        Match.objects.filter(pk=match_id, introduced_at__isnull=False)
        .select_related("category")
        .annotate(
            seeker_user_id=F("seeker__user_id"),
            provider_user_id=F("provider__user_id"),
            others_unread=Exists(mine_unread),
        )
        .order_by()
        .first()
    )
    if match is None or user.pk not in (match.seeker_user_id, match.provider_user_id):
        raise NotFound("No such conversation.")
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
