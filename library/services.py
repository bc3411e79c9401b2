"""Writes of the content library: an author's drafts, the operators' review, views and premium unlocks."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from categories.selectors import catalog_forget
from currency.ledger import ledger_atomic
from currency.services import pot_award, pot_spend_shared
from imatch.errors import DomainError, NotFound
from imatch.errors import ErrorCode as CommonCode
from imatch.person_cache import Scope, person_forget
from imatch.weeks import calendar_day
from library.errors import ArticleNotEditable, ArticleWrongStatus, NotPremium, OwnArticle, PriceOutOfBounds
from library.models import Article, ArticleStatus, ArticleUnlock, ArticleView
from library.rendering import markdown_to_html
from library.selectors import article_owned
from marketplace import emails
from marketplace.models import Provider

UNLOCK_OPTION = "content_unlock"
AUTHOR_SHARE_REASON = "content_author_share"
PUBLISHED_RULE = "content_published"


def _text(value, *, field: str, limit: int, label: str) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(f"Enter the {label}.", field=field, code=CommonCode.REQUIRED)
    if len(text) > limit:
        raise DomainError(f"The {label} has at most {limit:,} characters.", field=field, code=CommonCode.TOO_LONG)
    return text


def _price(premium: bool, price_pot) -> int | None:
    if not premium:
        return None
    low, high = settings.CONTENT_PRICE_MIN_POT, settings.CONTENT_PRICE_MAX_POT
    if isinstance(price_pot, bool) or not isinstance(price_pot, int) or not low <= price_pot <= high:
        raise PriceOutOfBounds(f"A premium article costs {low} to {high} POT (a whole number).", field="price_pot")
    return price_pot


def _fill(article: Article, *, title, summary, body, premium: bool, price_pot) -> None:
    article.title = _text(title, field="title", limit=Article.TITLE_MAX, label="title")
    article.summary = _text(summary, field="summary", limit=Article.SUMMARY_MAX, label="summary")
    article.body = _text(body, field="body", limit=Article.BODY_MAX, label="body")
    article.body_html = markdown_to_html(article.body)
    article.premium = bool(premium)
    article.price_pot = _price(article.premium, price_pot)
    article.updated_at = timezone.now()


@transaction.atomic
def article_create(
    *, user, provider_id: int, title: str, summary: str, body: str, premium: bool = False, price_pot: int | None = None
) -> Article:
    """Start a draft in the category of one of the user's provider profiles."""
    provider = Provider.objects.filter(pk=provider_id, user=user).select_related("category").first()
    if provider is None:
        raise DomainError("Choose one of your provider profiles.", field="provider")
    article = Article(author=provider, category=provider.category)
    _fill(article, title=title, summary=summary, body=body, premium=premium, price_pot=price_pot)
    article.created_at = article.updated_at
    article.save(force_insert=True)
    return article


def _owned_locked(*, user, article_id: int) -> Article:
    article_owned(user=user, article_id=article_id)  # NotFound for someone else's
    return Article.objects.select_for_update().select_related("author", "category").get(pk=article_id)


@transaction.atomic
def article_edit(
    *, user, article_id: int, title: str, summary: str, body: str, premium: bool = False, price_pot: int | None = None
) -> Article:
    """Change one's own draft (or a rejected article, which goes back to draft)."""
    article = _owned_locked(user=user, article_id=article_id)
    if not article.editable:
        raise ArticleNotEditable(f"This article is {article.get_status_display().lower()}: it can no longer be edited.")
    _fill(article, title=title, summary=summary, body=body, premium=premium, price_pot=price_pot)
    article.status = ArticleStatus.DRAFT
    article.save()
    return article


@transaction.atomic
def article_submit(*, user, article_id: int) -> Article:
    """Send one's own draft to the operators for review."""
    article = _owned_locked(user=user, article_id=article_id)
    if article.status == ArticleStatus.SUBMITTED:
        return article  # a double click submits once
    if not article.editable:
        raise ArticleNotEditable(f"This article is {article.get_status_display().lower()}: it cannot be submitted.")
    article.status = ArticleStatus.SUBMITTED
    article.submitted_at = timezone.now()
    article.rejection_reason = ""
    article.save(update_fields=["status", "submitted_at", "rejection_reason"])
    return article


def _review_locked(article_id: int) -> Article:
    article = Article.objects.select_for_update().select_related("author__user").filter(pk=article_id).first()
    if article is None:
        raise NotFound("No such article.")
    return article


@ledger_atomic
def article_publish(*, article_id: int, operator) -> Article:
    """Publish a submitted article and pay its author the `content_published` rule, once per article."""
    article = _review_locked(article_id)
    if article.status == ArticleStatus.PUBLISHED:
        return article
    if article.status != ArticleStatus.SUBMITTED:
        raise ArticleWrongStatus("Only a submitted article can be published.")
    article.status = ArticleStatus.PUBLISHED
    article.published_at = timezone.now()
    article.reviewed_by = operator
    article.save(update_fields=["status", "published_at", "reviewed_by"])
    catalog_forget()  # the category and provider pages anonymous visitors get list it at once
    person_forget([article.author.user_id], Scope.GROWTH)  # the author's published articles (badges)
    pot_award(
        user=article.author.user,
        rule_key=PUBLISHED_RULE,
        cause=f"{PUBLISHED_RULE}:content:{article.pk}",
        reference_type="content",
        reference_id=article.pk,
    )
    emails.article_published(article.author.user, title=article.title, article_id=article.pk)
    return article


@transaction.atomic
def article_reject(*, article_id: int, operator, reason: str) -> Article:
    """Send a submitted article back to its author with the reason."""
    reason = _text(reason, field="reason", limit=1000, label="reason")
    article = _review_locked(article_id)
    if article.status != ArticleStatus.SUBMITTED:
        raise ArticleWrongStatus("Only a submitted article can be rejected.")
    article.status = ArticleStatus.REJECTED
    article.rejection_reason = reason
    article.reviewed_by = operator
    article.save(update_fields=["status", "rejection_reason", "reviewed_by"])
    emails.article_rejected(article.author.user, title=article.title, reason=reason, article_id=article.pk)
    return article


def viewer_key(*, user_id: int | None, session_key: str | None, ip: str | None) -> str:
    """Who a view is counted for: the user, else the session, else the IP address (hashed: no address is stored)."""
    source = f"user:{user_id}" if user_id else (f"session:{session_key}" if session_key else f"ip:{ip or '-'}")
    return hashlib.sha256(f"{settings.SECRET_KEY}:{source}".encode()).hexdigest()


def article_view_count(*, article: Article, viewer: str) -> bool:
    """Count a view of a published article, at most once per viewer and day; returns whether it counted."""
    if article.status != ArticleStatus.PUBLISHED:
        return False
    try:
        with transaction.atomic():
            ArticleView.objects.create(article=article, viewer=viewer, day=calendar_day())
            Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)
    except IntegrityError:
        return False
    return True


def article_views_prune(*, today=None) -> int:
    """Delete the view rows older than yesterday; returns how many.

    A row only stops a second count of the same reader on the same day: once the day is over
    it has done its job (the count lives on `Article.view_count`). Yesterday's rows stay, so a
    day boundary between time zones never counts a reader twice. Run daily (library.prune_article_views).
    """
    today = today or calendar_day()
    deleted, _ = ArticleView.objects.filter(day__lt=today - timedelta(days=1)).delete()
    return deleted


@dataclass(frozen=True)
class UnlockResult:
    unlock: ArticleUnlock
    replayed: bool = False


@ledger_atomic
def article_unlock(*, user, article_id: int) -> UnlockResult:
    """Pay a premium article's price to read it: once per reader; the author gets their share, the rest is burned.

    A retry (or a second click, from any device) returns the first unlock and charges nothing.
    """
    article = (
        Article.objects.select_related("author__user").filter(pk=article_id, status=ArticleStatus.PUBLISHED).first()
    )
    if article is None:
        raise NotFound("No such article.")
    if article.author.user_id == user.pk:
        raise OwnArticle("You wrote this article: it is yours to read.")
    if not article.premium:
        raise NotPremium("This article is free to read.")
    existing = ArticleUnlock.objects.filter(article=article, reader=user).first()
    if existing:
        return UnlockResult(unlock=existing, replayed=True)
    paid = pot_spend_shared(
        user=user,
        payee=article.author.user,
        option_key=UNLOCK_OPTION,
        price=article.price_pot,
        share_percent=settings.CONTENT_AUTHOR_SHARE_PERCENT,
        share_reason=AUTHOR_SHARE_REASON,
        cause=f"content-unlock:{article.pk}:{user.pk}",
        reference_type="content",
        reference_id=article.pk,
        note=f"Premium article: {article.title[:80]}",
    )
    if paid.replayed:  # a concurrent request paid first and has committed its unlock
        return UnlockResult(unlock=ArticleUnlock.objects.get(article=article, reader=user), replayed=True)
    unlock = ArticleUnlock.objects.create(
        article=article,
        reader=user,
        price_pot=-paid.spend.amount,
        author_share_pot=paid.share.amount if paid.share else 0,
        spend_transaction=paid.spend,
        share_transaction=paid.share,
    )
    return UnlockResult(unlock=unlock)
