"""API shapes of POT: validation of types and sizes only (rules live in currency.services)."""

import re
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from currency.models import (
    EarningRule,
    PotTransaction,
    Purchase,
    Redemption,
    SpendOption,
    TransactionType,
    purchase_description,
    reason_text,
)
from currency.selectors import ECONOMY_DEFINITIONS
from imatch.api_rows import api_datetime, api_decimal, current_zone
from imatch.db import page_values

# POT amounts are whole numbers; this bound keeps them far inside a 64-bit column.
POT_MAX = 10**12


class PurchaseEffectSerializer(serializers.ModelSerializer):
    description = serializers.SerializerMethodField()

    class Meta:
        model = Purchase
        fields = [
            "effect",
            "starts_at",
            "ends_at",
            "matches_granted",
            "matches_taken_at",
            "credit_usd",
            "credit_used_usd",
            "description",
        ]
        read_only_fields = fields

    def get_description(self, purchase: Purchase) -> str:
        return purchase.describe()


class PotTransactionSerializer(serializers.ModelSerializer):
    reason = serializers.CharField(source="reason_text", read_only=True)
    effect = serializers.SerializerMethodField()

    class Meta:
        model = PotTransaction
        fields = [
            "id",
            "user",
            "transaction_type",
            "category",
            "reason",
            "amount",
            "balance_after",
            "reference_type",
            "reference_id",
            "actor",
            "created_at",
            "effect",
        ]
        read_only_fields = fields

    @extend_schema_field(PurchaseEffectSerializer(allow_null=True, help_text="What a spend bought; null otherwise."))
    def get_effect(self, row: PotTransaction) -> dict | None:
        purchase = getattr(row, "purchase", None) if row.transaction_type == "spend" else None
        if purchase is None:
            return None
        # One effect serializer for all the rows of a list (building one per row was most of its time).
        if self._effect is None:
            self._effect = PurchaseEffectSerializer()
        return self._effect.to_representation(purchase)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._effect: PurchaseEffectSerializer | None = None


# The columns `transaction_rows` reads, in the order it unpacks them.
TRANSACTION_ROW_COLUMNS = (
    "id",
    "user_id",
    "transaction_type",
    "category",
    "note",
    "amount",
    "balance_after",
    "reference_type",
    "reference_id",
    "actor_id",
    "created_at",
    "purchase__id",
    "purchase__effect",
    "purchase__starts_at",
    "purchase__ends_at",
    "purchase__matches_granted",
    "purchase__matches_taken_at",
    "purchase__credit_usd",
    "purchase__credit_used_usd",
)


def transaction_rows(transactions: QuerySet[PotTransaction]) -> list[dict]:
    """What `PotTransactionSerializer(many=True)` gives for these rows, from one values query
    (the purchase joined): the list's rows without DRF's per-field work (`imatch.api_rows`)."""
    return transaction_rows_from(transaction_values(transactions))


def transaction_values(transactions: QuerySet[PotTransaction]) -> list[tuple]:
    """The rows' columns as stored (`TRANSACTION_ROW_COLUMNS`): what a kept page of the list keeps."""
    return page_values(transactions, TRANSACTION_ROW_COLUMNS)


def transaction_rows_until(values: list[tuple], now: datetime) -> datetime | None:
    """The first moment after `now` at which `transaction_rows_from(values)` written at `now` changes:
    a purchase's state (`purchase_description`) moves at its start and its end; None: never."""
    kind, purchase, starts, ends = (
        TRANSACTION_ROW_COLUMNS.index(name)
        for name in ("transaction_type", "purchase__id", "purchase__starts_at", "purchase__ends_at")
    )
    moments = [
        moment
        for row in values
        if row[purchase] is not None and row[kind] == TransactionType.SPEND
        for moment in (row[starts], row[ends])
        if moment is not None and moment > now
    ]
    return min(moments, default=None)


def transaction_rows_from(values: list[tuple]) -> list[dict]:
    """The list's rows from `transaction_values`, written now: in the request's time zone, and a
    purchase's state (active, ended, used) as it stands at this moment, never as it stood when kept."""
    zone, now = current_zone(), timezone.now()
    rows = []
    for (
        pk,
        user_id,
        kind,
        reason,
        note,
        amount,
        balance_after,
        reference_type,
        reference_id,
        actor_id,
        created_at,
        purchase_id,
        effect,
        starts_at,
        ends_at,
        matches_granted,
        matches_taken_at,
        credit_usd,
        credit_used_usd,
    ) in values:
        bought = None
        if purchase_id is not None and kind == TransactionType.SPEND:
            bought = {
                "effect": effect,
                "starts_at": api_datetime(starts_at, zone),
                "ends_at": api_datetime(ends_at, zone),
                "matches_granted": matches_granted,
                "matches_taken_at": api_datetime(matches_taken_at, zone),
                "credit_usd": api_decimal(credit_usd),
                "credit_used_usd": api_decimal(credit_used_usd),
                "description": purchase_description(
                    effect=effect,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    matches_granted=matches_granted,
                    matches_taken_at=matches_taken_at,
                    credit_usd=credit_usd,
                    credit_used_usd=credit_used_usd,
                    at=now,
                ),
            }
        rows.append(
            {
                "id": pk,
                "user": user_id,
                "transaction_type": kind,
                "category": reason,
                "reason": reason_text(kind, reason, note),
                "amount": amount,
                "balance_after": balance_after,
                "reference_type": reference_type,
                "reference_id": reference_id,
                "actor": actor_id,
                "created_at": api_datetime(created_at, zone),
                "effect": bought,
            }
        )
    return rows


class LevelSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    lifetime_pot_earned = serializers.IntegerField()
    next_level = serializers.CharField(allow_null=True)
    next_level_at = serializers.IntegerField(allow_null=True)


class BalanceSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    pot_balance = serializers.IntegerField(source="balance")
    usd_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    spendable = serializers.IntegerField(help_text="POT that buys platform features (promotional POT is spent first).")
    redeemable = serializers.IntegerField(help_text="POT a redemption may take now.")
    redeemable_usd = serializers.DecimalField(max_digits=14, decimal_places=2)
    promotional = serializers.IntegerField(
        source="promotional_balance",
        help_text="Promotional POT in the balance: redeemable once a paid commission pays for it.",
    )
    debt = serializers.IntegerField(help_text="POT owed after a reversal; the next earnings settle it first.")
    paid_engagement = serializers.BooleanField()
    email_verified = serializers.BooleanField()
    not_redeemable_because = serializers.ListField(
        source="redeem_blockers", child=serializers.CharField(), help_text="Why not all of the balance is redeemable."
    )
    level = serializers.SerializerMethodField()

    @extend_schema_field(LevelSerializer)
    def get_level(self, summary) -> dict:
        return LevelSerializer(summary.level.as_dict(summary.lifetime_earned)).data

    def to_representation(self, summary) -> dict:
        """The fields above, in their order, made without DRF's per-call copy and binding of every field.

        The balance is read on every start of the app; DRF's generic path was most of the view's
        own time. `tests/test_request_pipeline.py` checks it answers what DRF's path answers.
        """
        usd = self._declared_fields["usd_value"]  # DRF's own rounding and formatting of amounts
        level = summary.level.as_dict(summary.lifetime_earned)
        return {
            "user_id": int(summary.user_id),
            "pot_balance": int(summary.balance),
            "usd_value": usd.to_representation(summary.usd_value),
            "spendable": int(summary.spendable),
            "redeemable": int(summary.redeemable),
            "redeemable_usd": usd.to_representation(summary.redeemable_usd),
            "promotional": int(summary.promotional_balance),
            "debt": int(summary.debt),
            "paid_engagement": bool(summary.paid_engagement),
            "email_verified": bool(summary.email_verified),
            "not_redeemable_because": [str(reason) for reason in summary.redeem_blockers],
            "level": {
                "number": int(level["number"]),
                "name": str(level["name"]),
                "lifetime_pot_earned": int(level["lifetime_pot_earned"]),
                "next_level": None if level["next_level"] is None else str(level["next_level"]),
                "next_level_at": None if level["next_level_at"] is None else int(level["next_level_at"]),
            },
        }


class EarningRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = EarningRule
        fields = ["key", "name", "description", "reason", "audience", "amount", "percent_of_deal_value"]
        read_only_fields = fields


class SpendOptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SpendOption
        fields = ["key", "name", "description", "cost", "audience", "effect", "duration_days", "quantity"]
        read_only_fields = fields


class RatesSerializer(serializers.Serializer):
    usd_rate = serializers.DecimalField(max_digits=8, decimal_places=4)
    min_redemption = serializers.IntegerField()
    earning_rules = EarningRuleSerializer(many=True)
    spend_options = SpendOptionSerializer(many=True)

    @staticmethod
    def current(earning_rules, spend_options) -> dict:
        return {
            "usd_rate": settings.POT_USD_RATE,
            "min_redemption": settings.POT_MIN_REDEMPTION,
            "earning_rules": earning_rules,
            "spend_options": spend_options,
        }


@extend_schema_serializer(
    examples=[
        OpenApiExample("A profile boost", value={"option": "profile_boost", "expected_cost": 200}, request_only=True)
    ]
)
class SpendRequestSerializer(serializers.Serializer):
    option = serializers.SlugField(max_length=64)
    expected_cost = serializers.IntegerField(
        min_value=1, max_value=POT_MAX, required=False, help_text="The price the user confirmed; 409 if it changed."
    )


# What `SpendRequestSerializer` takes as it is: a slug of at most 64 characters (no whitespace to trim).
_SPEND_OPTION = re.compile(r"[-a-zA-Z0-9_]{1,64}")


def spend_request(data) -> tuple[str, int | None]:
    """The option and the confirmed cost (None when not given) of a spend's body, as `SpendRequestSerializer` has them.

    A well-formed JSON body (an object whose `option` is a slug and whose `expected_cost`, if
    given, is a whole number in range) is read as it is: building the serializer and its fields
    for it cost ~0.15 ms of a spend's CPU. Any other body goes through the serializer, so every
    refusal and every conversion (`"200"` for 200, a slug with spaces around it) is DRF's own.
    """
    if type(data) is dict and type(option := data.get("option")) is str and _SPEND_OPTION.fullmatch(option):
        if "expected_cost" not in data:
            return option, None
        cost = data["expected_cost"]
        if type(cost) is int and 1 <= cost <= POT_MAX:  # not a bool, not null
            return option, cost
    serializer = SpendRequestSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["option"], serializer.validated_data.get("expected_cost")


class SpendResultSerializer(serializers.Serializer):
    transaction = PotTransactionSerializer()
    balance_after = serializers.IntegerField(source="transaction.balance_after")
    effect = PurchaseEffectSerializer(source="purchase")


def spend_answer(row: PotTransaction, purchase: Purchase) -> dict:
    """What `SpendResultSerializer` gives for a spend's row and purchase, written as the wallet's
    list writes its rows (`transaction_rows_from`): its three nested serializers walked 27 fields
    through DRF's field objects, a tenth of a spend's CPU."""
    (written,) = transaction_rows_from(
        [
            (
                row.pk,
                row.user_id,
                row.transaction_type,
                row.category,
                row.note,
                row.amount,
                row.balance_after,
                row.reference_type,
                row.reference_id,
                row.actor_id,
                row.created_at,
                purchase.pk,
                purchase.effect,
                purchase.starts_at,
                purchase.ends_at,
                purchase.matches_granted,
                purchase.matches_taken_at,
                purchase.credit_usd,
                purchase.credit_used_usd,
            )
        ]
    )
    return {"transaction": written, "balance_after": row.balance_after, "effect": dict(written["effect"])}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Redeem 500 POT", value={"pot_amount": 500, "payment_method": "PayPal dana@example.com"}, request_only=True
        )
    ]
)
class RedeemRequestSerializer(serializers.Serializer):
    pot_amount = serializers.IntegerField(min_value=1, max_value=POT_MAX)
    payment_method = serializers.CharField(max_length=200)


class RedemptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Redemption
        fields = [
            "id",
            "user",
            "pot_amount",
            "usd_amount",
            "usd_rate",
            "payment_method",
            "status",
            "payout_reference",
            "rejection_reason",
            "decided_by",
            "decided_at",
            "paid_at",
            "created_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[OpenApiExample("Paid", value={"payout_reference": "PAYPAL-7GH21"}, request_only=True)]
)
class RedemptionApproveSerializer(serializers.Serializer):
    payout_reference = serializers.CharField(max_length=200)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Rejected", value={"reason": "The payment method is not an account in your name."}, request_only=True
        )
    ]
)
class RedemptionRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A correction",
            value={"user": 7, "amount": -150, "reason": "Duplicate award reversed (ticket 4312)."},
            request_only=True,
        )
    ]
)
class AdjustmentRequestSerializer(serializers.Serializer):
    user = serializers.IntegerField(min_value=1, max_value=10**18 - 1)
    amount = serializers.IntegerField(min_value=-POT_MAX, max_value=POT_MAX)
    reason = serializers.CharField(max_length=500)

    def validate_amount(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("An adjustment is a non-zero number of POT.")
        return value


class EconomySerializer(serializers.Serializer):
    """The plan's nine statistics, with the two rates also as the plan displays them."""

    total_users = serializers.IntegerField(help_text=ECONOMY_DEFINITIONS["total_users"])
    users_with_pot = serializers.IntegerField(help_text=ECONOMY_DEFINITIONS["users_with_pot"])
    participation_rate = serializers.FloatField(
        min_value=0, max_value=1, help_text=ECONOMY_DEFINITIONS["participation_rate"]
    )
    participation_rate_display = serializers.CharField(
        help_text='participation_rate as a percentage with one decimal, e.g. "30.0%".'
    )
    total_pot_in_circulation = serializers.IntegerField(help_text=ECONOMY_DEFINITIONS["total_pot_in_circulation"])
    total_pot_earned_all_time = serializers.IntegerField(help_text=ECONOMY_DEFINITIONS["total_pot_earned_all_time"])
    total_pot_spent_all_time = serializers.IntegerField(help_text=ECONOMY_DEFINITIONS["total_pot_spent_all_time"])
    total_pot_burned_all_time = serializers.IntegerField(help_text=ECONOMY_DEFINITIONS["total_pot_burned_all_time"])
    burn_rate = serializers.FloatField(min_value=0, max_value=1, help_text=ECONOMY_DEFINITIONS["burn_rate"])
    burn_rate_display = serializers.CharField(help_text='burn_rate as a percentage with one decimal, e.g. "100.0%".')
    transactions_last_7_days = serializers.IntegerField(help_text=ECONOMY_DEFINITIONS["transactions_last_7_days"])
