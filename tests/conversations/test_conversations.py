"""Conversations: a thread per introduced match, only for its two sides; unread counts; one email per unread streak."""

import json
from unittest import mock

import pytest
from django.core import mail
from django.http import QueryDict
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

from conversations import services, tasks
from conversations.api.serializers import MessagePostSerializer, MessageSerializer, message_answer, posted_body
from conversations.errors import ThreadClosed
from conversations.models import Message
from conversations.selectors import threads_of
from imatch.errors import DomainError, NotFound
from marketplace.models import MatchStatus
from marketplace.services import engagements, matches
from notifications.models import Notification, NotificationKind
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def category():
    return make_category()


@pytest.fixture
def introduced(category):
    seeker = make_seeker(category)
    make_provider(category, business_name="Reyes Planning")
    [match] = matches.match_run_for_seeker(seeker=seeker)
    return matches.match_introduce(match=match, user=seeker.user)


def sides(match):
    return match.seeker.user, match.provider.user


def test_the_two_sides_write_and_read_with_unread_counts(introduced):
    seeker, provider = sides(introduced)
    services.message_post(match_id=introduced.pk, user=seeker, body="  Can we talk on Tuesday?  ")
    services.message_post(match_id=introduced.pk, user=seeker, body="Any time after 3 pm.")

    [thread] = threads_of(user=provider)
    assert thread.pk == introduced.pk and thread.unread == 2 and thread.last_message_at is not None
    assert threads_of(user=seeker).get().unread == 0
    assert Message.objects.filter(match=introduced).first().body == "Can we talk on Tuesday?"

    assert services.thread_mark_read(match_id=introduced.pk, user=provider) == 2
    assert threads_of(user=provider).get().unread == 0
    reply = services.message_post(match_id=introduced.pk, user=provider, body="Tuesday 4 pm works.")
    assert reply.recipient == seeker and reply.read_at is None


@pytest.mark.parametrize(
    ("body", "code"), [("", "required"), ("   \u200b ", "required"), ("x" * (Message.BODY_MAX + 1), "too_long")]
)
def test_an_empty_or_too_long_message_is_refused(introduced, body, code):
    with pytest.raises(DomainError) as refused:
        services.message_post(match_id=introduced.pk, user=introduced.seeker.user, body=body)
    assert refused.value.code == code and refused.value.field == "body"
    assert not Message.objects.exists()


def test_a_declined_match_keeps_a_read_only_thread(introduced):
    seeker, provider = sides(introduced)
    services.message_post(match_id=introduced.pk, user=seeker, body="Hello")
    matches.match_decline(match=introduced, user=provider, reason="Booked")
    with pytest.raises(ThreadClosed):
        services.message_post(match_id=introduced.pk, user=seeker, body="Too bad")
    page = browser_of(seeker).get(reverse("thread", args=[introduced.pk])).content.decode()
    assert "Hello" in page and "the conversation is closed" in page
    response = client_for(seeker).post(f"/api/v1/threads/{introduced.pk}/messages/", {"body": "Hi"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "thread_closed"


def test_nobody_else_reads_or_writes_a_thread(introduced, category):
    seeker, _ = sides(introduced)
    services.message_post(match_id=introduced.pk, user=seeker, body="Private plans")
    stranger, operator = UserFactory(), UserFactory(is_staff=True)
    other_pair = make_seeker(category)  # a seeker of the same category with a thread of their own
    for person in (stranger, operator, other_pair.user):
        with pytest.raises(NotFound):
            services.message_post(match_id=introduced.pk, user=person, body="Let me in")
        browser = browser_of(person)
        assert browser.get(reverse("thread", args=[introduced.pk])).status_code == 404
        assert browser.post(reverse("thread", args=[introduced.pk]), {"body": "Hi"}).status_code == 404
        assert "Private plans" not in browser.get(reverse("threads")).content.decode()
        api = client_for(person)
        for path in (f"/api/v1/threads/{introduced.pk}/", f"/api/v1/threads/{introduced.pk}/messages/"):
            assert api.get(path).status_code == 404
        assert api.post(f"/api/v1/threads/{introduced.pk}/read/").status_code == 404
        assert api.get("/api/v1/threads/").json()["count"] == 0
    assert Message.objects.count() == 1


def test_a_suggested_match_has_no_thread(category):
    seeker = make_seeker(category)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    assert browser_of(seeker.user).get(reverse("thread", args=[match.pk])).status_code == 404
    with pytest.raises(NotFound):
        services.message_post(match_id=match.pk, user=seeker.user, body="Hi")


# --- The page ------------------------------------------------------------------------------


def test_the_thread_page_escapes_text_marks_read_and_shows_the_email_only_after_acceptance(introduced):
    seeker, provider = sides(introduced)
    services.message_post(match_id=introduced.pk, user=seeker, body='<script>alert("x")</script> & more')
    browser = browser_of(provider)
    page = browser.get(reverse("thread", args=[introduced.pk])).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in page and "<script>alert" not in page
    assert seeker.email not in page and "accept the introduction to share emails" in page
    assert Message.objects.get().read_at is not None  # opening the thread read it

    matches.match_accept(match=introduced, user=provider)
    assert seeker.email in browser.get(reverse("thread", args=[introduced.pk])).content.decode()
    assert provider.email in browser_of(seeker).get(reverse("thread", args=[introduced.pk])).content.decode()


def test_posting_from_the_page_and_a_form_error_next_to_the_field(introduced):
    seeker, provider = sides(introduced)
    browser = browser_of(seeker)
    response = browser.post(reverse("thread", args=[introduced.pk]), {"body": "Hello Brett"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("thread", args=[introduced.pk])
    assert "Hello Brett" in response.content.decode()
    response = browser.post(reverse("thread", args=[introduced.pk]), {"body": "x" * (Message.BODY_MAX + 1)})
    assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
    assert Message.objects.count() == 1
    threads = browser_of(provider).get(reverse("threads")).content.decode()
    assert 'data-testid="thread-unread">1 new<' in threads


def test_page_query_counts_are_pinned(introduced, category, django_assert_num_queries):
    seeker, provider = sides(introduced)
    browser = browser_of(provider)
    browser.get(reverse("threads"))  # warm the session
    services.message_post(match_id=introduced.pk, user=seeker, body="One")
    with django_assert_num_queries(10) as thread_queries:
        browser.get(reverse("thread", args=[introduced.pk]))
    with django_assert_num_queries(4) as list_queries:
        browser.get(reverse("threads"))
    for number in range(15):
        services.message_post(match_id=introduced.pk, user=seeker, body=f"Message {number}")
    more = make_seeker(category)
    for match in matches.match_run_for_seeker(seeker=more):
        matches.match_introduce(match=match, user=more.user)
    with django_assert_num_queries(len(thread_queries.captured_queries)):
        browser.get(reverse("thread", args=[introduced.pk]))
    with django_assert_num_queries(len(list_queries.captured_queries)):
        assert browser.get(reverse("threads")).status_code == 200


# --- Notifications and the new-message email ----------------------------------------------


def test_one_notification_and_one_email_per_unread_streak_inline(introduced, django_capture_on_commit_callbacks):
    seeker, provider = sides(introduced)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(match_id=introduced.pk, user=seeker, body="First")
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(match_id=introduced.pk, user=seeker, body="Second")
        services.message_post(match_id=introduced.pk, user=seeker, body="Third")
    assert [email.to for email in mail.outbox] == [[provider.email]]  # not one per message
    assert mail.outbox[0].subject == f"I MATCH: a new message from {seeker.name}"
    assert f"/conversations/{introduced.pk}/" in mail.outbox[0].body
    assert Notification.objects.filter(user=provider, kind=NotificationKind.NEW_MESSAGE).count() == 1

    services.thread_mark_read(match_id=introduced.pk, user=provider)  # a new streak starts after reading
    assert not Notification.objects.filter(user=provider, read_at__isnull=True, kind="new_message").exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(match_id=introduced.pk, user=seeker, body="Fourth")
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(user=provider, kind=NotificationKind.NEW_MESSAGE).count() == 2


@override_settings(MESSAGE_EMAIL_DELAY_MINUTES=5)
def test_with_a_broker_the_email_waits_and_is_not_sent_if_read(introduced, django_capture_on_commit_callbacks):
    seeker, provider = sides(introduced)
    mail.outbox.clear()
    with (
        mock.patch.object(tasks.unread_message_email, "apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = services.message_post(match_id=introduced.pk, user=seeker, body="First")
        services.message_post(match_id=introduced.pk, user=seeker, body="Second")
    queued.assert_called_once_with(
        kwargs={"message_id": first.pk}, countdown=300, argsrepr="()", kwargsrepr=repr({"message_id": first.pk})
    )

    services.thread_mark_read(match_id=introduced.pk, user=provider)  # read within the delay
    with django_capture_on_commit_callbacks(execute=True):
        tasks.unread_message_email(message_id=first.pk)  # the worker runs it after the countdown
    assert mail.outbox == []


def test_the_delayed_email_counts_what_is_still_unread(introduced, django_capture_on_commit_callbacks):
    seeker, provider = sides(introduced)
    with mock.patch.object(tasks.unread_message_email, "apply_async"):
        first = services.message_post(match_id=introduced.pk, user=seeker, body="First")
        services.message_post(match_id=introduced.pk, user=seeker, body="Second")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.unread_message_email(message_id=first.pk)
    [email] = mail.outbox
    assert email.to == [provider.email] and email.subject == f"I MATCH: 2 new messages from {seeker.name}"


# --- API -----------------------------------------------------------------------------------


def test_the_api_lists_threads_reads_posts_and_marks_read(introduced):
    seeker, provider = sides(introduced)
    seeker_api, provider_api = client_for(seeker), client_for(provider)
    posted = seeker_api.post(f"/api/v1/threads/{introduced.pk}/messages/", {"body": "Hello"}, format="json")
    assert posted.status_code == 201 and posted.json()["body"] == "Hello" and posted.json()["sender"] == seeker.pk

    [thread] = provider_api.get("/api/v1/threads/").json()["results"]
    assert thread["id"] == introduced.pk and thread["unread"] == 1 and thread["contact"] is None
    assert thread["other_name"] == seeker.name and thread["can_post"] is True
    messages = provider_api.get(f"/api/v1/threads/{introduced.pk}/messages/").json()
    assert [m["body"] for m in messages["results"]] == ["Hello"] and messages["results"][0]["read_at"] is None
    assert provider_api.post(f"/api/v1/threads/{introduced.pk}/read/").json() == {"marked_read": 1}
    assert provider_api.get(f"/api/v1/threads/{introduced.pk}/").json()["unread"] == 0

    refused = seeker_api.post(f"/api/v1/threads/{introduced.pk}/messages/", {"body": ""}, format="json")
    assert refused.status_code == 400 and "body" in refused.json()["fields"]
    too_long = seeker_api.post(
        f"/api/v1/threads/{introduced.pk}/messages/", {"body": "x" * (Message.BODY_MAX + 1)}, format="json"
    )
    assert too_long.status_code == 400 and "body" in too_long.json()["fields"]

    matches.match_accept(match=introduced, user=provider)
    assert seeker_api.get(f"/api/v1/threads/{introduced.pk}/").json()["contact"] == provider.email
    assert introduced.__class__.objects.get(pk=introduced.pk).status == MatchStatus.ACCEPTED


def test_operators_read_threads_in_the_admin_read_only(introduced):
    seeker, _ = sides(introduced)
    message = services.message_post(match_id=introduced.pk, user=seeker, body="For the record")
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert "For the record" in admin.get(f"/admin/conversations/message/{message.pk}/change/").content.decode()
    assert admin.get("/admin/conversations/message/add/").status_code == 403
    assert admin.post(f"/admin/conversations/message/{message.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Message.objects.filter(pk=message.pk).exists()


def test_an_engaged_match_still_links_to_its_thread_on_both_sides(introduced):
    seeker, provider = sides(introduced)
    matches.match_accept(match=introduced, user=provider)
    engagements.engagement_report(match=introduced, user=seeker, deal_value_usd="900.00")
    thread = reverse("thread", args=[introduced.pk])
    assert thread in browser_of(seeker).get(reverse("matches")).content.decode()
    assert thread in browser_of(provider).get(reverse("leads")).content.decode()


# --- A post written out (one statement on PostgreSQL): what it writes and returns is the ORM's ----


def test_a_post_returns_the_row_it_wrote_whether_it_starts_or_continues_a_streak(introduced):
    # On PostgreSQL the first goes through the transaction, the second is one statement.
    seeker, provider = sides(introduced)
    fields = [field.attname for field in Message._meta.concrete_fields]
    for body in ("Starts the streak", "  Continues it  "):
        message = services.message_post(match_id=introduced.pk, user=seeker, body=body)
        stored = Message.objects.get(pk=message.pk)
        assert [getattr(message, name) for name in fields] == [getattr(stored, name) for name in fields]
        assert (stored.match_id, stored.sender_id, stored.recipient_id) == (introduced.pk, seeker.pk, provider.pk)
        assert stored.body == body.strip() and stored.read_at is None and not message._state.adding
        assert message.sender is seeker and message.match.pk == introduced.pk  # loaded, as create() keeps them
    assert Notification.objects.filter(user=provider, kind=NotificationKind.NEW_MESSAGE).count() == 1


# --- The API's post: its body checked and its answer written without serializers, as theirs ----


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Kolkata"])
def test_the_posts_answer_is_the_serializers(introduced, zone):
    seeker, _ = sides(introduced)
    services.message_post(match_id=introduced.pk, user=seeker, body="Hello")
    services.thread_mark_read(match_id=introduced.pk, user=introduced.provider.user)
    for message in Message.objects.select_related("sender"):
        with timezone.override(zone):
            fast, drf = message_answer(message), MessageSerializer(message).data
        assert list(fast) == list(drf) and JSONRenderer().render(fast) == JSONRenderer().render(drf)
    assert message.read_at is not None  # both dates written


def test_the_apis_answers_are_the_serializers_of_the_stored_rows(introduced):
    seeker, _ = sides(introduced)
    api, path = client_for(seeker), f"/api/v1/threads/{introduced.pk}/messages/"
    for body in ("First", "Second"):  # starts a streak, then continues it
        answer = api.post(path, {"body": body}, format="json")
        stored = Message.objects.select_related("sender").get(pk=answer.json()["id"])
        assert answer.status_code == 201 and answer.json() == json.loads(
            JSONRenderer().render(MessageSerializer(stored).data)
        )


POSTED = [
    {"body": "Hello"},
    {"body": "  Hello \n"},
    {"body": "Hi", "other": 1},
    {"body": "x" * Message.BODY_MAX},
    {"body": " " + "x" * Message.BODY_MAX + " "},
    {"body": "x" * (Message.BODY_MAX + 1)},
    {"body": ""},
    {"body": " \t "},
    {"body": None},
    {},
    {"body": 42},
    {"body": 4.5},
    {"body": True},
    {"body": ["Hello"]},
    {"body": {"text": "Hello"}},
    {"body": "a\x00b"},
    {"body": "a\ud800b"},
    {"body": "\u00e9t\u00e9 \U0001f600"},
    [],
    "Hello",
    None,
]


@pytest.mark.parametrize("data", [*POSTED, "form: body=Hello", "form: body=", "form: "], ids=repr)
def test_a_posted_body_is_what_the_serializer_validates(data):
    if isinstance(data, str) and data.startswith("form: "):
        data = QueryDict(data.removeprefix("form: "))
    serializer = MessagePostSerializer(data=data)
    if serializer.is_valid():
        assert posted_body(data) == serializer.validated_data["body"]
    else:
        with pytest.raises(ValidationError) as refused:
            posted_body(data)
        assert refused.value.detail == serializer.errors
        assert [detail.code for details in refused.value.detail.values() for detail in details] == [
            detail.code for details in serializer.errors.values() for detail in details
        ]
