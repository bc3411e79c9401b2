"""`{% category_articles category %}` and `{% author_articles provider %}`: published articles on marketplace pages.

Marketplace templates load these tags (marketplace code does not import the library):
the category's newest and most read (two queries), an author's newest (one query).
"""

from django import template

from library.selectors import articles_most_read, articles_of_author, articles_published

register = template.Library()
SHOWN = 5


@register.inclusion_tag("library/_category_articles.html")
def category_articles(category) -> dict:
    newest = list(articles_published(category_id=category.pk)[:SHOWN])
    most_read = articles_most_read(category_id=category.pk, limit=SHOWN) if newest else []
    return {"category": category, "newest": newest, "most_read": most_read}


@register.inclusion_tag("library/_author_articles.html")
def author_articles(provider) -> dict:
    return {"provider": provider, "articles": articles_of_author(provider_id=provider.pk, limit=SHOWN)}
