"""Leaderboards API: a category's three boards for a calendar month (public, cached)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from growth import leaderboards
from growth.api.serializers import LeaderboardsSerializer
from growth.errors import InvalidMonth, UnknownCategory
from imatch.api import refuses
from imatch.errors import ErrorCode as CommonCode


class LeaderboardsView(APIView):
    """A category's leaderboards for a month: top providers, contributors and connectors."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Get a category's leaderboards for a month",
        description="Top providers (engagements confirmed in the month, then rating), contributors (community "
        "answers accepted plus articles published) and connectors (referred people who created a profile), "
        "in a calendar month (UTC). Only people who opted in appear by name; the others are Anonymous, still "
        "ranked. Each board is recomputed at most every 10 minutes (`refresh_seconds`).",
        parameters=[
            OpenApiParameter(
                "category",
                OpenApiTypes.STR,
                required=True,
                description="A launched category's name, e.g. financial_advisors.",
            ),
            OpenApiParameter(
                "month",
                OpenApiTypes.STR,
                pattern=r"^\d{4}-\d{2}$",
                description="YYYY-MM, from 2000-01 to the current month (UTC); default: the current month.",
            ),
        ],
        responses=LeaderboardsSerializer,
        tags=["leaderboards"],
    )
    @refuses(CommonCode.REQUIRED, CommonCode.NUL_CHARACTER, UnknownCategory, InvalidMonth)
    def get(self, request: Request) -> Response:
        category = leaderboards.leaderboard_category(name=request.query_params.get("category", ""))
        month = leaderboards.leaderboard_month(text=request.query_params.get("month", ""))
        boards = leaderboards.leaderboards(category=category, month=month)
        data = {"category": category, "month": month, **boards}
        return Response(LeaderboardsSerializer(data, context={"user": request.user}).data)
