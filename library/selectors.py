"""Reads of the content library: published articles, an author's own, the review queue, unlocks."""

from django.db.models import Q, QuerySet

from imatch.db import counts_per_person
from imatch.errors import NotFound
from library.models import Article, ArticleStatus, ArticleUnlock


def _articles() -> QuerySet[Article]:
    return Article.objects.select_related("author", "author__user", "category")


def articles_published(*, category_id: int | None = None, words: str = "") -> QuerySet[Article]:
    """Published articles, newest first; `words` must each appear in the title, summary or body."""
    articles = _articles().filter(status=ArticleStatus.PUBLISHED)
    if category_id:
        articles = articles.filter(category_id=category_id)
    for word in words.split()[:8]:
        articles = articles.filter(Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word))
    return articles.order_by("-published_at", "-id")


def articles_most_read(*, category_id: int, limit: int = 5) -> list[Article]:
    return list(
        _articles()
        .filter(status=ArticleStatus.PUBLISHED, category_id=category_id)
        .order_by("-view_count", "-published_at", "-id")[:limit]
    )


def articles_of_author(*, provider_id: int, limit: int = 10) -> list[Article]:
    """An author's published articles, newest first (their provider page)."""
    return list(articles_published().filter(author_id=provider_id)[:limit])


def articles_owned_by(*, user) -> QuerySet[Article]:
    """Every article of the user's provider profiles, in any status, last edited first."""
    return _articles().filter(author__user=user).order_by("-updated_at", "-id")


def article_owned(*, user, article_id: int) -> Article:
    """An article of one of the user's provider profiles, else NotFound."""
    article = articles_owned_by(user=user).filter(pk=article_id).first()
    if article is None:
        raise NotFound("No such article.")
    return article


def article_readable(*, user, article_id: int) -> Article:
    """A published article, or the user's own in any status (staff: any), else NotFound."""
    visible = Q(status=ArticleStatus.PUBLISHED)
    if user.is_authenticated:
        visible |= Q(author__user=user)
        if user.is_staff:
            visible = Q()
    article = _articles().filter(visible, pk=article_id).first()
    if article is None:
        raise NotFound("No such article.")
    return article


def article_unlocked_for(*, user, article: Article) -> bool:
    """Whether the user reads the full body: free articles, the author, staff, or a reader who unlocked it."""
    if not article.premium:
        return True
    if not user.is_authenticated:
        return False
    if user.is_staff or article.author.user_id == user.pk:
        return True
    return ArticleUnlock.objects.filter(article=article, reader=user).exists()


def articles_waiting_for_review() -> QuerySet[Article]:
    return _articles().filter(status=ArticleStatus.SUBMITTED).order_by("submitted_at", "id")


def published_counts_by_author(
    *,
    user_ids=None,
    since=None,
    until=None,
    category_id: int | None = None,
    active_accounts_only: bool = False,
) -> dict[int, int]:
    """Published articles per author's user id (all providers of a person count), in one query.

    `since` / `until` count articles published in [since, until) (a month's leaderboard),
    `category_id` those of one category, `active_accounts_only` leaves deactivated accounts out; `user_ids` None:
    everyone's.
    """
    return counts_per_person(
        Article.objects.filter(status=ArticleStatus.PUBLISHED),
        person="author__user_id",
        at="published_at",
        user_ids=user_ids,
        since=since,
        until=until,
        category_id=category_id,
        active_accounts_only=active_accounts_only,
    )
