"""POT back-office: audit the ledger (read-only for everyone), edit rules and options, decide redemptions.

Nothing here writes a wallet or a transaction: corrections go through `pot_adjust` (the
API's /pot/adjustments/), redemptions through `redemption_approve` / `redemption_reject`.
"""

import csv
from collections.abc import Iterator
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from currency import selectors, services
from currency.levels import level_for
from currency.models import (
    EarningRule,
    PotTransaction,
    ProPeriod,
    Purchase,
    Redemption,
    SpendEffect,
    SpendOption,
    Wallet,
    reason_label,
)
from imatch import formatting
from imatch.admin import ReadOnlyAdmin, counted
from imatch.errors import DomainError

ECONOMY_WEEKS = 12  # the economy page's weekly charts: about a quarter

CSV_COLUMNS = [
    "id",
    "created_at",
    "user_id",
    "email",
    "transaction_type",
    "category",
    "amount",
    "balance_after",
    "promotional_amount",
    "debt_change",
    "reference_type",
    "reference_id",
    "actor_id",
    "note",
    "idempotency_key",
]


def _csv_cell(value) -> str:
    """Text a spreadsheet will not run as a formula (a cell starting with = + - @ is quoted)."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


@admin.register(PotTransaction)
class PotTransactionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "user_email",
        "transaction_type",
        "category",
        "amount",
        "balance_after",
        "promotional_amount",
        "debt_change",
        "reference",
        "actor",
    ]
    list_filter = ["transaction_type", "category", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["user__email"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "actor"]
    show_full_result_count = False
    change_list_template = "admin/currency/pottransaction/change_list.html"
    fields = [
        "id",
        "user",
        "transaction_type",
        "category",
        "amount",
        "balance_after",
        "promotional_amount",
        "debt_change",
        "reference_type",
        "reference_id",
        "actor",
        "note",
        "idempotency_key",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="user", ordering="user__email")
    def user_email(self, row: PotTransaction) -> str:
        return row.user.email

    @admin.display(description="reference")
    def reference(self, row: PotTransaction) -> str:
        return f"{row.reference_type} #{row.reference_id}" if row.reference_type else ""

    def get_urls(self):
        urls = [
            path("export/", self.admin_site.admin_view(self.export_csv), name="currency_pottransaction_export"),
            path("economy/", self.admin_site.admin_view(self.economy), name="currency_economy"),
        ]
        return urls + super().get_urls()

    def export_csv(self, request: HttpRequest) -> HttpResponse:
        """The rows the change list shows with the same filters and search, as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:currency_pottransaction_changelist"))
        rows = changelist.get_queryset(request).select_related("user").order_by("id")

        def lines() -> Iterator[str]:
            writer = csv.writer(_Echo())
            yield writer.writerow(CSV_COLUMNS)
            for row in rows.iterator(chunk_size=2000):
                values = [getattr(row, column, None) for column in CSV_COLUMNS]
                values[CSV_COLUMNS.index("email")] = row.user.email
                values[CSV_COLUMNS.index("created_at")] = row.created_at.isoformat()
                yield writer.writerow([_csv_cell(value) for value in values])

        filename = f"pot_transactions_{timezone.now():%Y%m%d_%H%M%S}.csv"
        response = StreamingHttpResponse(lines(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def economy(self, request: HttpRequest) -> HttpResponse:
        """The economy page: the statistics, earning sources and spending, daily and weekly charts."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        statistics = selectors.economy_statistics()
        pending = selectors.redemptions_pending_summary()
        context = {
            **self.admin_site.each_context(request),
            "title": "POT economy",
            "opts": self.model._meta,
            "lines": selectors.economy_lines(statistics),
            "liability_usd": selectors.pot_liability_usd(
                in_circulation=statistics["total_pot_in_circulation"], held_usd=pending["usd"]
            ),
            "earning_sources": _labelled(selectors.pot_by_reason(transaction_types=["earn"])),
            "spending": _labelled(selectors.pot_by_reason(transaction_types=["spend", "burn"])),
            "pending": pending,
            "chart_data": selectors.economy_daily(days=30),
            "weekly": selectors.economy_weekly(weeks=ECONOMY_WEEKS),
        }
        return TemplateResponse(request, "admin/currency/economy.html", context)


def _labelled(rows: list[dict]) -> list[dict]:
    """Reason rows with the reason in plain words (as the wallet history says it)."""
    return [{**row, "label": reason_label(row["reason"])} for row in rows]


class AdjustmentForm(forms.Form):
    amount = forms.IntegerField(help_text="POT to add (or, negative, to take away; never below zero).")
    reason = forms.CharField(max_length=500, help_text="Why: shown to the person in their wallet history.")

    def clean_amount(self) -> int:
        if self.cleaned_data["amount"] == 0:
            raise forms.ValidationError("An adjustment is a non-zero number of POT.")
        return self.cleaned_data["amount"]


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    """Balances are read-only; an operator corrects one with an `adjust` row (the adjust page)."""

    list_display = [
        "user",
        "balance",
        "promotional_balance",
        "debt",
        "lifetime_earned",
        "level",
        "paid_engagement_at",
        "updated_at",
        "adjust_link",
    ]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    fields = [
        "user",
        "balance",
        "promotional_balance",
        "debt",
        "lifetime_earned",
        "paid_engagement_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    @admin.display(description="level")
    def level(self, wallet: Wallet) -> str:
        return level_for(wallet.lifetime_earned).name

    @admin.display(description="correction")
    def adjust_link(self, wallet: Wallet) -> str:
        url = reverse("admin:currency_wallet_adjust", args=[wallet.pk])
        return format_html('<a href="{}">Adjust…</a>', url)

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        return request.user.is_staff and request.user.has_perm("currency.add_pottransaction")

    def get_urls(self):
        adjust = self.admin_site.admin_view(self.adjust)
        return [path("<int:wallet_id>/adjust/", adjust, name="currency_wallet_adjust"), *super().get_urls()]

    def adjust(self, request: HttpRequest, wallet_id: int) -> HttpResponse:
        """Post a correction through `pot_adjust` (the same service as the API's /pot/adjustments/)."""
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        wallet = Wallet.objects.select_related("user").filter(pk=wallet_id).first()
        if wallet is None:
            raise Http404("No such wallet.")
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                row = services.pot_adjust(user=wallet.user, operator=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error("amount" if error.field == "amount" else None, error.message)
            else:
                self.message_user(
                    request,
                    f"Posted {row.amount:+d} POT to {wallet.user.email}: the balance is {row.balance_after} POT.",
                )
                return HttpResponseRedirect(reverse("admin:currency_wallet_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust the POT of {wallet.user.email}",
            "opts": self.model._meta,
            "wallet": wallet,
            "form": form,
        }
        return TemplateResponse(request, "admin/currency/wallet/adjust.html", context)


class NoDeleteAdmin(admin.ModelAdmin):
    """Switch a rule or an option off instead: transactions and purchases point at them."""

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(EarningRule)
class EarningRuleAdmin(NoDeleteAdmin):
    list_display = [
        "key",
        "name",
        "reason",
        "audience",
        "pays",
        "promotional",
        "active",
        "updated_at",
    ]
    list_filter = ["active", "promotional", "audience", "reason"]
    list_editable = ["promotional", "active"]
    search_fields = ["key", "name"]

    @admin.display(description="pays")
    def pays(self, rule: EarningRule) -> str:
        return rule.amount_display

    def get_readonly_fields(self, request, obj=None):
        # The code awards by key: renaming a key would silently stop an award.
        return ["key"] if obj else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        selectors.pot_rules_forget()  # this process awards with the edit at once, others within the cache time
        if change and "promotional" in form.changed_data and not obj.promotional:
            # Unticking it is allowed (a rule may start being paid for by revenue), never silent.
            messages.warning(
                request,
                f"“{obj.name}” is no longer promotional: what it awards from now on can be redeemed for USD "
                "at once, without a paid commission behind it. Tick “promotional” again if that was not meant.",
            )


@admin.register(SpendOption)
class SpendOptionAdmin(NoDeleteAdmin):
    list_display = ["key", "name", "cost", "audience", "effect", "duration_days", "quantity", "active"]
    list_filter = ["active", "audience", "effect"]
    list_editable = ["active"]
    search_fields = ["key", "name"]

    def get_readonly_fields(self, request, obj=None):
        return ["key", "effect"] if obj else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        selectors.pot_rules_forget()  # this process charges the edit at once, others within the cache time


class DecisionForm(forms.Form):
    """What an operator gives when deciding a batch of redemptions."""

    text = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"size": 60}))


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "user",
        "pot_amount",
        "usd",
        "payment_method",
        "status",
        "payout_reference",
        "decided_by",
        "decided_at",
        "paid_at",
    ]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["user__email", "payout_reference"]
    list_select_related = ["user", "decided_by"]
    actions = ["approve", "mark_paid", "reject"]
    fields = [
        "user",
        "pot_amount",
        "usd_rate",
        "usd_amount",
        "payment_method",
        "status",
        "payout_reference",
        "rejection_reason",
        "decided_by",
        "decided_at",
        "paid_at",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="USD", ordering="usd_amount")
    def usd(self, redemption: Redemption) -> str:
        return formatting.usd(redemption.usd_amount)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.is_staff and request.user.has_perm("currency.change_redemption")

    def _decide(self, request: HttpRequest, queryset, *, verb: str, label: str, decide) -> HttpResponse | None:
        """Ask for the payout reference or reason once, then decide each pending redemption."""
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for redemption in queryset.order_by("id"):
                try:
                    decide(redemption.pk, form.cleaned_data["text"])
                    done += 1
                except DomainError as error:
                    self.message_user(request, f"Redemption #{redemption.pk}: {error.message}", messages.WARNING)
            if done:
                self.message_user(request, f"{verb.capitalize()} {counted(done, 'redemption')}.", messages.SUCCESS)
            return None
        return render(
            request,
            "admin/currency/redemption/decide.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{verb.capitalize()} redemptions",
                "opts": self.model._meta,
                "redemptions": queryset.select_related("user"),
                "form": form,
                "label": label,
                "action": request.POST.get("action"),
                "verb": verb,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(
        description="Approve selected redemptions (USD sent, with the payout reference)", permissions=["decide"]
    )
    def approve(self, request: HttpRequest, queryset):
        return self._decide(
            request,
            queryset,
            verb="approved",
            label="Payout reference (e.g. the PayPal batch id)",
            decide=lambda pk, text: services.redemption_approve(
                redemption_id=pk, operator=request.user, payout_reference=text
            ),
        )

    @admin.action(description="Reject selected redemptions (POT returned)", permissions=["decide"])
    def reject(self, request: HttpRequest, queryset):
        return self._decide(
            request,
            queryset,
            verb="rejected",
            label="Reason (shown to the person)",
            decide=lambda pk, text: services.redemption_reject(redemption_id=pk, operator=request.user, reason=text),
        )

    @admin.action(description="Mark selected approved redemptions paid (the payout arrived)", permissions=["decide"])
    def mark_paid(self, request: HttpRequest, queryset) -> None:
        done = 0
        for redemption in queryset.order_by("id"):
            try:
                services.redemption_mark_paid(redemption_id=redemption.pk, operator=request.user)
                done += 1
            except DomainError as error:
                self.message_user(request, f"Redemption #{redemption.pk}: {error.message}", messages.WARNING)
        if done:
            self.message_user(request, f"Marked {counted(done, 'redemption')} paid.", messages.SUCCESS)


class ProStateFilter(admin.SimpleListFilter):
    """Pro periods by where they stand now: running, about to end (not renewed), not started, ended."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("active", "Active now"),
            ("ending", f"Ending within {settings.PRO_EXPIRY_NOTICE_DAYS} days, not renewed"),
            ("upcoming", "Renewals not started yet"),
            ("ended", "Ended"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(starts_at__lte=now, ends_at__gt=now)
        if self.value() == "ending":
            horizon = now + timedelta(days=settings.PRO_EXPIRY_NOTICE_DAYS)
            return queryset.filter(starts_at__lte=now, ends_at__gt=now, ends_at__lte=horizon, renewed=False)
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gt=now)
        if self.value() == "ended":
            return queryset.filter(ends_at__lte=now)
        return queryset


@admin.register(ProPeriod)
class ProPeriodAdmin(ReadOnlyAdmin):
    """Pro subscribers: every Pro period bought, who is Pro now, who is about to lapse, what Pro saved them.

    Read-only: a period is bought (and renewed) only by the provider, through `pro_buy`.
    """

    list_display = [
        "user",
        "starts_at",
        "ends_at",
        "state",
        "renewed_display",
        "cost",
        "saving",
        "expiry_notified_at",
    ]
    list_filter = [ProStateFilter, ("ends_at", admin.DateFieldListFilter)]
    search_fields = ["user__email", "user__name"]
    list_select_related = ["user"]
    fields = [
        "user",
        "starts_at",
        "ends_at",
        "cost",
        "credit_usd",
        "credit_used_usd",
        "expiry_notified_at",
        "transaction",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        renewed = Purchase.objects.filter(
            user_id=OuterRef("user_id"), effect=SpendEffect.PRO_TIER, starts_at=OuterRef("ends_at")
        )
        return super().get_queryset(request).annotate(renewed=Exists(renewed))

    def changelist_view(self, request: HttpRequest, extra_context=None):
        now = timezone.now()
        active = ProPeriod.objects.filter(starts_at__lte=now, ends_at__gt=now).values("user_id").distinct().count()
        subtitle = f"{counted(active, 'provider')} Pro now."
        return super().changelist_view(request, {**(extra_context or {}), "subtitle": subtitle})

    @admin.display(description="state")
    def state(self, period: ProPeriod) -> str:
        now = timezone.now()
        if period.starts_at > now:
            return "Not started"
        return "Active" if period.ends_at > now else "Ended"

    @admin.display(description="renewed", boolean=True, ordering="renewed")
    def renewed_display(self, period: ProPeriod) -> bool:
        return period.renewed

    @admin.display(description="commission saved", ordering="credit_used_usd")
    def saving(self, period: ProPeriod) -> str:
        return f"{formatting.usd(period.credit_used_usd)} of {formatting.usd(period.credit_usd)}"
