"""The content library's services: drafts, review, the `content_published` award, views and premium unlocks."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from currency import services as pot
from currency.models import PotTransaction, Purchase, TransactionType, Wallet
from imatch.errors import DomainError, NotFound
from library import services
from library.errors import ArticleNotEditable, ArticleWrongStatus, NotPremium, OwnArticle
from library.models import Article, ArticleStatus, ArticleUnlock, ArticleView
from library.tasks import prune_article_views
from notifications.models import Notification, NotificationKind
from tests.library.factories import PublishedArticleFactory
from tests.marketplace.factories import ProviderFactory, UserFactory

pytestmark = pytest.mark.django_db
TEXT = {"title": "Budget basics", "summary": "Where the money goes.", "body": "# Hi\n\n<script>x</script> **ok**"}


def draft(provider, **changes):
    return services.article_create(user=provider.user, provider_id=provider.pk, **{**TEXT, **changes})


def balance(user) -> tuple[int, int]:
    wallet = Wallet.objects.filter(user=user).first()
    return (wallet.balance, wallet.promotional_balance) if wallet else (0, 0)


def test_a_draft_is_rendered_safely_at_save_and_in_the_author_category():
    provider = ProviderFactory()
    article = draft(provider)
    assert article.status == ArticleStatus.DRAFT and article.category == provider.category
    assert "<strong>ok</strong>" in article.body_html and "<script>" not in article.body_html


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"title": " "}, "title"), ({"summary": ""}, "summary"), ({"body": "x" * 50_001}, "body"),
     ({"premium": True, "price_pot": None}, "price_pot"), ({"premium": True, "price_pot": 9}, "price_pot"),
     ({"premium": True, "price_pot": 501}, "price_pot"), ({"premium": True, "price_pot": 10.5}, "price_pot")],
)  # fmt: skip
def test_bad_drafts_are_refused_next_to_the_field(changes, field):
    with pytest.raises(DomainError) as refused:
        draft(ProviderFactory(), **changes)
    assert refused.value.field == field


def test_only_the_author_edits_and_only_while_draft_or_rejected(operator):
    provider, stranger = ProviderFactory(), ProviderFactory()
    article = draft(provider)
    with pytest.raises(NotFound):
        services.article_edit(user=stranger.user, article_id=article.pk, **TEXT)
    with pytest.raises(DomainError, match="Choose one of your provider profiles") as refused:
        services.article_create(user=stranger.user, provider_id=provider.pk, **TEXT)
    assert refused.value.field == "provider" and not isinstance(refused.value, NotFound)
    services.article_submit(user=provider.user, article_id=article.pk)
    with pytest.raises(ArticleNotEditable):
        services.article_edit(user=provider.user, article_id=article.pk, **TEXT)
    services.article_reject(article_id=article.pk, operator=operator, reason="Add sources.")
    article.refresh_from_db()
    assert article.status == ArticleStatus.REJECTED and article.rejection_reason == "Add sources."
    edited = services.article_edit(user=provider.user, article_id=article.pk, **{**TEXT, "title": "Better"})
    assert edited.status == ArticleStatus.DRAFT and edited.title == "Better"


def test_the_author_is_told_once_when_an_article_is_published_or_sent_back(
    operator, django_capture_on_commit_callbacks
):
    provider = ProviderFactory()
    published, rejected = draft(provider, title="Budget basics"), draft(provider, title="Taxes <b>101</b>")
    for article in (published, rejected):
        services.article_submit(user=provider.user, article_id=article.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.article_publish(article_id=published.pk, operator=operator)
        services.article_publish(article_id=published.pk, operator=operator)  # a retry tells nobody again
        services.article_reject(article_id=rejected.pk, operator=operator, reason="Cite the IRS page.")
    subjects = [message.subject for message in mail.outbox]
    assert subjects == [
        "I MATCH: your article “Budget basics” is published",
        "I MATCH: your article “Taxes <b>101</b>” needs changes",
    ]
    assert mail.outbox[0].to == [provider.user.email] and f"/library/{published.pk}/" in mail.outbox[0].body
    assert "Cite the IRS page." in mail.outbox[1].body and f"/library/mine/{rejected.pk}/edit/" in mail.outbox[1].body
    told = Notification.objects.filter(user=provider.user).exclude(kind=NotificationKind.POT_EARNED).order_by("pk")
    assert [(note.kind, note.link) for note in told] == [
        (NotificationKind.ARTICLE_PUBLISHED, f"/library/{published.pk}/"),
        (NotificationKind.ARTICLE_REJECTED, f"/library/mine/{rejected.pk}/edit/"),
    ]


def test_publishing_pays_the_author_promotional_pot_once(operator):
    provider = ProviderFactory()
    article = draft(provider)
    with pytest.raises(ArticleWrongStatus):
        services.article_publish(article_id=article.pk, operator=operator)
    services.article_submit(user=provider.user, article_id=article.pk)
    services.article_publish(article_id=article.pk, operator=operator)
    services.article_publish(article_id=article.pk, operator=operator)  # a retry
    with pytest.raises(ArticleWrongStatus):
        services.article_reject(article_id=article.pk, operator=operator, reason="late")
    awards = PotTransaction.objects.filter(user=provider.user, category="content_published")
    assert [(row.amount, row.promotional_amount) for row in awards] == [(50, 50)]
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED and article.published_at and article.reviewed_by == operator


def test_a_reject_needs_a_reason(operator):
    provider = ProviderFactory()
    article = services.article_submit(user=provider.user, article_id=draft(provider).pk)
    with pytest.raises(DomainError) as refused:
        services.article_reject(article_id=article.pk, operator=operator, reason="  ")
    assert refused.value.field == "reason"


def test_views_count_once_per_viewer_and_day():
    article = PublishedArticleFactory()
    alice = services.viewer_key(user_id=1, session_key=None, ip="1.2.3.4")
    anonymous = services.viewer_key(user_id=None, session_key=None, ip="1.2.3.4")
    assert services.article_view_count(article=article, viewer=alice)
    assert not services.article_view_count(article=article, viewer=alice)
    assert services.article_view_count(article=article, viewer=anonymous)
    article.refresh_from_db()
    assert article.view_count == 2


def test_a_reader_who_changes_time_zone_is_counted_once_that_day(monkeypatch):
    """The day is the server's (imatch.weeks.calendar_day): a reader who moves their account to
    UTC+14 late in the evening (UTC), where tomorrow has begun, is not counted again."""
    article = PublishedArticleFactory()
    reader = services.viewer_key(user_id=1, session_key=None, ip="1.2.3.4")
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    assert services.article_view_count(article=article, viewer=reader)
    with timezone.override(zoneinfo.ZoneInfo("Pacific/Kiritimati")):  # Dec 1, 10:00 there
        assert not services.article_view_count(article=article, viewer=reader)
    article.refresh_from_db()
    assert article.view_count == 1


def test_the_daily_prune_keeps_today_and_yesterday_and_the_counts():
    article = PublishedArticleFactory()
    today = timezone.localdate()
    for days_ago in (0, 1, 2, 30):
        ArticleView.objects.create(article=article, viewer=f"reader-{days_ago}", day=today - timedelta(days_ago))
    Article.objects.filter(pk=article.pk).update(view_count=4)
    assert prune_article_views.delay().get() == 2  # the beat task, run as the worker would
    assert sorted(ArticleView.objects.values_list("viewer", flat=True)) == ["reader-0", "reader-1"]
    article.refresh_from_db()
    assert article.view_count == 4
    assert services.article_views_prune() == 0  # nothing left to prune
    assert not services.article_view_count(article=article, viewer="reader-0")  # today's reader still counted once


def fund(user, operator, *, earned=0, promotional=0):
    if earned:
        pot.pot_adjust(user=user, operator=operator, amount=earned, reason="test")
    if promotional:
        pot.pot_award(user=user, rule_key="profile_creation_provider", cause=f"test:{user.pk}")
        assert promotional == 100


def test_unlock_pays_the_author_half_burns_the_rest_and_happens_once(operator):
    article = PublishedArticleFactory(premium=True, price_pot=40)
    reader = UserFactory()
    fund(reader, operator, earned=100)
    first = services.article_unlock(user=reader, article_id=article.pk)
    again = services.article_unlock(user=reader, article_id=article.pk)
    assert again.replayed and again.unlock.pk == first.unlock.pk
    assert balance(reader) == (60, 0)
    assert balance(article.author.user) == (20, 0)
    assert first.unlock.price_pot == 40 and first.unlock.author_share_pot == 20
    assert Purchase.objects.get(user=reader).cost == 40
    shares = PotTransaction.objects.filter(category="content_author_share", transaction_type=TransactionType.EARN)
    assert shares.count() == 1 and ArticleUnlock.objects.count() == 1


def test_unlock_refusals(operator):
    article = PublishedArticleFactory(premium=True, price_pot=40)
    with pytest.raises(OwnArticle):
        services.article_unlock(user=article.author.user, article_id=article.pk)
    with pytest.raises(NotPremium):
        services.article_unlock(user=UserFactory(), article_id=PublishedArticleFactory().pk)
    with pytest.raises(NotFound):
        services.article_unlock(user=UserFactory(), article_id=PublishedArticleFactory(status="draft").pk)
    poor = UserFactory()
    with pytest.raises(pot.InsufficientPot):
        services.article_unlock(user=poor, article_id=article.pk)
    assert not ArticleUnlock.objects.exists() and not PotTransaction.objects.filter(user=poor).exists()


def test_two_accounts_cannot_launder_promotional_pot_through_an_own_article(operator):
    """One person: account A (promotional POT only) unlocks account B's premium article."""
    article = PublishedArticleFactory(premium=True, price_pot=100)
    second_account = UserFactory()
    fund(second_account, operator, promotional=100)
    services.article_unlock(user=second_account, article_id=article.pk)
    author_balance, author_promotional = balance(article.author.user)
    assert author_balance == 50 and author_promotional == 50  # nothing became redeemable
    # Mixed: 30 earned + 100 promotional, spend 100 (promotional first): the share stays all promotional.
    other = PublishedArticleFactory(premium=True, price_pot=100, author=ProviderFactory())
    third = UserFactory()
    fund(third, operator, earned=30, promotional=100)
    services.article_unlock(user=third, article_id=other.pk)
    assert balance(third) == (30, 0)
    assert balance(other.author.user) == (50, 50)
    total_promotional = Wallet.objects.aggregate(p=Sum("promotional_balance"))["p"]
    assert total_promotional == 100  # of the 200 promotional POT awarded, half was burned, none released


@override_settings(CONTENT_AUTHOR_SHARE_PERCENT=50)
def test_share_of_a_partly_promotional_spend_is_promotional_in_proportion(operator):
    article = PublishedArticleFactory(premium=True, price_pot=150)
    reader = UserFactory()
    fund(reader, operator, earned=50, promotional=100)  # spends 100 promotional + 50 earned
    services.article_unlock(user=reader, article_id=article.pk)
    assert balance(article.author.user) == (75, 50)  # 75 x 100/150 promotional, rounded up


def test_the_wallet_shop_does_not_sell_content_unlocks(operator):
    reader = UserFactory()
    fund(reader, operator, earned=100)
    with pytest.raises(DomainError):
        pot.pot_spend(user=reader, option_key="content_unlock")
    assert balance(reader) == (100, 0)
