"""The content library: articles and guides providers write in their category (table `content`)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from categories.models import Category
from currency.models import PotTransaction
from marketplace.models import Provider


class ArticleStatus(models.TextChoices):
    """Where an article stands on its way to readers."""

    DRAFT = "draft", "Draft"  # the author is writing it; only they see it
    SUBMITTED = "submitted", "Waiting for review"  # the author sent it to the operators
    PUBLISHED = "published", "Published"  # an operator published it: everyone reads it
    REJECTED = "rejected", "Rejected"  # an operator sent it back with a reason; the author may edit and resubmit


class Article(models.Model):
    """An article or guide by a provider, in the provider's category; Markdown rendered to safe HTML on save."""

    TITLE_MAX = 200
    SUMMARY_MAX = 500
    BODY_MAX = 50_000

    # No index of their own: `content_author_status` and `content_category_published` begin with them.
    author = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="articles", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="articles", db_index=False)
    title = models.CharField(max_length=TITLE_MAX)
    summary = models.TextField(
        max_length=SUMMARY_MAX, help_text="Plain text; shown in lists and before a premium unlock."
    )
    body = models.TextField(max_length=BODY_MAX, help_text="Markdown.")
    body_html = models.TextField(editable=False, help_text="The body rendered and sanitized when it was saved.")
    status = models.CharField(max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    rejection_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    view_count = models.PositiveIntegerField(default=0)
    premium = models.BooleanField(default=False, help_text="Readers unlock the body with POT.")
    price_pot = models.BigIntegerField(null=True, blank=True, help_text="The unlock price of a premium article.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "content"
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["category", "status", "published_at"], name="content_category_published"),
            models.Index(fields=["author", "status"], name="content_author_status"),
            models.Index(fields=["status", "submitted_at"], name="content_status_submitted"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(premium=False) | Q(price_pot__gt=0), name="content_premium_has_price"),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False), name="content_published_has_date"
            ),
            models.CheckConstraint(condition=~Q(title=""), name="content_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def editable(self) -> bool:
        return self.status in (ArticleStatus.DRAFT, ArticleStatus.REJECTED)


class ArticleView(models.Model):
    """One reader's view of an article on one day: what the view count counts (reloads do not)."""

    # No index of its own: `content_view_once_a_day` begins with it (an index less to write with every view).
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+", db_index=False)
    viewer = models.CharField(max_length=64, help_text="A hash of the user id, or of the session or IP address.")
    day = models.DateField()

    class Meta:
        db_table = "content_views"
        constraints = [models.UniqueConstraint(fields=["article", "viewer", "day"], name="content_view_once_a_day")]

    def __str__(self) -> str:
        return f"View of article {self.article_id} on {self.day}"


class ArticleUnlock(models.Model):
    """A reader paid POT to read a premium article: once per reader; the ledger rows of both sides."""

    # No index of its own: `content_unlock_once_per_reader` begins with it.
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="unlocks", db_index=False)
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="content_unlocks")
    price_pot = models.BigIntegerField()
    author_share_pot = models.BigIntegerField()
    spend_transaction = models.OneToOneField(PotTransaction, on_delete=models.PROTECT, related_name="+")
    share_transaction = models.OneToOneField(
        PotTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "content_unlocks"
        constraints = [
            models.UniqueConstraint(fields=["article", "reader"], name="content_unlock_once_per_reader"),
            models.CheckConstraint(condition=Q(price_pot__gt=0), name="content_unlock_price_gt_0"),
            models.CheckConstraint(
                condition=Q(author_share_pot__gte=0) & Q(author_share_pot__lte=F("price_pot")),
                name="content_unlock_share_within_price",
            ),
        ]

    def __str__(self) -> str:
        return f"Article {self.article_id} unlocked by user {self.reader_id}"
