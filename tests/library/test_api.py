"""Content API: list and read, write and submit drafts, unlock with an Idempotency-Key."""

import pytest

from currency import services as pot
from library.models import Article, ArticleStatus, ArticleUnlock
from tests.conftest import client_for
from tests.library.factories import ArticleFactory, PublishedArticleFactory
from tests.marketplace.factories import ProviderFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/content/"


def test_list_filters_by_category_and_words(api_client, django_assert_num_queries):
    first = PublishedArticleFactory(title="Retirement basics")
    PublishedArticleFactory(title="Running plans")
    ArticleFactory(title="Retirement draft")
    for _ in range(5):
        PublishedArticleFactory()
    with django_assert_num_queries(1):  # one page (short: it is the count)
        everything = api_client.get(URL).json()
    assert everything["count"] == 7 and "body" not in everything["results"][0]
    found = api_client.get(URL, {"q": "retirement"}).json()
    assert [row["id"] for row in found["results"]] == [first.pk]
    by_category = api_client.get(URL, {"category": first.category.name}).json()
    assert [row["id"] for row in by_category["results"]] == [first.pk]
    assert api_client.get(URL, {"category": "nonsense"}).json()["count"] == 0


def test_premium_body_only_when_unlocked_or_author(api_client, operator):
    article = PublishedArticleFactory(premium=True, price_pot=20)
    locked = api_client.get(f"{URL}{article.pk}/").json()
    assert locked["body"] is None and locked["body_html"] is None and not locked["unlocked"]
    assert client_for(article.author.user).get(f"{URL}{article.pk}/").json()["unlocked"]
    reader = UserFactory()
    pot.pot_adjust(user=reader, operator=operator, amount=50, reason="test")
    reader_api = client_for(reader)
    missing = reader_api.post(f"{URL}{article.pk}/unlock/")
    assert missing.status_code == 400 and missing.json()["code"] == "invalid_idempotency_key"
    first = reader_api.post(f"{URL}{article.pk}/unlock/", HTTP_IDEMPOTENCY_KEY="k1")
    retry = reader_api.post(f"{URL}{article.pk}/unlock/", HTTP_IDEMPOTENCY_KEY="k1")
    other_key = reader_api.post(f"{URL}{article.pk}/unlock/", HTTP_IDEMPOTENCY_KEY="k2")
    assert (first.status_code, retry.status_code, other_key.status_code) == (201, 200, 200)
    assert first.json()["id"] == retry.json()["id"] == other_key.json()["id"]
    assert ArticleUnlock.objects.count() == 1
    assert reader_api.get(f"{URL}{article.pk}/").json()["body_html"] == article.body_html
    own = client_for(article.author.user).post(f"{URL}{article.pk}/unlock/", HTTP_IDEMPOTENCY_KEY="k")
    assert own.status_code == 400 and own.json()["code"] == "article_own"
    poor = client_for(UserFactory()).post(f"{URL}{article.pk}/unlock/", HTTP_IDEMPOTENCY_KEY="k")
    assert poor.status_code == 400 and poor.json()["code"] == "insufficient_pot"
    free = client_for(reader).post(f"{URL}{PublishedArticleFactory().pk}/unlock/", HTTP_IDEMPOTENCY_KEY="k")
    assert free.status_code == 400 and free.json()["code"] == "article_not_premium"
    assert api_client.post(f"{URL}{article.pk}/unlock/", HTTP_IDEMPOTENCY_KEY="k").status_code == 401


def test_write_edit_submit_and_refusals():
    provider = ProviderFactory()
    author = client_for(provider.user)
    body = {"provider": provider.pk, "title": "Plan", "summary": "Short", "body": "**Bold** <script>x</script>"}
    created = author.post(URL, body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["status"] == "draft" and "<script>" not in data["body_html"]
    article_id = data["id"]
    bad_price = author.patch(f"{URL}{article_id}/", {"premium": True, "price_pot": 1}, format="json")
    assert bad_price.status_code == 400 and bad_price.json()["fields"]["price_pot"]
    blank = author.patch(f"{URL}{article_id}/", {"title": ""}, format="json")
    assert blank.status_code == 400 and blank.json()["fields"]["title"]
    edited = author.patch(f"{URL}{article_id}/", {"premium": True, "price_pot": 30}, format="json")
    assert edited.status_code == 200 and edited.json()["price_pot"] == 30 and edited.json()["title"] == "Plan"
    assert author.post(f"{URL}{article_id}/submit/").json()["status"] == "submitted"
    assert author.patch(f"{URL}{article_id}/", {"title": "Late"}, format="json").status_code == 409
    mine = author.get(URL, {"mine": "1"}).json()
    assert [row["id"] for row in mine["results"]] == [article_id]
    stranger = client_for(UserFactory())
    assert stranger.get(f"{URL}{article_id}/").status_code == 404
    assert stranger.patch(f"{URL}{article_id}/", {"title": "Mine"}, format="json").status_code == 404
    assert stranger.post(f"{URL}{article_id}/submit/").status_code == 404
    refused = stranger.post(URL, body, format="json")  # someone else's provider profile: a field error, not a 404
    assert refused.status_code == 400 and refused.json()["fields"]["provider"] == [
        "Choose one of your provider profiles."
    ]
    no_provider = stranger.post(URL, {k: v for k, v in body.items() if k != "provider"}, format="json")
    assert no_provider.status_code == 400 and no_provider.json()["fields"]["provider"]
    assert Article.objects.get().status == ArticleStatus.SUBMITTED
