"""Pro API: the person's Pro status, and buying or renewing a period (explicit, idempotent)."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from currency.api.serializers import SpendResultSerializer
from currency.api.views import IDEMPOTENCY_KEY, IDEMPOTENT_REFUSALS, IDEMPOTENT_REPLAYED
from currency.errors import InsufficientPot, PriceChanged, SpendOptionUnavailable, WrongAudience
from imatch.api import created_response, idempotency_key, refuses
from marketplace import selectors
from marketplace.errors import NoProCategory, NotAProvider
from marketplace.services import pro

POT_MAX = 10**12


class ProCategorySerializer(serializers.Serializer):
    name = serializers.CharField()
    display_name = serializers.CharField()
    commission_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    pro_commission_rate = serializers.DecimalField(max_digits=5, decimal_places=4)


class ProStatusSerializer(serializers.Serializer):
    active = serializers.BooleanField(help_text="Pro runs now.")
    ends_at = serializers.DateTimeField(allow_null=True, help_text="When Pro ends unless renewed; null: not Pro.")
    can_buy = serializers.BooleanField(help_text="The person may buy (or renew) a period now.")
    price_pot = serializers.IntegerField(source="option.cost", allow_null=True, default=None)
    period_days = serializers.IntegerField(source="option.duration_days", allow_null=True, default=None)
    saving_cap_usd = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="The most commission one period's Pro rate saves."
    )
    saving_left_usd = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="What the running period may still save."
    )
    categories = ProCategorySerializer(many=True, help_text="Your provider categories that offer Pro.")


@extend_schema_serializer(
    examples=[OpenApiExample("Renew at the price you saw", value={"expected_cost": 500}, request_only=True)]
)
class ProPurchaseRequestSerializer(serializers.Serializer):
    expected_cost = serializers.IntegerField(
        min_value=1, max_value=POT_MAX, required=False, help_text="The price the person confirmed; 409 if it changed."
    )


class ProStatusView(APIView):
    """Your Pro: whether it runs and until when, its price and period, and the Pro rates of your categories."""

    @extend_schema(summary="Get your Pro status", responses=ProStatusSerializer, tags=["pot"])
    def get(self, request: Request) -> Response:
        return Response(ProStatusSerializer(selectors.pro_status(user=request.user)).data)


class ProPurchaseView(APIView):
    """Buy or renew one Pro period (starts now, or where the running one ends); never renewed automatically."""

    @extend_schema(
        summary="Buy or renew Pro",
        request=ProPurchaseRequestSerializer,
        responses={201: SpendResultSerializer},
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        tags=["pot"],
    )
    @refuses(
        NotAProvider,
        NoProCategory,
        SpendOptionUnavailable,
        WrongAudience,
        InsufficientPot,
        PriceChanged,
        *IDEMPOTENT_REFUSALS,
    )
    def post(self, request: Request) -> Response:
        serializer = ProPurchaseRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = pro.pro_buy(
            user=request.user,
            confirmed_cost=serializer.validated_data.get("expected_cost"),
            idempotency_key=idempotency_key(request),
        )
        return created_response(SpendResultSerializer(result).data, replayed=result.replayed)
