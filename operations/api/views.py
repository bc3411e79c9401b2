from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from imatch.api import refuses
from imatch.errors import ErrorCode as CommonCode
from operations.api.serializers import WeeklyReportQuerySerializer, WeeklyReportSerializer
from operations.report import weekly_report
from operations.report_render import as_data


class WeeklyReportView(APIView):
    """The weekly report: revenue by category, POT flows, growth, funnels, goals."""

    permission_classes = [permissions.IsAdminUser]

    @refuses(CommonCode.INVALID)  # weeks outside 1-52
    @extend_schema(parameters=[WeeklyReportQuerySerializer], responses=WeeklyReportSerializer)
    def get(self, request: Request) -> Response:
        query = WeeklyReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        report = weekly_report(weeks=query.validated_data["weeks"])
        return Response(WeeklyReportSerializer(as_data(report)).data)
