"""Filters of the POT lists (transactions, redemptions)."""

import django_filters

from currency.models import PotTransaction, Redemption, RedemptionStatus, TransactionType
from imatch.api import IdFilter


class PotTransactionFilter(django_filters.FilterSet):
    transaction_type = django_filters.ChoiceFilter(choices=TransactionType.choices)
    category = django_filters.CharFilter(field_name="category", label="Reason, e.g. profile_creation")
    reason = django_filters.CharFilter(field_name="category", label="Same as category")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    user = IdFilter(field_name="user_id", label="Staff: this user's rows")

    class Meta:
        model = PotTransaction
        fields = ["transaction_type", "category", "reason", "created_after", "created_before", "user"]


class RedemptionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RedemptionStatus.choices)
    user = IdFilter(field_name="user_id", label="Staff: this user's redemptions")

    class Meta:
        model = Redemption
        fields = ["status", "user"]
