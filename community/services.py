"""Writes of community answers: ask, answer, accept (with its award), vote, report, hide and unhide.

Accepting an answer pays its provider the `answer_accepted` earning rule, promotional POT, at
most once per question (award cause `answer_accepted:question:<id>`). One person with two
accounts, an asker and a provider, could accept their own answers for free POT, so an
acceptance pays nothing (and says why in `Question.award_withheld`) when:

- the two accounts' emails reach the same mailbox (`email_canonical`: case, `+tags`, Gmail dots),
  or one of them referred the other;
- the asker's email is unverified, or their account is younger than `COMMUNITY_ASKER_MIN_AGE_DAYS`;
- the same asker already paid this provider an award this calendar month;
- the provider earned `COMMUNITY_ANSWER_AWARDS_PER_MONTH` awards this calendar month.

The answer is accepted all the same: the limits decide the POT, not the help.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from categories.models import Category
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
from community.models import Answer, Question, Report, ReportStatus, Vote
from community.selectors import answer_visible, provider_answers_in, question_visible
from currency.services import pot_award, pot_award_reverse
from imatch.errors import DomainError, NotFound
from imatch.errors import ErrorCode as CommonCode
from imatch.person_cache import Scope, person_forget
from imatch.text import clean_text
from imatch.weeks import calendar_month_start
from marketplace.models import User
from marketplace.services.referrals import email_canonical
from marketplace.services.streaks import streak_action_recorded
from notifications.models import NotificationKind
from notifications.services import notify

ANSWER_ACCEPTED_RULE = "answer_accepted"
REASON_MAX = 300


def answer_accepted_cause(question_id: int) -> str:
    return f"answer_accepted:question:{question_id}"


def _accepted_counts_forget(answer_ids) -> None:
    """These answers' providers' accepted answers (their badges) count anew: forget what was kept of them."""
    person_forget(Answer.objects.filter(pk__in=answer_ids).values_list("provider__user_id", flat=True), Scope.GROWTH)


def question_path(question: Question) -> str:
    return reverse("community-question", args=[question.category.name, question.pk])


def _text(value: str | None, *, field: str, limit: int, what: str) -> str:
    text = clean_text(value)
    if not text:
        raise DomainError(f"Write {what}.", field=field, code=CommonCode.REQUIRED)
    if len(text) > limit:
        raise DomainError(f"Keep {what} under {limit:,} characters.", field=field, code=CommonCode.TOO_LONG)
    return text


@transaction.atomic
def question_ask(*, user, category: Category, title: str, body: str, anonymous: bool = False) -> Question:
    """A logged-in person asks a public question in a launched category."""
    if not category.active:
        raise NotFound("No such category.")
    title = _text(title, field="title", limit=Question.TITLE_MAX, what="a title")
    body = _text(body, field="body", limit=Question.BODY_MAX, what="your question")
    return Question.objects.create(category=category, asker=user, title=title, body=body, anonymous=bool(anonymous))


@transaction.atomic
def answer_post(*, user, question_id: int, body: str) -> Answer:
    """A listed provider of the question's category answers it (once; never their own question)."""
    question = question_visible(question_id=question_id)
    question = Question.objects.select_for_update().select_related("category").get(pk=question.pk)
    provider = provider_answers_in(user=user, category=question.category)
    if provider is None:
        raise NotAProvider(
            f"Only listed providers of {question.category.display_name} answer here: create your provider profile."
        )
    if question.asker_id == user.pk:
        raise OwnQuestion("You asked this question: you cannot answer it yourself.")
    body = _text(body, field="body", limit=Answer.BODY_MAX, what="your answer")
    if Answer.objects.filter(question=question, provider=provider).exists():
        raise AlreadyAnswered("You already answered this question.")
    answer = Answer.objects.create(question=question, provider=provider, body=body)
    Question.objects.filter(pk=question.pk).update(answer_count=F("answer_count") + 1)
    notify(
        user=question.asker,
        kind=NotificationKind.NEW_ANSWER,
        text=f"{provider.business_name} answered your question “{question.title}”.",
        link=question_path(question),
    )
    return answer


def _award_withheld(*, question: Question, provider_user: User) -> str:
    """Why this acceptance pays no POT (a farming limit), or "" when it pays."""
    asker = question.asker
    if email_canonical(asker.email) == email_canonical(provider_user.email):
        return "The asker and the provider share an email address."
    if asker.referred_by_id == provider_user.pk or provider_user.referred_by_id == asker.pk:
        return "One of the asker and the provider referred the other."
    if asker.email_verified_at is None:
        return "The asker's email is not verified."
    if asker.date_joined > timezone.now() - timedelta(days=settings.COMMUNITY_ASKER_MIN_AGE_DAYS):
        return f"The asker's account is younger than {settings.COMMUNITY_ASKER_MIN_AGE_DAYS} days."
    awarded = Question.objects.filter(
        award__isnull=False, accepted_at__gte=calendar_month_start(), accepted_answer__provider__user=provider_user
    )
    if awarded.filter(asker=asker).exists():
        return "This asker already accepted an answer of this provider with an award this month."
    if awarded.count() >= settings.COMMUNITY_ANSWER_AWARDS_PER_MONTH:
        return f"The provider reached {settings.COMMUNITY_ANSWER_AWARDS_PER_MONTH} awarded answers this month."
    return ""


@transaction.atomic
def answer_accept(*, user, answer_id: int) -> Question:
    """The asker accepts one answer, for good; it pays the provider `answer_accepted` once, within the limits."""
    answer = answer_visible(answer_id=answer_id)
    question = Question.objects.select_for_update().select_related("asker", "category").get(pk=answer.question_id)
    if question.asker_id != user.pk:
        raise NotTheAsker("Only the person who asked accepts an answer.")
    if question.accepted_answer_id is not None:
        if question.accepted_answer_id == answer.pk:
            return question  # a retry of the same acceptance
        raise AlreadyAccepted("You already accepted an answer to this question.")
    # Lock the provider's account: two acceptances for one provider count the monthly limit in turn.
    provider_user = User.objects.select_for_update().get(pk=answer.provider.user_id)
    question.accepted_answer = answer
    question.accepted_at = timezone.now()
    question.award_withheld = _award_withheld(question=question, provider_user=provider_user)
    if not question.award_withheld:
        question.award = pot_award(
            user=provider_user,
            rule_key=ANSWER_ACCEPTED_RULE,
            cause=answer_accepted_cause(question.pk),
            reference_type="question",
            reference_id=question.pk,
        )
    question.save(update_fields=["accepted_answer", "accepted_at", "award", "award_withheld", "updated_at"])
    person_forget([provider_user.pk], Scope.GROWTH)  # their accepted answers
    if question.award is not None:  # an accepted answer counts for a streak when it earned POT
        streak_action_recorded(user=provider_user)
    notify(
        user=provider_user,
        kind=NotificationKind.ANSWER_ACCEPTED,
        text=f"Your answer to “{question.title}” was accepted"
        + (f": you earned {question.award.amount:,} POT." if question.award else "."),
        link=question_path(question),
    )
    return question


@transaction.atomic
def answer_vote(*, user, answer_id: int) -> Answer:
    """A logged-in person votes an answer up, once; never their own."""
    answer = answer_visible(answer_id=answer_id)
    if answer.provider.user_id == user.pk:
        raise OwnAnswer("You cannot vote for your own answer.")
    try:
        with transaction.atomic():
            Vote.objects.create(answer=answer, voter=user)
    except IntegrityError as error:
        raise AlreadyVoted("You already voted for this answer.") from error
    Answer.objects.filter(pk=answer.pk).update(vote_count=F("vote_count") + 1)
    answer.refresh_from_db(fields=["vote_count"])
    return answer


@transaction.atomic
def report_file(*, user, reason: str, question_id: int | None = None, answer_id: int | None = None) -> Report:
    """A logged-in person reports a question or an answer to the operators (once while it is open)."""
    reason = _text(reason, field="reason", limit=Report.REASON_MAX, what="what is wrong")
    if (question_id is None) == (answer_id is None):
        raise DomainError("Report a question or an answer.", code=CommonCode.INVALID)
    target = (
        {"question": question_visible(question_id=question_id)}
        if question_id is not None
        else {"answer": answer_visible(answer_id=answer_id)}
    )
    if Report.objects.filter(reporter=user, status=ReportStatus.OPEN, **target).exists():
        raise AlreadyReported("You already reported this; an operator will look at it.")
    try:
        with transaction.atomic():
            return Report.objects.create(reporter=user, reason=reason, **target)
    except IntegrityError as error:
        raise AlreadyReported("You already reported this; an operator will look at it.") from error


def _reports_handle(*, operator, **target) -> int:
    return Report.objects.filter(status=ReportStatus.OPEN, **target).update(
        status=ReportStatus.HANDLED, handled_at=timezone.now(), handled_by=operator
    )


def _reason(reason: str) -> str:
    return _text(reason, field="reason", limit=REASON_MAX, what="the reason")


@transaction.atomic
def question_hide(*, operator, question_id: int, reason: str) -> Question:
    """An operator hides a question (with the reason); its open reports are handled, its award taken back."""
    reason = _reason(reason)
    question = Question.objects.select_for_update().filter(pk=question_id).first()
    if question is None:
        raise NotFound("No such question.")
    question.hidden, question.hidden_reason = True, reason
    question.save(update_fields=["hidden", "hidden_reason", "updated_at"])
    _accepted_counts_forget([question.accepted_answer_id])
    _reports_handle(operator=operator, question=question)
    if question.award_id is not None:
        pot_award_reverse(cause=answer_accepted_cause(question.pk), reason=f"Question hidden: {reason}")
    return question


@transaction.atomic
def question_unhide(*, operator, question_id: int) -> Question:
    question = Question.objects.select_for_update().filter(pk=question_id).first()
    if question is None:
        raise NotFound("No such question.")
    question.hidden, question.hidden_reason = False, ""
    question.save(update_fields=["hidden", "hidden_reason", "updated_at"])
    _accepted_counts_forget([question.accepted_answer_id])
    return question


@transaction.atomic
def answer_hide(*, operator, answer_id: int, reason: str) -> Answer:
    """An operator hides an answer (with the reason); an accepted one's award is taken back."""
    reason = _reason(reason)
    answer = Answer.objects.select_for_update().filter(pk=answer_id).first()
    if answer is None:
        raise NotFound("No such answer.")
    if not answer.hidden:
        Question.objects.filter(pk=answer.question_id).update(answer_count=F("answer_count") - 1)
    answer.hidden, answer.hidden_reason = True, reason
    answer.save(update_fields=["hidden", "hidden_reason"])
    _accepted_counts_forget([answer.pk])
    _reports_handle(operator=operator, answer=answer)
    if Question.objects.filter(pk=answer.question_id, accepted_answer=answer, award__isnull=False).exists():
        pot_award_reverse(cause=answer_accepted_cause(answer.question_id), reason=f"Answer hidden: {reason}")
    return answer


@transaction.atomic
def answer_unhide(*, operator, answer_id: int) -> Answer:
    """An operator shows a hidden answer again (a reversed award is not paid again)."""
    answer = Answer.objects.select_for_update().filter(pk=answer_id).first()
    if answer is None:
        raise NotFound("No such answer.")
    if answer.hidden:
        Question.objects.filter(pk=answer.question_id).update(answer_count=F("answer_count") + 1)
    answer.hidden, answer.hidden_reason = False, ""
    answer.save(update_fields=["hidden", "hidden_reason"])
    _accepted_counts_forget([answer.pk])
    return answer


@transaction.atomic
def report_dismiss(*, operator, report_id: int) -> Report:
    """An operator handles a report without hiding anything."""
    report = Report.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise NotFound("No such report.")
    if report.status == ReportStatus.OPEN:
        report.status, report.handled_at, report.handled_by = ReportStatus.HANDLED, timezone.now(), operator
        report.save(update_fields=["status", "handled_at", "handled_by"])
    return report
