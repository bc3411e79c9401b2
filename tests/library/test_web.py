"""Library pages: the library, an article (views, unlock), the author's own pages, category and provider pages."""

import pytest
from django.urls import reverse

from categories import selectors as category_selectors
from currency import services as pot
from library.models import Article, ArticleStatus, ArticleUnlock
from library.services import article_publish, article_submit
from tests.library.factories import ArticleFactory, PublishedArticleFactory
from tests.marketplace.factories import ProviderFactory, UserFactory

QUERIES = 12  # an anonymous provider page: the page's own, badges (Pro, articles and answers too), articles, answers

pytestmark = pytest.mark.django_db


def test_library_searches_by_words_and_category(client, seeded_categories):
    advisors, other = list(seeded_categories.values())[:2]
    PublishedArticleFactory(title="Retirement in ten steps", author=ProviderFactory(category=advisors))
    PublishedArticleFactory(title="Training plans", author=ProviderFactory(category=other))
    ArticleFactory(title="Retirement draft")  # not published: never listed
    page = client.get(reverse("library")).content.decode()
    assert "Retirement in ten steps" in page and "Training plans" in page and "Retirement draft" not in page
    page = client.get(reverse("library"), {"q": "retirement"}).content.decode()
    assert "Retirement in ten steps" in page and "Training plans" not in page
    page = client.get(reverse("library"), {"category": other.name}).content.decode()
    assert "Training plans" in page and "Retirement in ten steps" not in page
    assert "No article has all these words" in client.get(reverse("library"), {"q": "zzzz"}).content.decode()
    assert client.get(reverse("library"), {"category": "nonsense"}).status_code == 200


def test_library_page_query_count_is_pinned(client, seeded_categories, django_assert_num_queries):
    advisors = seeded_categories["financial_advisors"]
    for _ in range(25):
        PublishedArticleFactory(author=ProviderFactory(category=advisors))
    client.get(reverse("library"))  # the categories are cached
    with django_assert_num_queries(1):
        response = client.get(reverse("library"), {"q": "budget"})
    assert response.content.decode().count('class="article-card"') == 20
    assert "page=2" in response.content.decode()


def test_article_page_counts_a_view_once_per_person_and_day(client, user):
    article = PublishedArticleFactory()
    for _ in range(3):
        page = client.get(reverse("article", args=[article.pk])).content.decode()
    client.force_login(user)
    client.get(reverse("article", args=[article.pk]))
    client.get(reverse("article", args=[article.pk]))
    article.refresh_from_db()
    assert article.view_count == 2
    assert "Get matched with a provider like this" in page
    assert f"/seekers/new/?category={article.category.name}" in page
    assert reverse("provider-detail", args=[article.author_id]) in page


def test_drafts_are_404_for_others_and_visible_to_the_author(client, user):
    article = ArticleFactory()
    assert client.get(reverse("article", args=[article.pk])).status_code == 404
    client.force_login(user)
    assert client.get(reverse("article", args=[article.pk])).status_code == 404
    client.force_login(article.author.user)
    assert client.get(reverse("article", args=[article.pk])).status_code == 200


def test_premium_shows_the_summary_until_unlocked(client, operator):
    article = PublishedArticleFactory(premium=True, price_pot=30, body="The **secret** plan")
    page = client.get(reverse("article", args=[article.pk])).content.decode()
    assert article.summary in page and "<strong>secret</strong>" not in page and "Log in to unlock" in page
    reader = UserFactory()
    client.force_login(reader)
    response = client.post(reverse("article-unlock", args=[article.pk]), follow=True)
    assert "Unlocked for 30 POT" not in response.content.decode()  # no POT yet
    assert "Not enough POT" in response.content.decode()
    pot.pot_adjust(user=reader, operator=operator, amount=100, reason="test")
    response = client.post(reverse("article-unlock", args=[article.pk]), follow=True)
    assert "Unlocked for 30 POT" in response.content.decode() and "<strong>secret</strong>" in response.content.decode()
    client.post(reverse("article-unlock", args=[article.pk]))
    assert ArticleUnlock.objects.count() == 1


def test_writing_editing_and_submitting(client):
    provider = ProviderFactory()
    client.force_login(provider.user)
    assert "My articles" in client.get(reverse("dashboard")).content.decode()
    form = {"provider": provider.pk, "title": "Budget", "summary": "Short", "body": "Long **text**", "save": "1"}
    bad = client.post(reverse("article-new"), {**form, "premium": "on", "price_pot": "5"})
    assert bad.status_code == 200 and "costs 10 to 500 POT" in bad.content.decode()
    response = client.post(reverse("article-new"), form)
    article = Article.objects.get()
    assert response.status_code == 302 and article.status == ArticleStatus.DRAFT
    client.post(reverse("article-edit", args=[article.pk]), {**form, "title": "Budget 2", "submit": "1"})
    article.refresh_from_db()
    assert article.title == "Budget 2" and article.status == ArticleStatus.SUBMITTED
    assert client.get(reverse("article-edit", args=[article.pk])).status_code == 302  # no longer editable
    Article.objects.filter(pk=article.pk).update(status=ArticleStatus.REJECTED, rejection_reason="Cite sources")
    mine = client.get(reverse("my-articles")).content.decode()
    assert "Rejected" in mine and "Cite sources" in mine


def test_others_articles_are_404_on_the_author_pages(client, user):
    article = ArticleFactory()
    client.force_login(user)
    assert client.get(reverse("article-edit", args=[article.pk])).status_code == 404
    assert client.post(reverse("article-submit", args=[article.pk])).status_code == 404


def test_category_and_provider_pages_list_published_articles(client, seeded_categories, django_assert_num_queries):
    advisors = seeded_categories["financial_advisors"]
    author = ProviderFactory(category=advisors, license_verified=True)
    PublishedArticleFactory(author=author, title="Most read one", view_count=50)
    PublishedArticleFactory(author=author, title="Newest one")
    ArticleFactory(author=author, title="A draft")
    category_page = client.get(reverse("category-detail", args=[advisors.name])).content.decode()
    assert "Most read one" in category_page and "Newest one" in category_page and "A draft" not in category_page
    provider_page = client.get(reverse("provider-detail", args=[author.pk])).content.decode()
    assert "Newest one" in provider_page and "A draft" not in provider_page


def test_category_page_costs_two_library_queries_with_articles(client, seeded_categories, django_assert_num_queries):
    advisors = seeded_categories["financial_advisors"]
    for _ in range(8):
        PublishedArticleFactory(author=ProviderFactory(category=advisors, license_verified=True))
    url = reverse("category-detail", args=[advisors.name])
    client.get(url)
    category_selectors._memo.clear()  # a process that has not kept the page yet (see public_page)
    with django_assert_num_queries(8):  # the directory's five, community questions, the newest and most read articles
        page = client.get(url).content.decode()
    assert "Most read" in page


def test_provider_page_lists_articles_in_one_query(client, seeded_categories, django_assert_num_queries):
    author = ProviderFactory(category=seeded_categories["financial_advisors"], license_verified=True)
    url = reverse("provider-detail", args=[author.pk])
    client.get(url)
    category_selectors._memo.clear()  # a process that has not kept the page yet (see public_page)
    with django_assert_num_queries(QUERIES):  # the provider page's (badges: articles, answers), articles, answers
        client.get(url)
    for _ in range(4):
        PublishedArticleFactory(author=author)
    category_selectors._memo.clear()
    with django_assert_num_queries(QUERIES):
        page = client.get(url).content.decode()
    assert page.count("/library/") >= 4


def test_publishing_shows_the_article_to_anonymous_visitors_at_once(client, seeded_categories, operator):
    author = ProviderFactory(category=seeded_categories["financial_advisors"], license_verified=True)
    article = ArticleFactory(author=author, title="Budgeting for a first home")
    article_submit(user=author.user, article_id=article.pk)
    pages = [reverse("provider-detail", args=[author.pk]), reverse("category-detail", args=[author.category.name])]
    assert all("Budgeting for a first home" not in client.get(url).content.decode() for url in pages)  # kept
    article_publish(article_id=article.pk, operator=operator)
    assert all("Budgeting for a first home" in client.get(url).content.decode() for url in pages)


def test_the_wallet_shows_an_unlock_and_does_not_sell_it(client, operator):
    article = PublishedArticleFactory(premium=True, price_pot=30)
    reader = UserFactory()
    pot.pot_adjust(user=reader, operator=operator, amount=100, reason="test")
    client.force_login(reader)
    client.post(reverse("article-unlock", args=[article.pk]))
    wallet = client.get(reverse("wallet"))
    assert wallet.status_code == 200
    page = wallet.content.decode()
    assert "Buy premium article" not in page  # bought on the article's page, at its price
    assert "A premium article of the library, unlocked for you" in page
    assert client.get(reverse("wallet-spend", args=["content_unlock"])).status_code in (302, 404)
