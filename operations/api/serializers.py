"""The weekly report's JSON (GET /api/v1/operations/weekly-report/), typed for the schema."""

from rest_framework import serializers


class WeeklyReportQuerySerializer(serializers.Serializer):
    weeks = serializers.IntegerField(
        min_value=1, max_value=52, default=1, help_text="How many weeks (of 7 days ending now), newest first."
    )


class WeekSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="0: the last 7 days, 1: the 7 days before, …")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    label = serializers.CharField()


class GoalSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    target = serializers.CharField()
    actual = serializers.CharField()
    met = serializers.BooleanField()


class RevenueSerializer(serializers.Serializer):
    week = serializers.IntegerField()
    week_start = serializers.DateTimeField()
    category = serializers.CharField(help_text="The category's display name.")
    engagements = serializers.IntegerField(help_text="Engagements reported (as the runbook counts them).")
    deal_value_usd = serializers.DecimalField(max_digits=14, decimal_places=2)
    commission_usd = serializers.DecimalField(max_digits=14, decimal_places=2)


class PotFlowSerializer(serializers.Serializer):
    week = serializers.IntegerField()
    reason = serializers.CharField(help_text="The transactions' reason (pot_transactions.category).")
    transactions = serializers.IntegerField()
    pot = serializers.IntegerField(help_text="Whole POT (spending: as a positive number).")


class NewProfilesSerializer(serializers.Serializer):
    week = serializers.IntegerField()
    category = serializers.CharField()
    seekers = serializers.IntegerField()
    providers = serializers.IntegerField()


class ConversionSerializer(serializers.Serializer):
    introductions = serializers.FloatField(allow_null=True, help_text="introductions / matches")
    accepted = serializers.FloatField(allow_null=True, help_text="accepted / introductions")
    engagements = serializers.FloatField(allow_null=True, help_text="engagements / accepted")
    completed = serializers.FloatField(allow_null=True, help_text="completed / engagements")


class FunnelSerializer(serializers.Serializer):
    category = serializers.CharField()
    matches = serializers.IntegerField(help_text="Matches made in the report's weeks.")
    introductions = serializers.IntegerField()
    accepted = serializers.IntegerField()
    engagements = serializers.IntegerField()
    completed = serializers.IntegerField()
    conversion_rates = ConversionSerializer()


class ReferralFunnelSerializer(serializers.Serializer):
    signed_up = serializers.IntegerField()
    activated = serializers.IntegerField(help_text="Of those, people who created a profile.")
    engaged = serializers.IntegerField(help_text="Of those, people with an engagement.")


class MultiCategorySerializer(serializers.Serializer):
    people_in_two_or_more = serializers.IntegerField()
    seekers_engaged_in_two_or_more = serializers.IntegerField()


class WeeklyReportSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    weeks = WeekSerializer(many=True)
    goals = GoalSerializer(many=True)
    revenue_by_category = RevenueSerializer(many=True)
    pot_earning_sources = PotFlowSerializer(many=True)
    pot_spending_patterns = PotFlowSerializer(many=True)
    new_profiles_by_category = NewProfilesSerializer(many=True)
    funnel_by_category = FunnelSerializer(many=True)
    referral_funnel = ReferralFunnelSerializer()
    multi_category = MultiCategorySerializer()
