"""An introduction's emails: one task per introduction, queued through the outbox, renders and sends both.

The request notifies both sides and writes the outbox row of `marketplace.introduction_emails` in
its transaction; the outbox's flush (after the commit here, as without a broker; the beat's with
one) sends the task, which renders the two emails from the stored match and sends each once.
"""

from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from kombu.exceptions import OperationalError

from marketplace import emails
from marketplace.models import Match, MatchStatus
from marketplace.services import matches
from notifications.models import Notification, NotificationKind, OutboxTask
from notifications.outbox import outbox_flush
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


def _due() -> list[tuple[str, dict]]:
    return list(OutboxTask.objects.values_list("task", "kwargs"))


def test_the_introduction_writes_one_outbox_row_that_is_sent_after_the_commit(
    suggested, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        matches.match_introduce(match=suggested, user=suggested.seeker.user)
    assert _due() == [("marketplace.introduction_emails", {"match_id": suggested.pk})]
    assert mail.outbox == [] and callbacks.count(outbox_flush) == 1  # nothing before the commit
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert _due() == [] and sorted(message.to[0] for message in mail.outbox) == sorted(
        [suggested.seeker.user.email, suggested.provider.user.email]
    )


def test_with_a_broker_the_request_publishes_nothing_and_the_flush_publishes_the_task(
    suggested, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        matches.match_introduce(match=suggested, user=suggested.seeker.user)
    assert outbox_flush not in callbacks and not broker.called and mail.outbox == []
    assert _due() == [("marketplace.introduction_emails", {"match_id": suggested.pk})]
    assert outbox_flush() == 1 and _due() == []
    broker.assert_called_once()
    assert broker.call_args.args[0] == "marketplace.introduction_emails"
    assert broker.call_args.args[2] == {"match_id": suggested.pk}


def test_a_rolled_back_introduction_queues_and_sends_nothing(suggested, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(emails.introduction_emails, "apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        matches.match_introduce(match=suggested, user=suggested.seeker.user)
        raise RuntimeError("the request failed after the introduction")

    assert callbacks == [] and not queued.called and mail.outbox == [] and _due() == []
    suggested.refresh_from_db()
    assert suggested.status == MatchStatus.SUGGESTED
    assert not Notification.objects.filter(kind=NotificationKind.INTRODUCTION).exists()


def test_a_broker_that_is_down_leaves_the_introduction_standing_and_its_emails_due(suggested, broker, caplog):
    broker.side_effect = OperationalError("no broker")
    match = matches.match_introduce(match=suggested, user=suggested.seeker.user)
    assert match.status == MatchStatus.INTRODUCED
    assert outbox_flush() == 0 and "Could not send the outbox's tasks" in caplog.text
    assert _due() == [("marketplace.introduction_emails", {"match_id": suggested.pk})]
    broker.side_effect = None  # back: the next flush sends it
    assert outbox_flush() == 1 and _due() == [] and broker.call_args.args[2] == {"match_id": suggested.pk}
