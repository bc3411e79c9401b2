"""An introduction in no transaction is one statement on PostgreSQL (`matches._introduce_in_one_statement`):
the same rows (the emails' outbox row among them), answer, emails and refusals as the general path
(`matches._match_introduce`), which still decides every refusal; inside a transaction only the general
path runs."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from marketplace import emails
from marketplace.errors import InvalidTransition
from marketplace.models import Match, MatchStatus
from marketplace.services import matches
from notifications.models import Notification, NotificationKind, OutboxTask
from notifications.outbox import outbox_flush
from notifications.selectors import unread_count_kept
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import suggested_match

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_verify")]

ONE_STATEMENT = "WITH introduced AS"
STORED = ("status", "seeker_id", "provider_id", "category_id", "score", "rank", "declined_by_id", "responded_at")


@pytest.fixture
def suggested():
    return suggested_match()


def _statements(queries) -> list[str]:
    """The introductions' writes among captured queries: the one statement, or the general path's UPDATE."""
    return [
        "one statement" if query["sql"].startswith(ONE_STATEMENT) else "general path"
        for query in queries
        if query["sql"].startswith((ONE_STATEMENT, 'UPDATE "matches"'))
    ]


def _introduced(match: Match) -> tuple:
    """What an introduction left: the match's row, its notifications, the emails (ids and times aside)."""
    stored = Match.objects.filter(pk=match.pk).values(*STORED, "introduced_at", "updated_at").get()
    assert stored["introduced_at"] is not None and stored["updated_at"] >= stored["introduced_at"]
    written = Notification.objects.filter(kind=NotificationKind.INTRODUCTION).order_by("id")
    assert all(
        stored["introduced_at"] <= created_at < stored["introduced_at"] + timedelta(seconds=5)
        for created_at in written.values_list("created_at", flat=True)
    )
    notices = list(written.values_list("user_id", "kind", "text", "link", "read_at"))
    sent = sorted((message.to[0], message.subject, message.body) for message in mail.outbox)
    return {name: stored[name] for name in STORED}, notices, sent


def _due(match: Match) -> list[tuple[str, dict]]:
    """The outbox's rows (queued at the introduction's time), before a flush sends them."""
    introduced_at = Match.objects.values_list("introduced_at", flat=True).get(pk=match.pk)
    rows = OutboxTask.objects.order_by("id").values_list("task", "kwargs", "queued_at")
    assert all(introduced_at <= queued_at < introduced_at + timedelta(seconds=5) for _, _, queued_at in rows)
    return [(task, kwargs) for task, kwargs, _ in rows]


def _suggested_again(match: Match) -> None:
    """The match as it was before its introduction, with no introduction's notification, outbox row or email."""
    Match.objects.filter(pk=match.pk).update(status=MatchStatus.SUGGESTED, introduced_at=None)
    Notification.objects.filter(kind=NotificationKind.INTRODUCTION).delete()
    OutboxTask.objects.all().delete()
    mail.outbox.clear()


def test_the_one_statement_writes_and_answers_what_the_general_path_does(suggested, monkeypatch, settings):
    seeker, provider = suggested.seeker.user, suggested.provider.user
    api, url = client_for(seeker), f"/api/v1/matches/{suggested.pk}/introduce/"
    outcomes = {}
    for one_statement in (True, False):
        monkeypatch.setattr(matches, "ONE_STATEMENT_INTRODUCTIONS", one_statement)
        _suggested_again(suggested)
        settings.CELERY_TASK_ALWAYS_EAGER = False  # as with a broker: the row waits for a flush
        with CaptureQueriesContext(connection) as queries:
            response = api.post(url)
        assert response.status_code == 200
        answer = response.json()
        assert answer["status"] == MatchStatus.INTRODUCED and answer.pop("introduced_at")
        assert _statements(queries) == ["one statement" if one_statement else "general path"]
        due = _due(suggested)
        assert mail.outbox == []
        settings.CELERY_TASK_ALWAYS_EAGER = True  # the flush runs the task inline, as without a broker
        assert outbox_flush() == 1 and not OutboxTask.objects.exists()
        outcomes[one_statement] = (answer, *_introduced(suggested), due)
    assert outcomes[True] == outcomes[False]
    answer, _, notices, emails, due = outcomes[True]
    assert notices == [
        (seeker.pk, "introduction", "You asked to meet Reyes Planning", f"/conversations/{suggested.pk}/", None),
        (provider.pk, "introduction", "A new lead in Retirement Planners", "/leads/", None),
    ]
    assert due == [("marketplace.introduction_emails", {"match_id": suggested.pk})]
    assert [to for to, _, _ in emails] == sorted([seeker.email, provider.email])


def test_without_a_broker_the_emails_leave_the_outbox_once_the_statement_has_run(suggested):
    seeker, provider = suggested.seeker.user, suggested.provider.user
    with CaptureQueriesContext(connection) as queries:
        assert client_for(seeker).post(f"/api/v1/matches/{suggested.pk}/introduce/").status_code == 200
    assert _statements(queries) == ["one statement"]
    assert sorted(message.to[0] for message in mail.outbox) == sorted([seeker.email, provider.email])
    assert not OutboxTask.objects.exists()


def test_a_provider_name_with_percent_signs_and_a_long_one_are_written_as_the_general_path_writes(
    suggested, monkeypatch
):
    seeker = suggested.seeker.user
    texts = {}
    for business_name in ("100% Fee-only %s Planning", "R" * 200):
        suggested.provider.__class__.objects.filter(pk=suggested.provider_id).update(business_name=business_name)
        for one_statement in (True, False):
            monkeypatch.setattr(matches, "ONE_STATEMENT_INTRODUCTIONS", one_statement)
            _suggested_again(suggested)
            matches.match_introduce(match=suggested.pk, user=seeker)
            texts[business_name, one_statement] = list(
                Notification.objects.filter(kind=NotificationKind.INTRODUCTION).order_by("id").values_list("text")
            )
        assert texts[business_name, True] == texts[business_name, False]
    assert texts["100% Fee-only %s Planning", True][0] == ("You asked to meet 100% Fee-only %s Planning",)


def test_the_answer_is_written_from_the_statement_without_another_query(suggested, broker):
    seeker = suggested.seeker.user
    api = client_for(seeker)
    with CaptureQueriesContext(connection) as queries:
        response = api.post(f"/api/v1/matches/{suggested.pk}/introduce/")
    assert response.status_code == 200 and response.json()["provider"]["business_name"] == "Reyes Planning"
    # The token and its user, then the statement: the answer's sides, users and category are its row's,
    # and the emails' task is its outbox row: no publish to the broker.
    assert len(queries) == 2 and "knox_authtoken" in queries[0]["sql"]
    assert _statements(queries[1:]) == ["one statement"]
    assert _due(suggested) == [(emails.introduction_emails.name, {"match_id": suggested.pk})]
    assert not broker.called


def test_the_kept_lists_and_bells_of_both_sides_are_forgotten(suggested):
    seeker, provider = suggested.seeker.user, suggested.provider.user
    lists = {person: client_for(person) for person in (seeker, provider)}
    before = {person: api.get("/api/v1/matches/").json() for person, api in lists.items()}
    assert [row["status"] for row in before[seeker]["results"]] == ["suggested"] and before[provider]["count"] == 0
    assert unread_count_kept(user=seeker) == 1 and unread_count_kept(user=provider) == 0  # the new match's
    assert lists[seeker].post(f"/api/v1/matches/{suggested.pk}/introduce/").status_code == 200
    after = {person: api.get("/api/v1/matches/").json() for person, api in lists.items()}
    assert [row["status"] for row in after[seeker]["results"]] == ["introduced"]
    assert [row["status"] for row in after[provider]["results"]] == ["introduced"]
    assert unread_count_kept(user=seeker) == 2 and unread_count_kept(user=provider) == 1


def _refusals(match: Match) -> list[tuple[int, dict]]:
    """Every refusal of an introduction through the API, with the database's state after each."""
    seeker, provider = match.seeker.user, match.provider.user
    url = f"/api/v1/matches/{match.pk}/introduce/"
    answers = []

    def ask(person, path=url) -> None:
        response = client_for(person).post(path)
        stored = Match.objects.filter(pk=match.pk).values_list("status", "introduced_at").get()
        notified = Notification.objects.filter(kind=NotificationKind.INTRODUCTION).count()
        answers.append((response.status_code, response.json(), stored, notified, OutboxTask.objects.count()))

    ask(provider)  # a suggestion is not shown to the provider: 404
    ask(UserFactory())  # a stranger: 404
    ask(seeker, "/api/v1/matches/999999/introduce/")
    ask(UserFactory(is_staff=True))  # staff see it, but are not its seeker
    type(provider).objects.filter(pk=provider.pk).update(is_active=False)
    ask(seeker)
    type(provider).objects.filter(pk=provider.pk).update(is_active=True)
    type(match.provider).objects.filter(pk=match.provider_id).update(accepting_clients=False)
    ask(seeker)
    type(match.provider).objects.filter(pk=match.provider_id).update(accepting_clients=True)
    for status in (MatchStatus.DECLINED, MatchStatus.ACCEPTED, MatchStatus.EXPIRED):
        Match.objects.filter(pk=match.pk).update(status=status)
        ask(seeker)
    Match.objects.filter(pk=match.pk).update(status=MatchStatus.SUGGESTED)
    ask(seeker)  # introduced
    ask(seeker)  # again: not suggested any more
    return answers


def test_every_refusal_is_answered_as_the_general_path_answers_it(suggested, monkeypatch, broker):
    outcomes = {}
    for one_statement in (True, False):
        monkeypatch.setattr(matches, "ONE_STATEMENT_INTRODUCTIONS", one_statement)
        _suggested_again(suggested)
        outcomes[one_statement] = _refusals(suggested)
    for answers in outcomes.values():  # the introduction's time differs between the two runs
        status, _, (match_status, introduced_at), notified, due = answers[-2]
        assert (status, match_status, notified, due) == (200, "introduced", 2, 1) and introduced_at
        assert answers[-1][0] == 400 and answers[-1][3:] == (2, 1)  # asked again: nothing more written
        answers[-2] = answers[-1] = None
    assert outcomes[True] == outcomes[False]
    codes = [(status, body["code"]) for status, body, *_ in outcomes[True][:-2]]
    assert codes == [
        (404, "not_found"),
        (404, "not_found"),
        (404, "not_found"),
        (403, "wrong_side"),
        (400, "provider_unavailable"),
        (400, "provider_unavailable"),
        (400, "invalid_transition"),
        (400, "invalid_transition"),
        (400, "invalid_transition"),
    ]
    # Nothing written by a refusal: not introduced, no notification, no outbox row (so no email).
    assert [answer[2][0] for answer in outcomes[True][:-2]] == [*["suggested"] * 6, "declined", "accepted", "expired"]
    assert all(answer[2][1] is None and answer[3:] == (0, 0) for answer in outcomes[True][:-2])


def test_inside_a_transaction_and_on_a_refusal_the_general_path_runs(suggested):
    seeker = suggested.seeker.user
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        matches.match_introduce(match=suggested.pk, user=seeker)
    assert _statements(queries) == ["general path"]
    assert not any(ONE_STATEMENT in query["sql"] for query in queries)
    _suggested_again(suggested)
    with CaptureQueriesContext(connection) as queries:
        introduced = matches.match_introduce(match=suggested, user=seeker)  # a match (the web pages) as well as an id
    assert _statements(queries) == ["one statement"] and introduced.status == MatchStatus.INTRODUCED
    assert introduced.provider.business_name == "Reyes Planning" and introduced.seeker.user == seeker
    with CaptureQueriesContext(connection) as queries, pytest.raises(InvalidTransition):
        matches.match_introduce(match=suggested.pk, user=seeker)
    # The statement found nothing to introduce; the general path read the match and refused.
    sqls = [query["sql"] for query in queries]
    locked = matches._locked_statement("postgresql")[0] % suggested.pk
    assert _statements(queries[:1]) == ["one statement"] and not _statements(queries[1:])
    assert sqls[1:] == ["BEGIN", locked, "ROLLBACK"]
