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


@pytest.mark.parametrize("one_statement", [True, False], ids=["one statement", "general path"])
def test_eight_parallel_introductions_introduce_once_and_notify_each_side_once(one_statement, monkeypatch):
    # In no transaction, the one statement's WHERE is checked again on the newest version of the
    # match: one moves it, the others introduce nothing and the general path refuses them.
    monkeypatch.setattr(matches, "ONE_STATEMENT_INTRODUCTIONS", one_statement)
    statement, by_statement = matches._introduce_in_one_statement, []

    def counted(**arguments):
        by_statement.append(statement(**arguments))
        return by_statement[-1]

    monkeypatch.setattr(matches, "_introduce_in_one_statement", counted)
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
    # Each of the eight tried the statement first: one introduced, seven found nothing to introduce.
    assert outcome_kinds(by_statement) == ({"Match": 1, "NoneType": 7} if one_statement else {})
