import factory

from library.models import Article, ArticleStatus
from library.rendering import markdown_to_html
from tests.marketplace.factories import ProviderFactory


class ArticleFactory(factory.django.DjangoModelFactory):
    """An article row written directly (for reads); use library.services to test rules."""

    class Meta:
        model = Article

    author = factory.SubFactory(ProviderFactory)
    category = factory.LazyAttribute(lambda article: article.author.category)
    title = factory.Sequence(lambda n: f"How to plan a budget, part {n}")
    summary = "Three steps that work for most households."
    body = "## Step one\n\nWrite down **everything** you spend."
    body_html = factory.LazyAttribute(lambda article: markdown_to_html(article.body))
    status = ArticleStatus.DRAFT


class PublishedArticleFactory(ArticleFactory):
    status = ArticleStatus.PUBLISHED
    published_at = factory.LazyFunction(__import__("django.utils.timezone", fromlist=["now"]).now)
