"""A person's own settings: profile photo, time zone, and their name on leaderboards."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from imatch.errors import DomainError
from imatch.web import add_domain_error
from marketplace.services import account
from marketplace.web.forms import LeaderboardOptInForm, PhotoForm, TimeZoneForm


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the page the form was on (`next`, this site only), or to the account page."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("account")


def _page(request: HttpRequest, *, photo_form=None, zone_form=None, leaderboard_form=None, status=200) -> HttpResponse:
    return render(
        request,
        "marketplace/account.html",
        {
            "photo_form": photo_form or PhotoForm(),
            "zone_form": zone_form or TimeZoneForm(initial={"time_zone": request.user.time_zone}),
            "leaderboard_form": leaderboard_form or LeaderboardOptInForm.for_user(request.user),
            "leaderboard_minutes": settings.LEADERBOARD_CACHE_SECONDS // 60,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    form = TimeZoneForm(request.POST)
    if form.is_valid():
        try:
            account.user_time_zone_set(user=request.user, time_zone=form.cleaned_data["time_zone"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Dates and times are now shown in {form.cleaned_data['time_zone']}.")
            return redirect("account")
    return _page(request, zone_form=form, status=400)


@login_required
@require_POST
def photo_upload(request: HttpRequest) -> HttpResponse:
    """Store a new profile photo; a refused file is shown next to the field (never a 500)."""
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            account.user_photo_set(user=request.user, upload=form.cleaned_data["photo"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Your photo is updated.")
            return _back(request)
    return _page(request, photo_form=form, status=400)


@login_required
@require_POST
def photo_remove(request: HttpRequest) -> HttpResponse:
    account.user_photo_remove(user=request.user)
    messages.success(request, "Your photo is removed: your initials are shown instead.")
    return _back(request)


@login_required
@require_POST
def leaderboard_name(request: HttpRequest) -> HttpResponse:
    """Choose to appear on leaderboards by name or as "Anonymous"; shown there at their next recompute."""
    form = LeaderboardOptInForm(request.POST)
    if not form.is_valid():
        return _page(request, leaderboard_form=form, status=400)
    account.user_settings_update(user=request.user, leaderboard_opt_in=form.opt_in)
    minutes = settings.LEADERBOARD_CACHE_SECONDS // 60
    shown = "your name" if form.opt_in else "you as “Anonymous”"
    messages.success(request, f"Leaderboards show {shown} from their next update, within {minutes} minutes.")
    return _back(request)
