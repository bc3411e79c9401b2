"""Earning-rate experiments in the admin: operators define them, end them and read their results.

The definition is checked by the currency services (`experiment_rules_check` next to the
rules, `experiment_arms_check` above the arms); once an experiment started, its rules,
start and arms are read-only: ending it ("End selected experiments") is the only change.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from currency import services
from currency.models import Experiment, ExperimentArm
from currency.selectors import pot_rules_forget
from imatch.admin import counted
from imatch.errors import DomainError
from imatch.web import add_domain_error
from operations import selectors


def _started(experiment: Experiment | None) -> bool:
    return experiment is not None and experiment.pk is not None and experiment.starts_at <= timezone.now()


class ArmFormSet(forms.BaseInlineFormSet):
    """Checks the arms together (two or more, one control at 100%, shares adding up to 100%)."""

    def clean(self) -> None:
        super().clean()
        if _started(self.instance) or any(form.errors for form in self.forms):
            return
        arms = [
            services.ArmPlan(
                name=form.cleaned_data["name"],
                control=form.cleaned_data.get("control", False),
                share_percent=form.cleaned_data["share_percent"],
                pot_percent=form.cleaned_data["pot_percent"],
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            services.experiment_arms_check(arms=arms)
        except DomainError as error:
            raise ValidationError(error.message, code=str(error.code)) from error


class ArmInline(admin.TabularInline):
    model = ExperimentArm
    formset = ArmFormSet
    fields = ["name", "control", "share_percent", "pot_percent"]
    extra = 2
    min_num = 0

    def get_extra(self, request: HttpRequest, obj=None, **kwargs) -> int:
        return 0 if obj is not None else self.extra

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return not _started(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return not _started(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return not _started(obj) and super().has_delete_permission(request, obj)


class ExperimentForm(forms.ModelForm):
    class Meta:
        model = Experiment
        fields = ["name", "hypothesis", "rules", "starts_at", "ends_at"]

    def clean(self) -> dict:
        data = super().clean()
        if self.errors or _started(self.instance):
            return data
        planned = Experiment(
            pk=self.instance.pk, starts_at=data["starts_at"], ends_at=data.get("ends_at"), name=data["name"]
        )
        try:
            services.experiment_rules_check(experiment=planned, rules=list(data["rules"]))
        except DomainError as error:
            add_domain_error(self, error)
        return data


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
    inlines = [ArmInline]
    list_display = ["name", "status", "starts_at", "ends_at", "arm_summary", "results_link"]
    list_filter = ["rules"]
    search_fields = ["name"]
    filter_horizontal = ["rules"]
    actions = ["end_experiments"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).prefetch_related("arms")

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if _started(obj):
            return ["rules", "starts_at", "ended_at", "ended_by"]
        return ["ended_at", "ended_by"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # assignments and awards point at it: end it instead

    def save_related(self, request: HttpRequest, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # Awards look arms up only for rules that experiments vary (kept with the rules per process):
        # this process sees the edit at once, others within the rules' cache time.
        pot_rules_forget()

    @admin.display(description="status")
    def status(self, experiment: Experiment) -> str:
        now = timezone.now()
        if experiment.running_at(now):
            return "running"
        return "not started" if experiment.starts_at > now else "ended"

    @admin.display(description="arms")
    def arm_summary(self, experiment: Experiment) -> str:
        return ", ".join(
            f"{arm.name}: {arm.share_percent}% of users, pays {arm.pot_percent}%" for arm in experiment.arms.all()
        )

    @admin.display(description="results")
    def results_link(self, experiment: Experiment) -> str:
        return format_html(
            '<a href="{}">Results</a>', reverse("admin:currency_experiment_results", args=[experiment.pk])
        )

    @admin.action(description="End selected experiments (everyone earns the normal amounts again)")
    def end_experiments(self, request: HttpRequest, queryset) -> None:
        ended = 0
        for experiment in queryset.order_by("pk"):
            try:
                services.experiment_end(experiment_id=experiment.pk, operator=request.user)
                ended += 1
            except DomainError as error:
                self.message_user(request, f"{experiment.name}: {error.message}", messages.ERROR)
        if ended:
            self.message_user(request, f"Ended {counted(ended, 'experiment')}.", messages.SUCCESS)

    def get_urls(self):
        results = self.admin_site.admin_view(self.results)
        return [path("<int:experiment_id>/results/", results, name="currency_experiment_results"), *super().get_urls()]

    def results(self, request: HttpRequest, experiment_id: int) -> HttpResponse:
        """Per arm: users, POT earned per user, the metrics and their difference from the control."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        experiment = Experiment.objects.prefetch_related("arms", "rules").filter(pk=experiment_id).first()
        if experiment is None:
            raise Http404("No such experiment.")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Results of {experiment.name}",
            "opts": self.model._meta,
            "results": selectors.experiment_results(
                experiment=experiment, minimum_per_arm=settings.EXPERIMENT_MIN_USERS_PER_ARM
            ),
            "metrics": selectors.EXPERIMENT_METRICS,
        }
        return TemplateResponse(request, "admin/operations/experiment_results.html", context)
