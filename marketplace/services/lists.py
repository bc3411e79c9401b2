"""Forgetting the kept lists of matches and engagements (`Scope.MATCHES`, `imatch.person_cache`).

A person's kept pages of `GET /api/v1/matches/` and `/engagements/` show both sides of each
row: the match or engagement itself, both people's names (and emails once shared), the
seeker's needs, the provider's business, place, licence and rating. Every service that
changes one of these calls a function here for everyone whose rows show it.
"""

from collections.abc import Iterable

from django.db.models import Q

from imatch.person_cache import Scope, person_forget
from marketplace.models import Match


def lists_forget(user_ids: Iterable[int]) -> None:
    """These people's kept lists of matches and engagements are forgotten (now and at commit)."""
    person_forget(user_ids, Scope.MATCHES)


def lists_forget_sides(row) -> None:
    """A match or an engagement changed: both sides' kept lists (seeker's and provider's user)."""
    lists_forget([row.seeker.user_id, row.provider.user_id])


def lists_forget_around(
    *, user_ids: Iterable[int] = (), seeker_ids: Iterable[int] = (), provider_ids: Iterable[int] = ()
) -> None:
    """What people or profiles show in others' rows changed (a name, a seeker's needs, a provider's
    rating): forget the lists of everyone on either side of their matches (every engagement has its
    match), in one query on this rare write."""
    user_ids, seeker_ids, provider_ids = list(user_ids), list(seeker_ids), list(provider_ids)
    sides = (
        Q(seeker__user_id__in=user_ids)
        | Q(provider__user_id__in=user_ids)
        | Q(seeker_id__in=seeker_ids)
        | Q(provider_id__in=provider_ids)
    )
    people = set(user_ids)
    for seeker_user_id, provider_user_id in Match.objects.filter(sides).values_list(
        "seeker__user_id", "provider__user_id"
    ):
        people.update((seeker_user_id, provider_user_id))
    lists_forget(people)
