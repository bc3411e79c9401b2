"""Web pages of engagements: report, confirm, complete, cancel (or ask to), dispute, rate; the commission statement.

Thin views: find the object through its access helper (someone else's is a 404), call one
service, and say in a flash message what happened and what happens next.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from imatch.errors import DomainError
from imatch.web import add_domain_error, flash_outcome, owned_or_404
from marketplace import selectors
from marketplace.models import ENGAGEMENT_CANCEL_PENDING_STATUSES, EngagementStatus
from marketplace.services import engagements, ratings
from marketplace.web.forms import EngagementCancelForm, EngagementDisputeForm, EngagementReportForm, RatingForm

# --- Engagements ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def engagement_report(request: HttpRequest, match_id: int) -> HttpResponse:
    match = owned_or_404(selectors.match_for_user, request, match_id=match_id)
    form = EngagementReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            engagements.engagement_report(
                match=match, user=request.user, deal_value_usd=form.cleaned_data["deal_value_usd"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            other = match.provider.user if request.user.pk == match.seeker.user_id else match.seeker.user
            messages.success(
                request,
                f"Engagement reported. {other.name} is asked to confirm it; your engagement bonuses in POT "
                "are paid once it is confirmed and its commission is paid.",
            )
            return redirect("engagements")
    return render(request, "marketplace/engagement_report.html", {"form": form, "match": match})


@login_required
def engagements_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "marketplace/engagements.html",
        {
            "engagements": selectors.engagements_with_my_ratings(user=request.user),
            "Status": EngagementStatus,
            # A seeker never sees the platform's commission: the column is for providers only.
            "as_provider": request.user.providers.exists(),
        },
    )


@login_required
@require_POST
def engagement_confirm(request: HttpRequest, engagement_id: int) -> HttpResponse:
    engagement = owned_or_404(selectors.engagement_for_user, request, engagement_id=engagement_id)
    try:
        engagement = engagements.engagement_confirm(engagement=engagement, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if engagement.status == EngagementStatus.UNDER_REVIEW:
            messages.success(
                request,
                "Confirmed by you. The deal value is above what this category confirms without a check: an "
                "operator reviews it before it counts. No commission is invoiced and no bonus paid until then.",
            )
        else:
            messages.success(
                request,
                "Engagement confirmed. Your engagement bonus is pending: it is paid into your wallet once the "
                "commission is paid. Rate each other once the work is done.",
            )
    return redirect("engagements")


@login_required
@require_POST
def engagement_complete(request: HttpRequest, engagement_id: int) -> HttpResponse:
    engagement = owned_or_404(selectors.engagement_for_user, request, engagement_id=engagement_id)
    flash_outcome(
        request,
        lambda: engagements.engagement_complete(engagement=engagement, user=request.user),
        "Marked as completed. If you have not yet, rate the other side.",
    )
    return redirect("engagements")


def _other_side_name(engagement, user) -> str:
    return engagement.provider.business_name if user.pk == engagement.seeker.user_id else engagement.seeker.user.name


@login_required
@require_http_methods(["GET", "POST"])
def engagement_cancel(request: HttpRequest, engagement_id: int) -> HttpResponse:
    """Cancel alone before confirmation; after it, ask the other side (or agree to their request)."""
    engagement = owned_or_404(selectors.engagement_for_user, request, engagement_id=engagement_id)
    answering = (
        engagement.status in ENGAGEMENT_CANCEL_PENDING_STATUSES and engagement.cancel_requested_by_id != request.user.pk
    )
    form = EngagementCancelForm(request.POST or None, answering=answering)
    if request.method == "POST" and form.is_valid():
        try:
            engagement = engagements.engagement_cancel(
                engagement=engagement, user=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if engagement.status == EngagementStatus.CANCEL_REQUESTED:
                messages.success(
                    request,
                    f"Cancellation requested. {_other_side_name(engagement, request.user)} is asked to agree; if "
                    "they dispute it, an operator decides. Until then the engagement stands.",
                )
            else:
                messages.success(
                    request, "Engagement cancelled: no commission is owed and no engagement bonus is paid for it."
                )
            return redirect("engagements")
    return render(
        request,
        "marketplace/engagement_cancel.html",
        {"form": form, "engagement": engagement, "answering": answering, "Status": EngagementStatus},
    )


@login_required
@require_http_methods(["GET", "POST"])
def engagement_dispute(request: HttpRequest, engagement_id: int) -> HttpResponse:
    """The other side disagrees with a cancellation request: an operator decides."""
    engagement = owned_or_404(selectors.engagement_for_user, request, engagement_id=engagement_id)
    form = EngagementDisputeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            engagements.engagement_cancel_dispute(
                engagement=engagement, user=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                "Dispute recorded: an operator reads both reasons and decides whether the engagement is cancelled "
                "or stands.",
            )
            return redirect("engagements")
    return render(request, "marketplace/engagement_dispute.html", {"form": form, "engagement": engagement})


@login_required
@require_http_methods(["GET", "POST"])
def engagement_rate(request: HttpRequest, engagement_id: int) -> HttpResponse:
    engagement = owned_or_404(selectors.engagement_for_user, request, engagement_id=engagement_id)
    rating_provider = request.user.pk == engagement.seeker.user_id
    rated_name = engagement.provider.business_name if rating_provider else engagement.seeker.user.name
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ratings.rating_create(engagement=engagement, user=request.user, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, f"Thank you: your rating of {rated_name} is saved and your POT award is in your wallet."
            )
            return redirect("engagements")
    return render(
        request, "marketplace/rating_form.html", {"form": form, "engagement": engagement, "rated_name": rated_name}
    )


@login_required
def commission_statement_page(request: HttpRequest) -> HttpResponse:
    """What the provider owes per engagement, minus the POT commission credit applied at invoicing."""
    return render(
        request,
        "marketplace/commission_statement.html",
        {"statement": selectors.commission_statement(user=request.user)},
    )
