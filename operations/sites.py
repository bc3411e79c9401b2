"""The admin site of I MATCH: "I MATCH operations", opening with the work queue and the week's KPIs."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path

from operations import report_render, selectors
from operations.report import weekly_report


class ReportWeeksForm(forms.Form):
    weeks = forms.IntegerField(min_value=1, max_value=52, initial=4, help_text="1 to 52 weeks of 7 days, newest first.")


class OperationsAdminSite(admin.AdminSite):
    site_header = "I MATCH operations"
    site_title = "I MATCH operations"
    index_title = "Work queue and this week"
    index_template = "admin/operations/index.html"
    # The app list is on the index: without the side bar every list keeps its columns at 1280 px.
    enable_nav_sidebar = False

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        extra_context = {
            **(extra_context or {}),
            "work_queue": selectors.work_queue(),
            "kpi_tiles": selectors.kpi_tiles(),
            "liability": selectors.pot_liability(),
        }
        return super().index(request, extra_context=extra_context)

    def get_urls(self):
        report = self.admin_view(self.weekly_report)
        return [path("operations/weekly-report/", report, name="operations_weekly_report"), *super().get_urls()]

    def weekly_report(self, request: HttpRequest) -> TemplateResponse:
        """The weekly report with charts: commission by category per week, the funnel; tables as well."""
        form = ReportWeeksForm(request.GET if "weeks" in request.GET else {"weeks": 4})
        report = weekly_report(weeks=form.cleaned_data["weeks"]) if form.is_valid() else None
        context = {
            **self.each_context(request),
            "title": "Weekly report",
            "form": form,
            "report": report,
            "chart_data": report_render.as_data(report) if report else None,
        }
        return TemplateResponse(request, "admin/operations/weekly_report.html", context)
