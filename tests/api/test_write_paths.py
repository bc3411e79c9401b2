"""The writes of issue 11 stay cheap (bench/request_cost.py): an introduction reads its match once,
locked, and checks access on that row; a message post reads its thread and the unread streak in
one query; a spend reads its body without a serializer and inserts its purchase with a written-out
INSERT. Query counts are pinned; who may write and what they are told do not change."""

from unittest import mock

import pytest
from django.core import mail
from django.db import connection

from conversations.models import Message
from marketplace.api.serializers import MatchSerializer
from marketplace.models import Match, MatchStatus
from marketplace.services import matches
from notifications.models import Notification, NotificationKind
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import suggested_match

pytestmark = pytest.mark.django_db


@pytest.fixture
def suggested():
    return suggested_match()


def test_an_introduction_reads_its_match_once_and_refuses_others(
    suggested, django_assert_num_queries, django_capture_on_commit_callbacks
):
    seeker, provider = suggested.seeker.user, suggested.provider.user
    path = f"/api/v1/matches/{suggested.pk}/introduce/"
    # The provider does not see a suggestion yet, a stranger never: 404 for both, nothing changes.
    for person in (provider, UserFactory()):
        response = client_for(person).post(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client_for(seeker).post("/api/v1/matches/999999/introduce/").status_code == 404
    suggested.refresh_from_db()
    assert suggested.status == MatchStatus.SUGGESTED
    assert not Notification.objects.filter(kind=NotificationKind.INTRODUCTION).exists()

    api = client_for(seeker)
    # token and user, the match locked with both sides and the category, its update, the two
    # notifications in one insert, the emails' outbox row (plus the savepoint and its release of the
    # service's transaction inside the test's); the outbox's flush, run inline at commit, reads
    # and sends outside this count
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(7):
        response = api.post(path)
    assert response.status_code == 200
    assert response.json()["status"] == MatchStatus.INTRODUCED and response.json()["id"] == suggested.pk
    assert {n.user_id for n in Notification.objects.filter(kind=NotificationKind.INTRODUCTION)} == {
        seeker.pk,
        provider.pk,
    }
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == ["I MATCH: a new lead in Retirement Planners", "I MATCH: you asked to meet Reyes Planning"]
    assert "Reyes Planning (Retirement Planners)" in next(m.body for m in mail.outbox if m.to == [seeker.email])
    again = client_for(seeker).post(path)  # introduced once
    assert again.status_code == 400 and again.json()["code"] == "invalid_transition"


def test_a_message_post_reads_its_thread_once_and_notifies_once_per_unread_streak(
    suggested, django_assert_num_queries, django_capture_on_commit_callbacks
):
    seeker, provider = suggested.seeker.user, suggested.provider.user
    matches.match_introduce(match=suggested, user=seeker)
    Notification.objects.all().delete()
    path = f"/api/v1/threads/{suggested.pk}/messages/"
    for person in (UserFactory(), UserFactory(is_staff=True)):
        assert client_for(person).post(path, {"body": "Let me in"}, format="json").status_code == 404
    assert not Message.objects.exists()

    api = client_for(seeker)
    # token and user, the thread with the streak, the message, its notification (+ savepoint, release)
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(6):
        first = api.post(path, {"body": "Hello! Thursday?"}, format="json")
    assert first.status_code == 201
    body = first.json()
    assert body["sender"] == seeker.pk and body["sender_name"] == seeker.name and body["body"] == "Hello! Thursday?"
    assert set(body) == {"id", "sender", "sender_name", "body", "created_at", "read_at"} and body["read_at"] is None
    [notice] = Notification.objects.all()
    assert notice.user_id == provider.pk and notice.kind == NotificationKind.NEW_MESSAGE
    assert "Retirement Planners" in notice.text and seeker.name in notice.text
    message = Message.objects.get(pk=body["id"])
    assert (message.sender_id, message.recipient_id) == (seeker.pk, provider.pk)

    # The streak goes on (the provider has not read): no second notification, one query less; on
    # PostgreSQL the thread's read and the insert are one statement, in no savepoint of its own.
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 5):
        assert api.post(path, {"body": "Or Friday?"}, format="json").status_code == 201
    assert Notification.objects.count() == 1

    # The provider answers: their first unread message to the seeker notifies the seeker.
    reply = client_for(provider).post(path, {"body": "Thursday 4 pm."}, format="json")
    assert reply.status_code == 201 and Message.objects.get(pk=reply.json()["id"]).recipient_id == seeker.pk
    assert Notification.objects.filter(user=seeker).count() == 1


def _serialized(match_id: int, viewer) -> dict:
    match = Match.objects.select_related("category", "seeker__user", "provider__user").get(pk=match_id)
    data = MatchSerializer(match, context={"request": mock.Mock(user=viewer)}).data
    return dict(data, seeker=dict(data["seeker"]), provider=dict(data["provider"]))


def test_the_answers_of_introduce_accept_and_decline_are_the_serializers(suggested):
    seeker, provider = suggested.seeker.user, suggested.provider.user
    path = f"/api/v1/matches/{suggested.pk}"

    introduced = client_for(seeker).post(f"{path}/introduce/")
    assert introduced.status_code == 200 and introduced.json() == _serialized(suggested.pk, seeker)
    accepted = client_for(provider).post(f"{path}/accept/")
    assert accepted.status_code == 200 and accepted.json() == _serialized(suggested.pk, provider)
    assert accepted.json()["contact"] == seeker.email
    declined = client_for(seeker).post(f"{path}/decline/", {"reason": "Found someone nearer."}, format="json")
    assert declined.status_code == 200 and declined.json() == _serialized(suggested.pk, seeker)
    assert declined.json()["decline_reason"] == "Found someone nearer."


# --- A spend: its body read without a serializer, its purchase written out -----------------

SPEND_OPTIONS = [
    "extra_matches",
    "a",
    "a" * 64,
    "a" * 65,
    "x-y_Z9",
    "-",
    "",
    " ",
    " extra_matches",
    "extra_matches\n",
    "extra matches",
    "extrà",
    "ｅxtra",  # a fullwidth letter: not a slug
    "٣",  # an Arabic-Indic digit: not [0-9]
    123,
    12.5,
    True,
    None,
    [],
    {},
]
SPEND_COSTS = [
    1,
    200,
    10**12,
    0,
    -1,
    10**12 + 1,
    10**30,
    True,
    False,
    None,
    "200",
    " 200 ",
    "2e2",
    200.0,
    200.5,
    "lots",
    [],
]


def _serializer_reading(data):
    from currency.api.serializers import SpendRequestSerializer

    serializer = SpendRequestSerializer(data=data)
    if not serializer.is_valid():
        return "refused", serializer.errors
    return "read", (serializer.validated_data["option"], serializer.validated_data.get("expected_cost"))


def _fast_reading(data):
    from rest_framework.exceptions import ValidationError

    from currency.api.serializers import spend_request

    try:
        return "read", spend_request(data)
    except ValidationError as refusal:
        return "refused", refusal.detail


def test_a_spend_body_is_read_as_the_serializer_reads_it():
    from django.http import QueryDict

    bodies = [{"option": option} for option in SPEND_OPTIONS]
    bodies += [{"option": option, "expected_cost": cost} for option in SPEND_OPTIONS for cost in SPEND_COSTS]
    bodies += [{}, {"expected_cost": 200}, {"option": "extra_matches", "note": "more keys are left out"}]
    bodies += [None, [], "extra_matches", 7, QueryDict("option=extra_matches&expected_cost=200")]
    for body in bodies:
        fast, drf = _fast_reading(body), _serializer_reading(body)
        assert fast == drf, body
        if fast[0] == "read":  # the same types too: a cost of 200.0 is read as the whole number 200
            assert [type(value) for value in fast[1]] == [type(value) for value in drf[1]], body


def test_a_spend_purchase_is_the_row_the_orm_writes():
    from datetime import timedelta
    from decimal import Decimal

    from django.db import IntegrityError, connection, transaction
    from django.forms.models import model_to_dict
    from django.utils import timezone

    from currency.ledger import ledger_post
    from currency.models import ProPeriod, Purchase, SpendOption, TransactionType
    from imatch.db import instance_insert
    from tests.currency.factories import pot_fund

    user, option = UserFactory(), SpendOption.objects.get(key="profile_boost")
    pot_fund(user, 1000)
    now = timezone.now()

    def spend_row():
        return ledger_post(
            user_id=user.pk, amount=-option.cost, transaction_type=TransactionType.SPEND, category=option.key
        )

    def purchase(row) -> Purchase:
        return Purchase(
            user=user,
            option=option,
            transaction=row,
            effect=option.effect,
            cost=option.cost,
            starts_at=now,
            ends_at=now + timedelta(days=7),
            credit_usd=Decimal("12.50"),
            created_at=now,
        )

    saved = purchase(spend_row())
    saved.save(force_insert=True)
    written = instance_insert(purchase(spend_row()))
    assert written.pk and written.pk != saved.pk and not written._state.adding and written._state.db == "default"
    stored = {row.pk: model_to_dict(row, exclude=["id", "transaction"]) for row in Purchase.objects.all()}
    assert stored[written.pk] == stored[saved.pk] == model_to_dict(saved, exclude=["id", "transaction"])

    # Refused as save() refuses, or left to save(): an unsaved related row, a saved instance, a proxy
    # (on rows that are not spends: nothing is written for them).
    unsaved = purchase(pot_fund(user, 10))
    unsaved.user = UserFactory.build()
    with pytest.raises(ValueError, match="unsaved related object"):
        instance_insert(unsaved)
    with pytest.raises(ValueError, match="pk is set"):
        instance_insert(written)
    with pytest.raises(ValueError, match="proxy"):
        instance_insert(ProPeriod(user=user, option=option, transaction=pot_fund(user, 10), cost=1))
    # A database error marks the transaction for rollback, as a failed save() does.
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            instance_insert(purchase(written.transaction))  # one purchase per ledger row
        assert connection.needs_rollback  # the block is rolled back as it ends
