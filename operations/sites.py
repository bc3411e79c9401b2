"""The admin site of I MATCH: "I MATCH operations", opening with the work queue and the week's KPIs."""

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from operations import selectors


class OperationsAdminSite(admin.AdminSite):
    site_header = "I MATCH operations"
    site_title = "I MATCH operations"
    index_title = "Work queue and this week"
    index_template = "admin/operations/index.html"

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        extra_context = {
            **(extra_context or {}),
            "work_queue": selectors.work_queue(),
            "kpi_tiles": selectors.kpi_tiles(),
            "liability": selectors.pot_liability(),
        }
        return super().index(request, extra_context=extra_context)
