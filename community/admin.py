"""Operators moderate community answers: hide questions and answers with a reason, show them again, handle reports.

Rows are written by people through the services; here operators read them and act through
actions that call `community.services` (a hidden accepted answer's award is taken back).
"""

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from community import services
from community.models import Answer, Question, Report
from imatch.admin import ReadOnlyAdmin, counted
from imatch.errors import DomainError


class ReasonForm(forms.Form):
    text = forms.CharField(max_length=services.REASON_MAX, widget=forms.TextInput(attrs={"size": 60}))


class ModerationAdmin(ReadOnlyAdmin):
    """Shared by questions and answers: hide with a reason (asked once for the batch), unhide."""

    actions = ["hide", "unhide"]
    noun = "item"

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.is_staff

    def _each(self, request: HttpRequest, queryset, act, verb: str) -> None:
        done = 0
        for row in queryset.order_by("id"):
            try:
                act(row.pk)
                done += 1
            except DomainError as error:
                self.message_user(request, f"#{row.pk}: {error.message}", messages.WARNING)
        self.message_user(request, f"{verb} {counted(done, self.noun)}.", messages.SUCCESS)

    @admin.action(description="Hide selected (asks for the reason)", permissions=["moderate"])
    def hide(self, request: HttpRequest, queryset) -> HttpResponse | None:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["text"]
            self._each(request, queryset, lambda pk: self.hide_one(request.user, pk, reason), "Hid")
            return None
        return render(
            request,
            "admin/community/hide.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Hide {self.model._meta.verbose_name_plural}",
                "opts": self.model._meta,
                "rows": queryset,
                "form": form,
                "action": request.POST.get("action"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Show selected again", permissions=["moderate"])
    def unhide(self, request: HttpRequest, queryset) -> None:
        self._each(request, queryset, lambda pk: self.unhide_one(request.user, pk), "Showed again")


@admin.register(Question)
class QuestionAdmin(ModerationAdmin):
    noun = "question"
    list_display = ["id", "title", "category", "asker", "anonymous", "answer_count", "accepted_at", "hidden"]
    list_filter = ["hidden", "category", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["title", "body", "asker__email"]
    list_select_related = ["category", "asker"]
    fields = [
        "category",
        "asker",
        "anonymous",
        "title",
        "body",
        "answer_count",
        "accepted_answer",
        "accepted_at",
        "award",
        "award_withheld",
        "hidden",
        "hidden_reason",
        "created_at",
    ]
    readonly_fields = fields

    def hide_one(self, operator, pk: int, reason: str) -> None:
        services.question_hide(operator=operator, question_id=pk, reason=reason)

    def unhide_one(self, operator, pk: int) -> None:
        services.question_unhide(operator=operator, question_id=pk)


@admin.register(Answer)
class AnswerAdmin(ModerationAdmin):
    noun = "answer"
    list_display = ["id", "question", "provider", "vote_count", "created_at", "hidden"]
    list_filter = ["hidden", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["body", "provider__business_name", "provider__user__email", "=question__id"]
    list_select_related = ["question", "provider"]
    fields = ["question", "provider", "body", "vote_count", "hidden", "hidden_reason", "created_at"]
    readonly_fields = fields

    def hide_one(self, operator, pk: int, reason: str) -> None:
        services.answer_hide(operator=operator, answer_id=pk, reason=reason)

    def unhide_one(self, operator, pk: int) -> None:
        services.answer_unhide(operator=operator, answer_id=pk)


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "reporter", "question", "answer", "reason", "status", "handled_by"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["reason", "reporter__email"]
    list_select_related = ["reporter", "question", "answer", "handled_by"]
    fields = ["reporter", "question", "answer", "reason", "status", "created_at", "handled_at", "handled_by"]
    readonly_fields = fields
    actions = ["hide_reported", "dismiss"]

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.is_staff

    @admin.action(description="Hide what the selected reports point at (asks for the reason)", permissions=["moderate"])
    def hide_reported(self, request: HttpRequest, queryset) -> HttpResponse | None:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason, hidden = form.cleaned_data["text"], 0
            for report in queryset.order_by("id"):
                if report.answer_id:
                    services.answer_hide(operator=request.user, answer_id=report.answer_id, reason=reason)
                else:
                    services.question_hide(operator=request.user, question_id=report.question_id, reason=reason)
                hidden += 1
            self.message_user(request, f"Hid what {counted(hidden, 'report')} pointed at.", messages.SUCCESS)
            return None
        return render(
            request,
            "admin/community/hide.html",
            {
                **self.admin_site.each_context(request),
                "title": "Hide reported questions and answers",
                "opts": self.model._meta,
                "rows": queryset,
                "form": form,
                "action": request.POST.get("action"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Dismiss selected reports (nothing hidden)", permissions=["moderate"])
    def dismiss(self, request: HttpRequest, queryset) -> None:
        done = 0
        for report in queryset.order_by("id"):
            services.report_dismiss(operator=request.user, report_id=report.pk)
            done += 1
        self.message_user(request, f"Dismissed {counted(done, 'report')}.", messages.SUCCESS)
