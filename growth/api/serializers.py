"""Leaderboards as the API shows them: per board, its rows; an Anonymous row carries no name, id or badge."""

from django.conf import settings
from rest_framework import serializers


class BadgeSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="e.g. verified, top_rated (the badges page lists them all).")
    name = serializers.CharField()
    rule = serializers.CharField(help_text="What earns it, in words.")


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="1 is the top; people with equal figures share a rank.")
    name = serializers.SerializerMethodField(help_text='The person\'s name, or "Anonymous" unless they opted in.')
    anonymous = serializers.BooleanField(help_text="True: the person did not choose to appear by name.")
    is_you = serializers.SerializerMethodField(help_text="Whether this row is yours (logged-in callers).")
    badges = BadgeSerializer(many=True, help_text="The person's badges when computed; none for Anonymous rows.")

    def get_name(self, row) -> str:
        return "Anonymous" if row.anonymous else row.name

    def get_is_you(self, row) -> bool:
        user = self.context.get("user")
        return bool(user is not None and user.is_authenticated and user.pk == row.user_id)


class ProviderRowSerializer(LeaderboardRowSerializer):
    provider_id = serializers.IntegerField(
        allow_null=True, help_text="The provider's public page (GET /api/v1/providers/{id}/); null when Anonymous."
    )
    engagements = serializers.IntegerField(
        source="figures.engagements", help_text="Engagements confirmed in the month (cancelled ones do not count)."
    )
    rating = serializers.DecimalField(
        source="figures.rating",
        max_digits=3,
        decimal_places=2,
        allow_null=True,
        help_text="Average stars now (ties are ranked by it, Bayesian); null when Anonymous or unrated.",
    )
    rating_count = serializers.IntegerField(source="figures.rating_count", allow_null=True)


class ContributorRowSerializer(LeaderboardRowSerializer):
    provider_id = serializers.IntegerField(allow_null=True, help_text="Their provider page; null when Anonymous.")
    contributions = serializers.IntegerField(
        source="figures.contributions", help_text="accepted_answers + published_articles: what ranks them."
    )
    accepted_answers = serializers.IntegerField(
        source="figures.accepted_answers", help_text="Community answers accepted in the month (ties: more first)."
    )
    published_articles = serializers.IntegerField(
        source="figures.published_articles", help_text="Library articles published in the month."
    )


class ConnectorRowSerializer(LeaderboardRowSerializer):
    activated_referrals = serializers.IntegerField(
        source="figures.activated_referrals",
        help_text="People they referred who created their first profile in the month, with a profile in the category.",
    )


class ProviderBoardSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField(help_text="When this board was last computed.")
    rows = ProviderRowSerializer(many=True)


class ContributorBoardSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField(help_text="When this board was last computed.")
    rows = ContributorRowSerializer(many=True)


class ConnectorBoardSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField(help_text="When this board was last computed.")
    rows = ConnectorRowSerializer(many=True)


class LeaderboardsSerializer(serializers.Serializer):
    category = serializers.CharField(source="category.name")
    category_display_name = serializers.CharField(source="category.display_name")
    month = serializers.CharField(source="month.key", help_text="YYYY-MM, a calendar month in UTC.")
    refresh_seconds = serializers.SerializerMethodField(
        help_text="Each board is recomputed at most this often; a changed name setting shows within it."
    )
    providers = ProviderBoardSerializer()
    contributors = ContributorBoardSerializer()
    connectors = ConnectorBoardSerializer()

    def get_refresh_seconds(self, data) -> int:
        return settings.LEADERBOARD_CACHE_SECONDS
