"""An introduction's emails: one task per introduction, queued on commit, renders and sends both.

The request notifies both sides and queues `marketplace.introduction_emails`; the task (inline
here, as without a broker) renders the two emails from the stored match and sends each once.
"""

from unittest import mock

import pytest
from celery.utils.saferepr import saferepr
from django.core import mail
from django.db import transaction

from marketplace import emails
from marketplace.models import Match, MatchStatus
from marketplace.services import matches
from notifications.models import Notification, NotificationKind
from tests.marketplace.loop import suggested_match

pytestmark = pytest.mark.django_db


@pytest.fixture
def suggested():
    match = suggested_match()
    mail.outbox.clear()
    return match


def _expected(match: Match) -> dict[str, tuple[str, str]]:
    """What the introduction's emails say, rendered from their templates as the request used to."""
    thread = emails.site_url("thread", match.pk)
    context = {"match": match, "seeker": match.seeker, "provider": match.provider, "thread": thread}
    return {
        match.seeker.user.email: emails._rendered(
            "introduction_seeker", match.seeker.user, {**context, "link": thread}
        ),
        match.provider.user.email: emails._rendered(
            "introduction_provider", match.provider.user, {**context, "link": emails.site_url("leads")}
        ),
    }


def test_an_introduction_sends_each_side_its_email_once(suggested, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        match = matches.match_introduce(match=suggested, user=suggested.seeker.user)

    match = Match.objects.select_related("category", "seeker__user", "provider__user").get(pk=match.pk)
    sent = {tuple(message.to): (message.subject, message.body) for message in mail.outbox}
    assert len(mail.outbox) == 2
    assert sent == {(to,): email for to, email in _expected(match).items()}
    assert sent[(match.seeker.user.email,)][0] == "I MATCH: you asked to meet Reyes Planning"
    assert sent[(match.provider.user.email,)][0] == "I MATCH: a new lead in Retirement Planners"
    assert "retire at 60" in sent[(match.provider.user.email,)][1]


def test_the_notifications_say_what_the_email_subjects_say(suggested, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        matches.match_introduce(match=suggested, user=suggested.seeker.user)

    told = {n.user_id: (n.text, n.link) for n in Notification.objects.filter(kind=NotificationKind.INTRODUCTION)}
    subjects = {message.to[0]: message.subject.removeprefix(emails.SUBJECT_PREFIX) for message in mail.outbox}
    seeker, provider = suggested.seeker.user, suggested.provider.user
    assert told == {
        seeker.pk: (subjects[seeker.email][:1].upper() + subjects[seeker.email][1:], f"/conversations/{suggested.pk}/"),
        provider.pk: (subjects[provider.email][:1].upper() + subjects[provider.email][1:], "/leads/"),
    }


def test_one_task_is_queued_per_introduction_after_commit(suggested, django_capture_on_commit_callbacks):
    with mock.patch.object(emails.introduction_emails, "apply_async") as queued:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            matches.match_introduce(match=suggested, user=suggested.seeker.user)
        assert not queued.called  # nothing before the commit
        for callback in callbacks:
            callback()

    queued.assert_called_once()
    assert queued.call_args.kwargs["kwargs"] == {"match_id": suggested.pk}
    # The arguments' reprs are given, as Celery's saferepr would write them (imatch.mail.task_on_commit).
    app = emails.introduction_emails.app
    assert queued.call_args.kwargs["argsrepr"] == saferepr((), app.amqp.argsrepr_maxsize)
    assert queued.call_args.kwargs["kwargsrepr"] == saferepr({"match_id": suggested.pk}, app.amqp.kwargsrepr_maxsize)
    assert mail.outbox == []


def test_a_rolled_back_introduction_queues_and_sends_nothing(suggested, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(emails.introduction_emails, "apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        matches.match_introduce(match=suggested, user=suggested.seeker.user)
        raise RuntimeError("the request failed after the introduction")

    assert callbacks == [] and not queued.called and mail.outbox == []
    suggested.refresh_from_db()
    assert suggested.status == MatchStatus.SUGGESTED
    assert not Notification.objects.filter(kind=NotificationKind.INTRODUCTION).exists()


def test_a_broker_that_is_down_leaves_the_introduction_standing(suggested, django_capture_on_commit_callbacks, caplog):
    down = ConnectionError("no broker")
    with (
        mock.patch.object(emails.introduction_emails, "apply_async", side_effect=down),
        django_capture_on_commit_callbacks(execute=True),
    ):
        match = matches.match_introduce(match=suggested, user=suggested.seeker.user)

    assert match.status == MatchStatus.INTRODUCED and mail.outbox == []
    assert "Could not queue the introduction emails" in caplog.text
