"""Web pages of the core loop: matches, leads, engagements, ratings, the commission statement.

Thin views: find the object through its access helper (someone else's is a 404), call one
service, and say in a flash message what happened and what happens next.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from currency.selectors import extra_matches_available, levels_for
from imatch.errors import DomainError
from marketplace import selectors
from marketplace.models import EngagementStatus, Match, MatchStatus
from marketplace.services import engagements, matches, ratings
from marketplace.web.access import owned_or_404
from marketplace.web.forms import (
    DeclineForm,
    EngagementCancelForm,
    EngagementReportForm,
    RatingForm,
    add_domain_error,
)


def _act(request: HttpRequest, action: Callable[[], object], success: str) -> bool:
    """Run one service call; flash its refusal or the success message."""
    try:
        action()
    except DomainError as error:
        messages.error(request, error.message)
        return False
    messages.success(request, success)
    return True


# --- Seekers: matches -----------------------------------------------------------------


@login_required
def matches_page(request: HttpRequest) -> HttpResponse:
    """The seeker's matches, per seeker profile: provider cards with score, reasons and actions."""
    seekers = list(selectors.seekers_of_user(user=request.user).filter(user=request.user))
    by_seeker: dict[int, list[Match]] = {seeker.pk: [] for seeker in seekers}
    found = list(selectors.matches_of_user_as_seeker(user=request.user))
    levels = levels_for(user_ids={match.provider.user_id for match in found})
    for match in found:
        match.provider_level = levels[match.provider.user_id]
        by_seeker[match.seeker_id].append(match)
    groups = [(seeker, by_seeker[seeker.pk]) for seeker in seekers]
    return render(
        request,
        "marketplace/matches.html",
        {"groups": groups, "extra_matches": extra_matches_available(user=request.user), "Status": MatchStatus},
    )


@login_required
@require_POST
def seeker_match(request: HttpRequest, seeker_id: int) -> HttpResponse:
    seeker = owned_or_404(selectors.seeker_for_user, request, seeker_id=seeker_id)
    try:
        made = matches.match_run_for_seeker(seeker=seeker)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if made:
            messages.success(
                request,
                f"{len(made)} new match{'es' if len(made) > 1 else ''}. Ask for an introduction to the providers "
                "you like: both of you get the other's contact by email.",
            )
        elif selectors.matches_of_seeker(seeker=seeker).filter(status=MatchStatus.SUGGESTED).exists():
            messages.info(request, "Your match slots are full: introduce or decline a match to get another one.")
        else:
            messages.info(request, "No new compatible provider right now. We look again every day.")
    return redirect("matches")


@login_required
@require_POST
def match_introduce(request: HttpRequest, match_id: int) -> HttpResponse:
    match = owned_or_404(selectors.match_for_user, request, match_id=match_id)
    _act(
        request,
        lambda: matches.match_introduce(match=match, user=request.user),
        f"We introduced you to {match.provider.business_name}: you both have the other's email now. "
        f"{match.provider.user.name} has 72 hours to accept.",
    )
    return redirect("matches")


@login_required
@require_POST
def match_accept(request: HttpRequest, match_id: int) -> HttpResponse:
    match = owned_or_404(selectors.match_for_user, request, match_id=match_id)
    _act(
        request,
        lambda: matches.match_accept(match=match, user=request.user),
        f"You accepted {match.seeker.user.name}. Agree on the work, then either of you reports the engagement "
        "with its value; the other confirms it.",
    )
    return redirect("leads")


@login_required
@require_POST
def match_decline(request: HttpRequest, match_id: int) -> HttpResponse:
    match = owned_or_404(selectors.match_for_user, request, match_id=match_id)
    as_provider = request.user.pk == match.provider.user_id and request.user.pk != match.seeker.user_id
    form = DeclineForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    next_step = (
        "The seeker gets the next-best provider."
        if as_provider
        else "Find more matches to fill the free slot with another provider."
    )
    _act(
        request, lambda: matches.match_decline(match=match, user=request.user, reason=reason), f"Declined. {next_step}"
    )
    return redirect("leads" if as_provider else "matches")


# --- Providers: leads -----------------------------------------------------------------


@login_required
def leads_page(request: HttpRequest) -> HttpResponse:
    """Introductions a provider received, with the seeker's needs; accept or decline."""
    return render(
        request,
        "marketplace/leads.html",
        {"leads": selectors.leads_of_user(user=request.user), "Status": MatchStatus, "decline_form": DeclineForm()},
    )


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
                f"Engagement reported. {other.name} is asked to confirm it; once confirmed, you both earn "
                "your engagement bonus in POT.",
            )
            return redirect("engagements")
    return render(request, "marketplace/engagement_report.html", {"form": form, "match": match})


@login_required
def engagements_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "marketplace/engagements.html",
        {"engagements": selectors.engagements_with_my_ratings(user=request.user), "Status": EngagementStatus},
    )


@login_required
@require_POST
def engagement_confirm(request: HttpRequest, engagement_id: int) -> HttpResponse:
    engagement = owned_or_404(selectors.engagement_for_user, request, engagement_id=engagement_id)
    _act(
        request,
        lambda: engagements.engagement_confirm(engagement=engagement, user=request.user),
        "Engagement confirmed. Your engagement bonus is in your wallet; rate each other once the work is done.",
    )
    return redirect("engagements")


@login_required
@require_POST
def engagement_complete(request: HttpRequest, engagement_id: int) -> HttpResponse:
    engagement = owned_or_404(selectors.engagement_for_user, request, engagement_id=engagement_id)
    _act(
        request,
        lambda: engagements.engagement_complete(engagement=engagement, user=request.user),
        "Marked as completed. If you have not yet, rate the other side.",
    )
    return redirect("engagements")


@login_required
@require_http_methods(["GET", "POST"])
def engagement_cancel(request: HttpRequest, engagement_id: int) -> HttpResponse:
    engagement = owned_or_404(selectors.engagement_for_user, request, engagement_id=engagement_id)
    form = EngagementCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            engagements.engagement_cancel(engagement=engagement, user=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, "Engagement cancelled: no commission is owed and the engagement bonuses were taken back."
            )
            return redirect("engagements")
    return render(request, "marketplace/engagement_cancel.html", {"form": form, "engagement": engagement})


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
