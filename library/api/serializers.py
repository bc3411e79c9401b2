from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from library.models import Article, ArticleUnlock


class ArticleSummarySerializer(serializers.ModelSerializer):
    """An article as lists show it: no body (open one for it)."""

    category = serializers.CharField(source="category.name")
    author = serializers.IntegerField(source="author_id", help_text="The author's provider profile id.")
    author_name = serializers.CharField(source="author.business_name")

    class Meta:
        model = Article
        fields = ["id", "category", "author", "author_name", "title", "summary", "status", "rejection_reason",
                  "premium", "price_pot", "view_count", "published_at", "updated_at"]  # fmt: skip
        read_only_fields = fields


class ArticleSerializer(ArticleSummarySerializer):
    """One article. `body` (Markdown) and `body_html` (sanitized) are null while a premium article is locked."""

    unlocked = serializers.SerializerMethodField(help_text="Whether you read the whole body.")
    body = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()

    class Meta(ArticleSummarySerializer.Meta):
        fields = [*ArticleSummarySerializer.Meta.fields, "unlocked", "body", "body_html"]
        read_only_fields = fields

    def get_unlocked(self, article: Article) -> bool:
        return bool(self.context.get("unlocked"))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_body(self, article: Article) -> str | None:
        return article.body if self.context.get("unlocked") else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_body_html(self, article: Article) -> str | None:
        return article.body_html if self.context.get("unlocked") else None


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A premium guide",
            value={
                "provider": 12,
                "title": "Retirement in ten steps",
                "summary": "What to do at 45, 55 and 65.",
                "body": "## Step one\n\nWrite down **everything** you spend.",
                "premium": True,
                "price_pot": 40,
            },
            request_only=True,
        )
    ]
)
class ArticleWriteSerializer(serializers.Serializer):
    """A draft: the service checks the texts and the price bounds (400 with the field)."""

    provider = serializers.IntegerField(
        min_value=1,
        max_value=10**18 - 1,
        required=False,
        help_text="Your provider profile (create only): its category.",
    )
    title = serializers.CharField(max_length=Article.TITLE_MAX, required=False, allow_blank=True)
    summary = serializers.CharField(max_length=Article.SUMMARY_MAX, required=False, allow_blank=True)
    body = serializers.CharField(max_length=Article.BODY_MAX, required=False, allow_blank=True, help_text="Markdown.")
    premium = serializers.BooleanField(required=False)
    price_pot = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=10**9,
        help_text=f"Premium only: {settings.CONTENT_PRICE_MIN_POT} to {settings.CONTENT_PRICE_MAX_POT} POT by default "
        "(operators set the bounds).",
    )


class ArticleUnlockSerializer(serializers.ModelSerializer):
    article = serializers.IntegerField(source="article_id")
    spend_transaction = serializers.IntegerField(source="spend_transaction_id", help_text="Your ledger row.")

    class Meta:
        model = ArticleUnlock
        fields = ["id", "article", "price_pot", "author_share_pot", "spend_transaction", "created_at"]
        read_only_fields = fields
