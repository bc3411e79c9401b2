"""Parallel introductions of one match on real PostgreSQL connections: one introduces, the others are refused."""

import pytest
from django.core import mail

from marketplace.errors import InvalidTransition
from marketplace.models import Match, MatchStatus
from marketplace.services import matches
from notifications.models import Notification, NotificationKind
from tests.concurrency import outcome_kinds, race
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_eight_parallel_introductions_introduce_once_and_notify_each_side_once():
    category = make_category()
    seeker = make_seeker(category)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    # By id, as the API asks: the locked read is the only read of the match.
    results = race(8, lambda i: matches.match_introduce(match=match.pk, user=seeker.user))
    assert outcome_kinds(results) == {"Match": 1, "InvalidTransition": 7}
    assert all(isinstance(r, Match | InvalidTransition) for r in results)
    introduced = Match.objects.get(pk=match.pk)
    assert introduced.status == MatchStatus.INTRODUCED and introduced.introduced_at is not None
    assert Notification.objects.filter(kind=NotificationKind.INTRODUCTION).count() == 2
    assert len(mail.outbox) == 2
