"""Background work through Celery: inline without a broker, the email task, the hourly matching task."""

import logging
from unittest import mock

import pytest
from celery.exceptions import Retry
from celery.schedules import crontab
from celery.signals import before_task_publish
from django.core import mail
from django.db import transaction
from kombu.exceptions import OperationalError

from imatch.celery import app as celery_app
from imatch.mail import RETRY_BACKOFF_SECONDS, SEND_RETRIES, send_email, send_email_on_commit
from imatch.request_id import request_id_var
from marketplace.models import Match, MatchStatus
from marketplace.services import matches
from marketplace.tasks import run_matching
from tests.marketplace.loop import hours_ago, make_category, make_provider, make_seeker

MESSAGE = {"subject": "Hello", "body": "A line.\n", "to": ["dana@example.com"], "about": "greeting"}


def test_without_a_broker_tasks_run_inline(settings):
    assert settings.CELERY_BROKER_URL == ""
    assert celery_app.conf.task_always_eager is True
    send_email.delay(**MESSAGE)
    assert [(m.subject, m.to, m.body) for m in mail.outbox] == [("Hello", ["dana@example.com"], "A line.\n")]


@pytest.mark.django_db(transaction=True)
def test_the_email_is_queued_only_once_the_transaction_commits():
    with transaction.atomic():
        send_email_on_commit(**MESSAGE)
        assert mail.outbox == []  # not before the commit
    assert len(mail.outbox) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        send_email_on_commit(**MESSAGE)
        raise RuntimeError("the action is refused")
    assert len(mail.outbox) == 1  # a rolled-back action sends nothing


@pytest.mark.django_db(transaction=True)
def test_inline_an_email_task_logs_neither_its_address_nor_its_body(caplog):
    # Celery's trace logs a task's arguments; kwargsrepr hides them only for a queued task.
    caplog.set_level(logging.DEBUG)
    send_email_on_commit(**{**MESSAGE, "body": "Your link: https://example.com/reset/secret-token/"})
    assert len(mail.outbox) == 1
    assert "Sent the greeting email" in caplog.text
    # What the JSON log line would carry: the message and Celery's context (`data`).
    logged = [f"{record.getMessage()} {getattr(record, 'data', '')}" for record in caplog.records]
    assert not [line for line in logged if "dana@example.com" in line or "secret-token" in line]


def test_a_failing_mail_server_inline_is_logged_not_raised(caplog):
    with mock.patch("imatch.mail.EmailMessage.send", side_effect=ConnectionRefusedError("smtp down")):
        send_email.delay(**MESSAGE)
    assert "Could not send the greeting email" in caplog.text


def test_a_worker_retries_a_failing_mail_server_with_backoff_then_gives_up(caplog):
    with mock.patch("imatch.mail.EmailMessage.send", side_effect=ConnectionRefusedError("smtp down")):
        for retries in range(SEND_RETRIES):
            send_email.push_request(is_eager=False, retries=retries)
            try:
                with mock.patch.object(send_email, "retry", side_effect=Retry) as retry, pytest.raises(Retry):
                    send_email.run(**MESSAGE)
                assert retry.call_args.kwargs["countdown"] == RETRY_BACKOFF_SECONDS * 2**retries
            finally:
                send_email.pop_request()
        send_email.push_request(is_eager=False, retries=SEND_RETRIES)
        try:
            send_email.run(**MESSAGE)  # the last try: logged, no retry
        finally:
            send_email.pop_request()
    assert "Could not send the greeting email" in caplog.text


@pytest.mark.django_db
def test_a_broker_that_is_down_loses_the_email_but_not_the_action(django_capture_on_commit_callbacks, caplog):
    with (
        mock.patch.object(send_email, "apply_async", side_effect=OperationalError("broker down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_email_on_commit(**MESSAGE)
    assert "Could not queue the greeting email" in caplog.text and mail.outbox == []


def test_the_request_id_travels_with_a_queued_task():
    token = request_id_var.set("req-42")
    try:
        headers: dict = {}
        before_task_publish.send(sender="imatch.send_email", headers=headers, body=(), exchange="", routing_key="")
        assert headers == {"request_id": "req-42"}
    finally:
        request_id_var.reset(token)


def test_matching_and_expiry_run_hourly_on_beat():
    celery_app.loader.import_default_modules()
    entry = celery_app.conf.beat_schedule["matching-hourly"]
    assert entry["task"] == run_matching.name and run_matching.name in celery_app.tasks
    assert entry["schedule"] == crontab(minute=0)


@pytest.mark.django_db
def test_the_matching_task_expires_stale_introductions_and_matches_every_active_category(caplog):
    planners = make_category(matches_per_request=1)
    coaches = make_category(name="coaches", display_name="Coaches")
    closed = make_category(name="closed", display_name="Closed")
    introduced = make_seeker(planners)
    first, second = make_provider(planners), make_provider(planners)
    [match] = matches.match_run_for_seeker(seeker=introduced)
    matches.match_introduce(match=match, user=introduced.user)
    Match.objects.filter(pk=match.pk).update(introduced_at=hours_ago(80))
    waiting = make_seeker(coaches)
    make_provider(coaches)
    make_provider(closed)
    idle = make_seeker(closed)
    closed.active = False
    closed.save(update_fields=["active"])

    with caplog.at_level(logging.INFO, logger="marketplace.tasks"):
        totals = run_matching.delay().get()

    assert Match.objects.get(pk=match.pk).status == MatchStatus.EXPIRED
    replacement = Match.objects.exclude(pk=match.pk).get(seeker=introduced)
    assert {replacement.provider_id, match.provider_id} == {first.pk, second.pk}
    assert Match.objects.filter(seeker=waiting).count() == 1
    assert not Match.objects.filter(seeker=idle).exists()  # an inactive category is not matched
    assert totals == {"lapsed": 0, "expired": 1, "seekers": 1, "matched": 1, "matches": 1, "unmatched": 0}
    assert "1 introductions expired, 1 new matches" in caplog.text


def test_the_celery_settings_read_on_each_publish_are_celery_s_defaults(settings):
    """settings.py writes them out only so that a publish finds them at once: they change nothing."""
    from celery.app.defaults import DEFAULTS

    for name in ("task_default_queue", "task_send_sent_event", "broker_pool_acquire_timeout"):
        assert getattr(settings, f"CELERY_{name.upper()}") == DEFAULTS[name] == celery_app.conf[name]
