"""Web pages of matching: a seeker's matches and introductions, a provider's leads.

Thin views: find the object through its access helper (someone else's is a 404), call one
service, and say in a flash message what happened and what happens next.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from currency.selectors import extra_matches_available, levels_for
from imatch.errors import DomainError
from imatch.web import flash_outcome, owned_or_404
from marketplace import selectors
from marketplace.models import Match, MatchStatus
from marketplace.services import matches
from marketplace.web.forms import DeclineForm

# --- Seekers: matches -----------------------------------------------------------------


@login_required
def matches_page(request: HttpRequest) -> HttpResponse:
    """The seeker's matches, per seeker profile: provider cards with score, reasons and actions."""
    seekers = list(selectors.seekers_owned_by(user=request.user))
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


def flash_match_run(request: HttpRequest, seeker, made: list[Match]) -> None:
    """Say what a match run found, and what to do next."""
    if made:
        messages.success(
            request,
            f"{len(made)} new match{'es' if len(made) > 1 else ''}. Ask for an introduction to the providers "
            "you like: you can talk on I MATCH at once, and you get each other's email once the provider accepts.",
        )
    elif selectors.matches_of_seeker(seeker=seeker).filter(status=MatchStatus.SUGGESTED).exists():
        messages.info(request, "Your match slots are full: introduce or decline a match to get another one.")
    else:
        messages.info(request, "No new compatible provider right now. We look again every day.")


@login_required
@require_POST
def seeker_match(request: HttpRequest, seeker_id: int) -> HttpResponse:
    seeker = owned_or_404(selectors.seeker_for_user, request, seeker_id=seeker_id)
    try:
        made = matches.match_run_for_seeker(seeker=seeker)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        flash_match_run(request, seeker, made)
    return redirect("matches")


@login_required
@require_POST
def match_introduce(request: HttpRequest, match_id: int) -> HttpResponse:
    match = owned_or_404(selectors.match_for_user, request, match_id=match_id)
    introduced = flash_outcome(
        request,
        lambda: matches.match_introduce(match=match, user=request.user),
        f"We introduced you to {match.provider.business_name}: say what you need here. "
        f"{match.provider.user.name} has 72 hours to accept; then you both get the other's email.",
    )
    return redirect("thread", match.pk) if introduced else redirect("matches")


@login_required
@require_POST
def match_accept(request: HttpRequest, match_id: int) -> HttpResponse:
    match = owned_or_404(selectors.match_for_user, request, match_id=match_id)
    flash_outcome(
        request,
        lambda: matches.match_accept(match=match, user=request.user),
        f"You accepted {match.seeker.user.name}: you have each other's email now. Agree on the work, then either "
        "of you reports the engagement with its value; the other confirms it.",
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
    flash_outcome(
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
