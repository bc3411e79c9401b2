"""POT API views: parse, check access, call one service or selector, render."""

from datetime import datetime

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from currency import selectors, services
from currency.api.filters import PotTransactionFilter, RedemptionFilter
from currency.api.serializers import (
    AdjustmentRequestSerializer,
    BalanceSerializer,
    EconomySerializer,
    PotTransactionSerializer,
    RatesSerializer,
    RedeemRequestSerializer,
    RedemptionApproveSerializer,
    RedemptionRejectSerializer,
    RedemptionSerializer,
    SpendRequestSerializer,
    SpendResultSerializer,
    spend_answer,
    spend_request,
    transaction_rows,
    transaction_rows_from,
    transaction_rows_until,
    transaction_values,
)
from currency.errors import (
    AlreadyDecided,
    DebtOpen,
    ErrorCode,
    IdempotencyConflict,
    InsufficientPot,
    NotRedeemable,
    PriceChanged,
    RedemptionNotApproved,
    SpendOptionUnavailable,
    WrongAudience,
)
from currency.models import PotTransaction, Redemption
from imatch.api import ID_SCHEMA, created_response, idempotency_key, refuses
from imatch.api_input import KeptListMixin
from imatch.converters import ID_PATTERN
from imatch.errors import ErrorCode as CommonCode
from imatch.errors import NotFound, PermissionDenied
from imatch.person_cache import Scope, person_answer, person_answer_keys

# `?user=`: not an id, someone else's wallet (staff only), no such user
WALLET_OWNER_REFUSALS = (CommonCode.INVALID, PermissionDenied, NotFound)
IDEMPOTENT_REFUSALS = (ErrorCode.INVALID_IDEMPOTENCY_KEY, IdempotencyConflict)
USER_PARAMETER = OpenApiParameter(
    "user", {**ID_SCHEMA, "minimum": 1}, description="Staff only: another user's wallet (a user id)."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="A retry with the same key and body returns the first result and charges nothing; "
    "the same key with a different body answers 409.",
)


IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[201],
    enum=["true"],
    description="Present (`true`) when the answer replays the first result of a retried `Idempotency-Key`.",
)


class BalanceView(APIView):
    """The wallet: what can be spent and what can be redeemed now (and why not more), its USD value, the level."""

    @extend_schema(summary="Get the POT balance", parameters=[USER_PARAMETER], responses=BalanceSerializer)
    @refuses(*WALLET_OWNER_REFUSALS)
    def get(self, request: Request) -> Response:
        owner = selectors.wallet_owner_for(viewer=request.user, user_id=request.query_params.get("user"))
        if owner.pk != request.user.pk:  # staff reading someone's wallet: rare, read live
            return Response(BalanceSerializer(selectors.wallet_summary(user=owner)).data)
        return Response(balance_answer(owner))

    def kept_keys(self, request: Request, user_id: int) -> list[str]:
        """The kept balance's cache keys when the person reads their own, for the throttle to read ahead."""
        if request.query_params.get("user", "") not in ("", str(user_id)):
            return []
        return person_answer_keys(**_balance_kept(user_id))


def balance_answer(owner) -> dict:
    """The balance's JSON fields, kept per person under the ledger scope (no query on a hit).

    They depend on the wallet row (forgotten by every posting) and on whether the email address
    is verified, the answer's variant: verifying it builds the answer again.
    """
    return person_answer(
        **_balance_kept(owner.pk),
        variant=selectors.email_verified(owner),
        build=lambda: dict(BalanceSerializer(selectors.wallet_summary(user=owner)).data),
    )


def _balance_kept(user_id: int) -> dict:
    # The keys are known from the person's id alone: the token check reads them ahead.
    return {"user_id": user_id, "scopes": [Scope.LEDGER], "name": "balance"}


@extend_schema(summary="List POT transactions")
class TransactionListView(KeptListMixin, generics.ListAPIView):
    """The wallet's ledger rows, newest first (staff: everyone's, or `?user=ID`)."""

    serializer_class = PotTransactionSerializer
    refusals = {"get": WALLET_OWNER_REFUSALS}
    filterset_class = PotTransactionFilter
    queryset = PotTransaction.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self) -> QuerySet[PotTransaction]:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        # Refuses `?user=` of someone else for non-staff (403) before any filtering.
        selectors.wallet_owner_for(viewer=self.request.user, user_id=self.request.query_params.get("user"))
        return selectors.transactions_visible(user=self.request.user)

    def list_rows(self, page: QuerySet[PotTransaction]) -> list[dict]:
        return transaction_rows(page)

    # A person's own pages are kept under the ledger scope; the rows are written per request, so a
    # purchase's state and the time zone are never frozen (`KeptListMixin`).
    kept_scopes = (Scope.LEDGER,)
    kept_name = "transactions"
    # Kept written, until the next start or end of a purchase shown (its state moves then).
    kept_written = True

    def kept_written_until(self, values: list[tuple], now: datetime) -> datetime | None:
        return transaction_rows_until(values, now)

    def list_values(self, page: QuerySet[PotTransaction]) -> list[tuple]:
        return transaction_values(page)

    def rows_from(self, values: list[tuple]) -> list[dict]:
        return transaction_rows_from(values)

    def kept_access_check(self, request: Request) -> None:
        selectors.wallet_owner_for(viewer=request.user, user_id=request.query_params.get("user"))


class RatesView(APIView):
    """What POT earns and buys, and what it is worth in USD."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(summary="Get POT rates and spend options", responses=RatesSerializer)
    def get(self, request: Request) -> Response:
        rates = RatesSerializer.current(selectors.earning_rules_active(), selectors.spend_options_active())
        return Response(RatesSerializer(rates).data)


class SpendView(APIView):
    """Buy a spend option: the cost is burned and the effect recorded."""

    @extend_schema(
        summary="Spend POT on an option",
        request=SpendRequestSerializer,
        responses={201: SpendResultSerializer},
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
    )
    @refuses(SpendOptionUnavailable, WrongAudience, InsufficientPot, PriceChanged, *IDEMPOTENT_REFUSALS)
    def post(self, request: Request) -> Response:
        option, confirmed_cost = spend_request(request.data)
        result = services.pot_spend(
            user=request.user,
            option_key=option,
            confirmed_cost=confirmed_cost,
            idempotency_key=idempotency_key(request),
        )
        return created_response(spend_answer(result.transaction, result.purchase), replayed=result.replayed)


class RedeemView(APIView):
    """Ask to redeem POT for USD: the POT is held at once until an operator decides."""

    @extend_schema(
        summary="Ask to redeem POT for USD",
        request=RedeemRequestSerializer,
        responses={201: RedemptionSerializer},
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
    )
    @refuses(
        ErrorCode.BELOW_MINIMUM,
        CommonCode.REQUIRED,
        ErrorCode.NOT_WHOLE,
        InsufficientPot,
        NotRedeemable,
        DebtOpen,
        *IDEMPOTENT_REFUSALS,
    )
    def post(self, request: Request) -> Response:
        serializer = RedeemRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.redemption_request(
            user=request.user, idempotency_key=idempotency_key(request), **serializer.validated_data
        )
        return created_response(RedemptionSerializer(result.redemption).data, replayed=result.replayed)


class RedemptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The user's redemptions (staff: everyone's): requested → approved (payout reference) → paid, or rejected.

    Staff approve or reject pending ones and mark approved ones paid; each step notifies the person.
    """

    serializer_class = RedemptionSerializer
    refusals = {"list": WALLET_OWNER_REFUSALS}
    filterset_class = RedemptionFilter
    lookup_value_regex = ID_PATTERN
    queryset = Redemption.objects.none()  # for the schema; requests use get_queryset

    def get_permissions(self):
        if self.action in ("approve", "reject", "paid"):
            return [permissions.IsAdminUser()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Redemption]:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        if self.action == "list":
            selectors.wallet_owner_for(viewer=self.request.user, user_id=self.request.query_params.get("user"))
        return selectors.redemptions_visible(user=self.request.user)

    def get_object(self) -> Redemption:
        return selectors.redemption_for_user(user=self.request.user, redemption_id=int(self.kwargs["pk"]))

    @extend_schema(request=RedemptionApproveSerializer, responses=RedemptionSerializer)
    @refuses(AlreadyDecided, CommonCode.REQUIRED)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        """Approve a pending redemption (paid in USD)."""
        serializer = RedemptionApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        redemption = services.redemption_approve(
            redemption_id=int(pk), operator=request.user, **serializer.validated_data
        )
        return Response(RedemptionSerializer(redemption).data)

    @extend_schema(request=None, responses=RedemptionSerializer)
    @refuses(RedemptionNotApproved)
    @action(detail=True, methods=["post"])
    def paid(self, request: Request, pk: str) -> Response:
        """Mark an approved redemption paid: its payout arrived."""
        redemption = services.redemption_mark_paid(redemption_id=int(pk), operator=request.user)
        return Response(RedemptionSerializer(redemption).data)

    @extend_schema(request=RedemptionRejectSerializer, responses=RedemptionSerializer)
    @refuses(AlreadyDecided, CommonCode.REQUIRED)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        """Reject a pending redemption (the POT comes back)."""
        serializer = RedemptionRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        redemption = services.redemption_reject(
            redemption_id=int(pk), operator=request.user, **serializer.validated_data
        )
        return Response(RedemptionSerializer(redemption).data)


class EconomyView(APIView):
    """The POT economy's statistics (staff)."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(summary="Get the POT economy statistics", responses=EconomySerializer)
    def get(self, request: Request) -> Response:
        return Response(EconomySerializer(selectors.economy_statistics()).data)


class AdjustmentView(APIView):
    """Staff correct a balance with an `adjust` row (a reason is required; never below zero)."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        summary="Adjust a POT balance",
        request=AdjustmentRequestSerializer,
        responses={201: PotTransactionSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @refuses(NotFound, ErrorCode.ZERO, CommonCode.REQUIRED, InsufficientPot, *IDEMPOTENT_REFUSALS)
    def post(self, request: Request) -> Response:
        serializer = AdjustmentRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = selectors.wallet_owner_for(viewer=request.user, user_id=data["user"])
        row = services.pot_adjust(
            user=owner,
            operator=request.user,
            amount=data["amount"],
            reason=data["reason"],
            idempotency_key=idempotency_key(request),
        )
        return created_response(PotTransactionSerializer(row).data, replayed=False)
