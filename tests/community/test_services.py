"""Community answers: asking, answering, accepting (with its award, once), voting, reporting, hiding."""

import zoneinfo
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from community import services
from community.errors import (
    AlreadyAccepted,
    AlreadyAnswered,
    AlreadyReported,
    AlreadyVoted,
    NotAProvider,
    NotTheAsker,
    OwnAnswer,
    OwnQuestion,
)
from community.models import Question, Report, ReportStatus
from community.selectors import accepted_answer_counts
from currency.models import EarningRule, PotTransaction, Wallet
from imatch.errors import DomainError, NotFound
from notifications.models import Notification, NotificationKind
from tests.community.conftest import old_verified_user
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    """The person's POT from accepted answers (a provider profile's own award left aside), reversals included."""
    rows = PotTransaction.objects.filter(user=user, reference_type="question")
    return sum(rows.values_list("amount", flat=True))


def test_the_rule_is_seeded_promotional():
    rule = EarningRule.objects.get(key="answer_accepted")
    assert (rule.reason, rule.amount, rule.promotional, rule.active) == ("answer_accepted", 25, True, True)


def test_ask_cleans_and_limits_text(category, asker):
    question = services.question_ask(user=asker, category=category, title="  Fees?\u200b ", body="What is fair?")
    assert question.title == "Fees?"
    with pytest.raises(DomainError) as error:
        services.question_ask(user=asker, category=category, title=" ", body="x")
    assert error.value.field == "title"
    with pytest.raises(DomainError) as error:
        services.question_ask(user=asker, category=category, title="t", body="x" * (Question.BODY_MAX + 1))
    assert (error.value.field, error.value.code) == ("body", "too_long")


def test_ask_only_in_a_launched_category(asker):
    closed = make_category(name="closed", active=False)
    with pytest.raises(NotFound):
        services.question_ask(user=asker, category=closed, title="t", body="b")
    assert not Question.objects.exists()


def test_answer_notifies_the_asker_and_counts(question, answer, asker):
    question.refresh_from_db()
    assert question.answer_count == 1
    note = Notification.objects.get(user=asker, kind=NotificationKind.NEW_ANSWER)
    assert "Reyes Planning" in note.text and f"/questions/{question.pk}/" in note.link


def test_answer_refusals(category, question, provider, answer, asker):
    with pytest.raises(AlreadyAnswered):
        services.answer_post(user=provider.user, question_id=question.pk, body="Again")
    with pytest.raises(NotAProvider):
        services.answer_post(user=UserFactory(), question_id=question.pk, body="I am no provider")
    elsewhere = make_provider(make_category(name="tutors", display_name="Tutors"))
    with pytest.raises(NotAProvider):
        services.answer_post(user=elsewhere.user, question_id=question.pk, body="Other category")
    own = make_provider(category, user=asker)
    with pytest.raises(OwnQuestion):
        services.answer_post(user=own.user, question_id=question.pk, body="Mine")
    with pytest.raises(DomainError) as error:
        services.answer_post(user=make_provider(category).user, question_id=question.pk, body="")
    assert error.value.field == "body"
    question.refresh_from_db()
    assert question.answer_count == 1


def test_accept_pays_the_provider_once_as_promotional_pot(question, answer, asker, provider):
    services.answer_accept(user=asker, answer_id=answer.pk)
    services.answer_accept(user=asker, answer_id=answer.pk)  # a retry
    question.refresh_from_db()
    assert question.accepted_answer_id == answer.pk and question.award_withheld == ""
    [row] = PotTransaction.objects.filter(user=provider.user, category="answer_accepted")
    assert (row.amount, row.promotional_amount, row.reference_id) == (25, 25, question.pk)
    assert question.award_id == row.pk
    assert Wallet.objects.get(user=provider.user).promotional_balance == 100 + 25  # with the profile's award
    assert Notification.objects.filter(user=provider.user, kind=NotificationKind.ANSWER_ACCEPTED).count() == 1
    assert accepted_answer_counts(user_ids=[provider.user_id, asker.pk]) == {provider.user_id: 1}
    call_command("verify_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


@override_settings(COMMUNITY_ANSWER_AWARDS_PER_MONTH=3)
def test_a_farm_cannot_begin_the_next_month_early_with_its_askers_time_zone(category, monkeypatch):
    """The same person fills the cap on the 20th, then on the month's last evening (UTC) accepts from
    asker accounts set to UTC+14, where the next month has begun: the cap goes by the server's
    calendar month (imatch.weeks.calendar_month_start), whatever zone the asker's page runs in."""
    provider_user = UserFactory()
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    for n in range(3):
        _accept_between(category, old_verified_user(), provider_user, title=f"Q{n}")
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 30, 20, 0, tzinfo=UTC))  # Dec 1, 10:00 at +14
    with timezone.override(zoneinfo.ZoneInfo("Pacific/Kiritimati")):  # as the asker's page activates it
        late = [
            _accept_between(category, old_verified_user(time_zone="Pacific/Kiritimati"), provider_user, title=f"L{n}")
            for n in range(2)
        ]
    assert [question.award for question in late] == [None, None]
    assert all("reached 3" in question.award_withheld for question in late)
    assert balance(provider_user) == 3 * 25
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 1, 0, 30, tzinfo=UTC))  # December, in UTC
    assert _accept_between(category, old_verified_user(), provider_user, title="D1").award is not None


def test_accept_refusals(category, question, answer, asker, provider):
    with pytest.raises(NotTheAsker):
        services.answer_accept(user=provider.user, answer_id=answer.pk)
    second = services.answer_post(user=make_provider(category).user, question_id=question.pk, body="Other view")
    services.answer_accept(user=asker, answer_id=answer.pk)
    with pytest.raises(AlreadyAccepted):
        services.answer_accept(user=asker, answer_id=second.pk)
    question.refresh_from_db()
    assert question.accepted_answer_id == answer.pk
    assert PotTransaction.objects.filter(category="answer_accepted").count() == 1


def test_votes_once_each_never_own(answer, provider, asker):
    assert services.answer_vote(user=asker, answer_id=answer.pk).vote_count == 1
    with pytest.raises(AlreadyVoted):
        services.answer_vote(user=asker, answer_id=answer.pk)
    with pytest.raises(OwnAnswer):
        services.answer_vote(user=provider.user, answer_id=answer.pk)
    answer.refresh_from_db()
    assert answer.vote_count == 1


def test_report_once_while_open_and_hide_handles_it(question, answer, operator):
    reporter = UserFactory()
    services.report_file(user=reporter, answer_id=answer.pk, reason="Spam")
    with pytest.raises(AlreadyReported):
        services.report_file(user=reporter, answer_id=answer.pk, reason="Spam again")
    with pytest.raises(DomainError) as error:
        services.report_file(user=reporter, question_id=question.pk, reason=" ")
    assert error.value.field == "reason"
    with pytest.raises(DomainError):
        services.answer_hide(operator=operator, answer_id=answer.pk, reason="")
    services.answer_hide(operator=operator, answer_id=answer.pk, reason="Advertising")
    report = Report.objects.get()
    assert report.status == ReportStatus.HANDLED and report.handled_by == operator
    question.refresh_from_db()
    assert question.answer_count == 0
    with pytest.raises(NotFound):  # hidden answers take no votes
        services.answer_vote(user=reporter, answer_id=answer.pk)
    services.answer_unhide(operator=operator, answer_id=answer.pk)
    question.refresh_from_db()
    assert question.answer_count == 1


def test_hidden_question_is_gone_for_people(question, operator):
    services.question_hide(operator=operator, question_id=question.pk, reason="Personal data")
    with pytest.raises(NotFound):
        services.answer_post(user=UserFactory(), question_id=question.pk, body="x")
    question.refresh_from_db()
    assert (question.hidden, question.hidden_reason) == (True, "Personal data")


def test_hiding_a_question_takes_its_award_back(question, answer, asker, provider, operator):
    services.answer_accept(user=asker, answer_id=answer.pk)
    assert balance(provider.user) == 25
    services.question_hide(operator=operator, question_id=question.pk, reason="Farmed")
    services.answer_hide(operator=operator, answer_id=answer.pk, reason="Farmed")  # reversed once only
    assert balance(provider.user) == 0
    call_command("verify_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_hiding_an_accepted_answer_takes_its_award_back(question, answer, asker, provider, operator):
    services.answer_accept(user=asker, answer_id=answer.pk)
    services.answer_hide(operator=operator, answer_id=answer.pk, reason="Farmed")
    assert balance(provider.user) == 0
    services.answer_hide(operator=operator, answer_id=answer.pk, reason="Farmed")  # again: nothing more
    assert balance(provider.user) == 0
    call_command("verify_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


# One person, two accounts: what accepting their own answers could earn them.


def _accept_between(category, asker, provider_user, title="Q") -> Question:
    provider = provider_user.providers.filter(category=category).first() or make_provider(category, user=provider_user)
    question = services.question_ask(user=asker, category=category, title=title, body="b")
    answer = services.answer_post(user=provider.user, question_id=question.pk, body="a")
    return services.answer_accept(user=asker, answer_id=answer.pk)


def test_same_mailbox_pays_nothing(category):
    provider_user = UserFactory(email="john.smith@gmail.com")
    asker = old_verified_user(email="JohnSmith+asking@googlemail.com")
    question = _accept_between(category, asker, provider_user)
    assert question.award is None and "email" in question.award_withheld
    assert question.accepted_answer_id is not None  # accepted all the same
    assert balance(provider_user) == 0


def test_referred_pair_pays_nothing(category):
    provider_user = UserFactory()
    asker = old_verified_user(referred_by=provider_user)
    question = _accept_between(category, asker, provider_user)
    assert question.award is None and "referred" in question.award_withheld


def test_unverified_or_new_asker_pays_nothing(category):
    provider_user = UserFactory()
    assert "not verified" in _accept_between(category, UserFactory(), provider_user).award_withheld
    fresh = UserFactory(email_verified_at=provider_user.date_joined)
    assert "younger" in _accept_between(category, fresh, provider_user, title="Q2").award_withheld
    assert balance(provider_user) == 0


def test_one_asker_pays_one_provider_once_a_month(category):
    provider_user, asker = UserFactory(), old_verified_user()
    first = _accept_between(category, asker, provider_user, title="Q1")
    second = _accept_between(category, asker, provider_user, title="Q2")
    assert first.award is not None and second.award is None and "this month" in second.award_withheld
    assert balance(provider_user) == 25


@override_settings(COMMUNITY_ANSWER_AWARDS_PER_MONTH=3)
def test_a_farm_of_asker_accounts_earns_at_most_the_monthly_cap_and_none_of_it_redeemable(category):
    """One person with one provider account and five asker accounts (verified, old enough, distinct mailboxes)."""
    provider_user = UserFactory()
    for n in range(5):
        _accept_between(category, old_verified_user(), provider_user, title=f"Q{n}")
    assert balance(provider_user) == 3 * 25  # the cap, per calendar month
    wallet = Wallet.objects.get(user=provider_user)
    assert wallet.promotional_balance == wallet.balance  # redeemable for USD: nothing
    assert Question.objects.filter(award__isnull=True).count() == 2
    call_command("verify_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115
