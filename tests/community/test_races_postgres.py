"""Real parallel connections against PostgreSQL: one acceptance per question, one award, the monthly cap held."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from community import services
from community.models import Question, Vote
from currency.audit import verify_ledger
from currency.models import PotTransaction
from tests.community.conftest import old_verified_user
from tests.concurrency import outcome_kinds, race
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalog():
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - flushed by earlier transactional tests


def test_concurrent_acceptances_of_one_question_one_wins_and_pays_once():
    category = make_category()
    asker = old_verified_user()
    question = services.question_ask(user=asker, category=category, title="Q", body="b")
    answers = [
        services.answer_post(user=make_provider(category).user, question_id=question.pk, body=f"A{n}") for n in range(4)
    ]
    results = race(8, lambda i: services.answer_accept(user=asker, answer_id=answers[i % 4].pk))
    kinds = outcome_kinds(results)
    assert kinds["AlreadyAccepted"] >= 4 and kinds["Question"] >= 1, kinds
    assert PotTransaction.objects.filter(category="answer_accepted").count() == 1
    question.refresh_from_db()
    assert PotTransaction.objects.get(category="answer_accepted").user_id == question.accepted_answer.provider.user_id
    assert verify_ledger().ok


@override_settings(COMMUNITY_ANSWER_AWARDS_PER_MONTH=2)
def test_concurrent_acceptances_for_one_provider_keep_the_monthly_cap():
    category = make_category()
    provider = make_provider(category)
    pairs = []
    for n in range(6):
        asker = old_verified_user()
        question = services.question_ask(user=asker, category=category, title=f"Q{n}", body="b")
        pairs.append((asker, services.answer_post(user=provider.user, question_id=question.pk, body="a")))
    results = race(6, lambda i: services.answer_accept(user=pairs[i][0], answer_id=pairs[i][1].pk))
    assert outcome_kinds(results) == {"Question": 6}
    assert PotTransaction.objects.filter(user=provider.user, category="answer_accepted").count() == 2
    assert Question.objects.filter(award__isnull=True).count() == 4
    assert verify_ledger().ok


def test_concurrent_votes_of_one_person_count_once():
    category = make_category()
    question = services.question_ask(user=old_verified_user(), category=category, title="Q", body="b")
    answer = services.answer_post(user=make_provider(category).user, question_id=question.pk, body="a")
    voter = UserFactory()
    results = race(6, lambda i: services.answer_vote(user=voter, answer_id=answer.pk))
    assert outcome_kinds(results) == {"Answer": 1, "AlreadyVoted": 5}
    answer.refresh_from_db()
    assert answer.vote_count == 1 == Vote.objects.count()
