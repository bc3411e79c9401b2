"""The Helpful badge: ten or more accepted community answers (hidden ones do not count)."""

import pytest

from community import services
from growth.badges import HELPFUL_ACCEPTED_ANSWERS, PersonFacts, badges_earned
from growth.selectors import badges_of_people, people_facts
from tests.community.conftest import old_verified_user
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_rule():
    assert "helpful" not in [b.key for b in badges_earned(PersonFacts(accepted_answers=HELPFUL_ACCEPTED_ANSWERS - 1))]
    assert "helpful" in [b.key for b in badges_earned(PersonFacts(accepted_answers=HELPFUL_ACCEPTED_ANSWERS))]


def test_ten_accepted_answers_earn_it_and_hiding_one_takes_it_away(category, provider, operator):
    answers = []
    for n in range(HELPFUL_ACCEPTED_ANSWERS):
        asker = old_verified_user()
        question = services.question_ask(user=asker, category=category, title=f"Q{n}", body="b")
        answers.append(services.answer_post(user=provider.user, question_id=question.pk, body="a"))
        services.answer_accept(user=asker, answer_id=answers[-1].pk)
    bystander = UserFactory()
    facts = people_facts(user_ids=[provider.user_id, bystander.pk])
    assert (facts[provider.user_id].accepted_answers, facts[bystander.pk].accepted_answers) == (10, 0)
    assert "helpful" in [badge.key for badge in badges_of_people(user_ids=[provider.user_id])[provider.user_id]]
    services.question_hide(operator=operator, question_id=answers[0].question_id, reason="Spam")
    assert "helpful" not in [badge.key for badge in badges_of_people(user_ids=[provider.user_id])[provider.user_id]]
