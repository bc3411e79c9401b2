"""Races on PostgreSQL: parallel unlocks of one article by one reader charge once; parallel publishes pay once."""

import pytest
from django.core.management import call_command

from currency.audit import verify_ledger
from currency.models import PotTransaction
from library import services
from library.models import ArticleStatus, ArticleUnlock
from tests.concurrency import outcome_kinds, race
from tests.currency.factories import balance_of, pot_fund
from tests.library.factories import ArticleFactory, PublishedArticleFactory
from tests.marketplace.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalog():
    call_command("seed_pot", stdout=open("/dev/null", "w"))  # noqa: SIM115 - flushed by earlier transactional tests


def test_ten_parallel_unlocks_by_one_reader_charge_once():
    article = PublishedArticleFactory(premium=True, price_pot=40)
    reader = UserFactory()
    pot_fund(reader, 400)
    results = race(10, lambda i: services.article_unlock(user=reader, article_id=article.pk))
    assert outcome_kinds(results) == {"UnlockResult": 10}, results
    assert sum(not result.replayed for result in results) == 1
    assert balance_of(reader) == 360 and balance_of(article.author.user) == 20
    assert ArticleUnlock.objects.count() == 1
    assert verify_ledger().ok


def test_parallel_unlocks_by_many_readers_pay_the_author_each_once():
    article = PublishedArticleFactory(premium=True, price_pot=40)
    readers = [UserFactory() for _ in range(6)]
    for reader in readers:
        pot_fund(reader, 40)
    results = race(6, lambda i: services.article_unlock(user=readers[i], article_id=article.pk))
    assert outcome_kinds(results) == {"UnlockResult": 6}, results
    assert balance_of(article.author.user) == 120
    assert verify_ledger().ok


def test_parallel_publishes_pay_the_author_once():
    article = ArticleFactory(status=ArticleStatus.SUBMITTED)
    operator = UserFactory(is_staff=True)
    results = race(5, lambda i: services.article_publish(article_id=article.pk, operator=operator))
    assert outcome_kinds(results) == {"Article": 5}, results
    assert PotTransaction.objects.filter(category="content_published").count() == 1
    assert verify_ledger().ok
