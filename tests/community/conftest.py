from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from community import services
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def old_verified_user(**fields):
    """A person whose acceptances can pay: verified email, account older than the minimum age."""
    return UserFactory(email_verified_at=timezone.now(), date_joined=timezone.now() - timedelta(days=30), **fields)


@pytest.fixture
def category(db):
    return make_category()


@pytest.fixture
def asker(db):
    return old_verified_user(name="Ana Asker")


@pytest.fixture
def provider(category):
    return make_provider(category, business_name="Reyes Planning")


@pytest.fixture
def question(category, asker):
    return services.question_ask(user=asker, category=category, title="How much to save?", body="I am 40.")


@pytest.fixture
def answer(question, provider):
    return services.answer_post(user=provider.user, question_id=question.pk, body="Start with 15% of income.")
