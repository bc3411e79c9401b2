"""Reads of community answers: a category's questions, one question with its answers, counts."""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet

from categories.models import Category
from community.models import Answer, Question, Report, ReportStatus, Vote
from imatch.db import counts_per_person
from imatch.errors import NotFound
from marketplace.models import Provider

SORTS = ("newest", "unanswered", "popular")


def questions_in(*, category: Category, sort: str = "newest") -> QuerySet[Question]:
    """A category's visible questions: newest first, unanswered ones only, or most answered first."""
    questions = Question.objects.filter(category=category, hidden=False).select_related("asker", "category")
    if sort == "unanswered":
        return questions.filter(answer_count=0)
    if sort == "popular":
        return questions.order_by("-answer_count", "-created_at", "-id")
    return questions


def question_visible(*, question_id: int, user=None) -> Question:
    """A visible question (staff see hidden ones too); NotFound otherwise."""
    questions = Question.objects.select_related("asker", "category", "accepted_answer")
    if not (user is not None and user.is_authenticated and user.is_staff):
        questions = questions.filter(hidden=False, category__active=True)
    question = questions.filter(pk=question_id).first()
    if question is None:
        raise NotFound("No such question.")
    return question


def answers_of(*, question: Question, user=None) -> QuerySet[Answer]:
    """A question's visible answers, the accepted one first, then by votes; `voted` says if `user` voted."""
    answers = (
        Answer.objects.filter(question=question, hidden=False)
        .select_related("provider__user")
        .order_by("-vote_count", "created_at", "id")
    )
    if user is not None and user.is_authenticated:
        answers = answers.annotate(voted=Exists(Vote.objects.filter(answer=OuterRef("pk"), voter=user)))
    return answers


def answer_visible(*, answer_id: int) -> Answer:
    answer = (
        Answer.objects.filter(pk=answer_id, hidden=False, question__hidden=False, question__category__active=True)
        .select_related("question", "provider__user")
        .first()
    )
    if answer is None:
        raise NotFound("No such answer.")
    return answer


def answers_by_provider(*, provider: Provider, limit: int = 10) -> list[Answer]:
    """A provider's visible answers on visible questions, newest first (one query)."""
    return list(
        Answer.objects.filter(provider=provider, hidden=False, question__hidden=False)
        .select_related("question")
        .order_by("-created_at", "-id")[:limit]
    )


def accepted_answer_counts(
    *,
    user_ids: Iterable[int] | None = None,
    since=None,
    until=None,
    category_id: int | None = None,
    active_accounts_only: bool = False,
) -> dict[int, int]:
    """How many of each person's visible answers were accepted (on visible questions), by user id; one query.

    `since` / `until` count acceptances in [since, until) (a month's leaderboard), `category_id`
    those in one category, `active_accounts_only` leaves deactivated accounts out; `user_ids` None: everyone's.
    """
    return counts_per_person(
        Question.objects.filter(accepted_answer__isnull=False, accepted_answer__hidden=False, hidden=False),
        person="accepted_answer__provider__user_id",
        at="accepted_at",
        user_ids=user_ids,
        since=since,
        until=until,
        category_id=category_id,
        active_accounts_only=active_accounts_only,
    )


def question_count_in(*, category: Category) -> int:
    return Question.objects.filter(category=category, hidden=False).count()


def reports_open() -> QuerySet[Report]:
    return Report.objects.filter(status=ReportStatus.OPEN)


def reports_open_count() -> int:
    return reports_open().count()


def provider_answers_in(*, user, category: Category) -> Provider | None:
    """The person's listed provider profile in the category: the one that answers there."""
    if not user.is_authenticated:
        return None
    return Provider.objects.listed_in(category).filter(user=user).first()
