"""The first steps, in one sitting: search → category → what you need (an account made inline) → matches.

A provider's path is the same: category → profile (an account made inline) → listed, or
waiting for the license check. A person who chooses to log in instead of signing up keeps
what they typed: the form is kept in their session and filled in again when they come back
(`next` brings them back to the form).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from categories import selectors as category_selectors
from categories.models import Category
from imatch.errors import DomainError
from imatch.web import add_domain_error
from marketplace import selectors
from marketplace.services import matches, onboarding
from marketplace.us_states import STATE_CODES
from marketplace.web.forms import AccountForm, ProviderForm, SearchForm, SeekerForm
from marketplace.web.matches import flash_match_run

CARRIED = ("need", "where")  # the home search's words, carried through the category choice
DRAFT_KEY = "profile-draft:{role}:{category}"


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """The home page's search box: on to the category that fits the words, or a choice when none does."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        messages.info(request, "Tell us what you need, e.g. “retirement planning” or “career change”.")
        return redirect("home")
    carried = {key: form.cleaned_data[key] for key in CARRIED if form.cleaned_data.get(key)}
    category = selectors.category_for_search(text=form.cleaned_data["need"])
    if category is None:
        return _category_picker(request, "seeker", carried=carried, unmatched=True)
    return redirect(f"{reverse('seeker-create')}?{urlencode({'category': category.name, **carried})}")


def _category_picker(request: HttpRequest, role: str, *, carried: dict, unknown=False, unmatched=False) -> HttpResponse:
    return render(
        request,
        "marketplace/category_picker.html",
        {
            "role": role,
            "categories": category_selectors.category_list(),
            "unknown": unknown,
            "unmatched": unmatched,
            "carried": urlencode(carried),
            "need": carried.get("need", ""),
        },
    )


def _category_or_picker(request: HttpRequest, role: str) -> Category | HttpResponse:
    name = request.GET.get("category", "")
    category = category_selectors.category_get(name=name) if name else None
    if category is None:
        carried = {key: request.GET[key] for key in CARRIED if request.GET.get(key)}
        return _category_picker(request, role, carried=carried, unknown=bool(name))
    return category


def _initial_from_search(request: HttpRequest) -> dict:
    """The seeker form's first values from the home search: the need, and a city ("Austin, TX") or remote."""
    initial: dict = {}
    if request.GET.get("need"):
        initial["needs_description"] = request.GET["need"][:200]
    where = request.GET.get("where", "").strip()[:100]
    if where.lower() in ("remote", "online", "anywhere"):
        initial["remote_ok"] = True
    elif where:
        city, _, state = where.partition(",")
        initial["city"] = city.strip()
        if state.strip().upper() in STATE_CODES:
            initial["state"] = state.strip().upper()
    return initial


def _draft_key(role: str, category: Category) -> str:
    return DRAFT_KEY.format(role=role, category=category.name)


def _keep_draft_and_log_in(request: HttpRequest, role: str, category: Category, form_class) -> HttpResponse:
    """Keep the profile's fields as typed (never the account's: no password in a session) and go log in."""
    request.session[_draft_key(role, category)] = {
        key: request.POST.getlist(key) for key in form_class.base_fields if key in request.POST
    }
    return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")


def _initial_from_draft(request: HttpRequest, role: str, category: Category, form_class) -> dict | None:
    draft = request.session.get(_draft_key(role, category))
    if not draft:
        return None
    initial = {}
    for name, field in form_class.base_fields.items():
        values = draft.get(name, [])
        if name == "specialties":
            initial[name] = values
        elif isinstance(field, forms.BooleanField):
            initial[name] = bool(values)
        elif values:
            initial[name] = values[-1]
    return initial


def _start(request: HttpRequest, role: str, category: Category, form_class, initial: dict):
    """The profile form and, for someone not logged in, the account form beside it (bound on POST)."""
    anonymous = not request.user.is_authenticated
    data = request.POST if request.method == "POST" else None
    draft = None if data else _initial_from_draft(request, role, category, form_class)
    form = form_class(data, category=category, initial=draft or initial)
    account = (
        AccountForm(data, prefix="account", initial={"referral_code": request.GET.get("ref", "")})
        if anonymous
        else None
    )
    return form, account


def _created(request: HttpRequest, role: str, category: Category, account, make) -> object | None:
    """Run the service; show its refusal next to the field (account or profile); log a new person in."""
    try:
        profile = make()
    except DomainError as error:
        return error
    if account is not None:
        login(request, profile.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            f"Welcome to I MATCH, {profile.user.get_short_name()}! We sent a link to {profile.user.email}: "
            "open it to verify your email address.",
        )
    request.session.pop(_draft_key(role, category), None)
    return profile


def _show_refusal(form, account, error: DomainError) -> None:
    if account is not None and error.field in account.fields:
        add_domain_error(account, error)
    else:
        add_domain_error(form, error)


@dataclass(frozen=True)
class _Path:
    """What differs between a seeker's and a provider's first step; `_profile_create` does the rest."""

    role: str  # seeker, provider
    form_class: type
    noun: str  # what the person has in a category: a request, a profile
    existing: Callable  # (user, category) -> their profile in the category, or None
    edit: str  # the URL name of that profile's edit page
    create: Callable  # (user, account, category, data) -> the new profile (an onboarding service)


SEEKER = _Path(
    "seeker",
    SeekerForm,
    "request",
    lambda user, category: selectors.seeker_of_user_in(user=user, category=category),
    "seeker-edit",
    lambda **given: onboarding.seeker_start(
        user=given["user"], account=given["account"], category=given["category"], needs=given["data"]
    ),
)
PROVIDER = _Path(
    "provider",
    ProviderForm,
    "profile",
    lambda user, category: selectors.provider_of_user_in(user=user, category=category),
    "provider-edit",
    lambda **given: onboarding.provider_start(
        user=given["user"], account=given["account"], category=given["category"], profile=given["data"]
    ),
)


def _profile_create(request: HttpRequest, path: _Path, initial: Callable, done: Callable) -> HttpResponse:
    """The category, or the person's existing profile in it to edit; the form (with an account inline for
    someone not logged in, or a detour to log in keeping what was typed); the service; then `done`."""
    category = _category_or_picker(request, path.role)
    if isinstance(category, HttpResponse):
        return category
    if request.user.is_authenticated:
        existing = path.existing(request.user, category)
        if existing is not None:
            messages.info(request, f"You already have a {category.display_name} {path.noun}: here it is to edit.")
            return redirect(path.edit, existing.pk)
    form, account = _start(request, path.role, category, path.form_class, initial(request))
    if request.method == "POST":
        if request.POST.get("intent") == "login" and account is not None:
            return _keep_draft_and_log_in(request, path.role, category, path.form_class)
        if form.is_valid() and (account is None or account.is_valid()):
            outcome = _created(
                request,
                path.role,
                category,
                account,
                lambda: path.create(
                    user=request.user if account is None else None,
                    account=account.cleaned_data if account else None,
                    category=category,
                    data=form.cleaned_data,
                ),
            )
            if not isinstance(outcome, DomainError):
                return done(request, category, outcome)
            _show_refusal(form, account, outcome)
    return render(
        request,
        "marketplace/profile_form.html",
        {"form": form, "account": account, "category": category, "role": path.role},
    )


@require_http_methods(["GET", "POST"])
def seeker_create(request: HttpRequest) -> HttpResponse:
    """Step 2 of finding a provider: what you need (and an account, inline), then the matches at once."""
    return _profile_create(request, SEEKER, _initial_from_search, _seeker_created)


def _seeker_created(request: HttpRequest, category: Category, seeker) -> HttpResponse:
    messages.success(request, f"Your {category.display_name} request is saved.")
    _match_at_once(request, seeker)
    return redirect(f"{reverse('matches')}#seeker-{seeker.pk}")


def _match_at_once(request: HttpRequest, seeker) -> None:
    try:
        made = matches.match_run_for_seeker(seeker=seeker)
    except DomainError as error:
        messages.error(request, f"Your request is saved. {error.message}")
        return
    flash_match_run(request, seeker, made)


@require_http_methods(["GET", "POST"])
def provider_create(request: HttpRequest) -> HttpResponse:
    """A provider's profile in a category (and an account, inline); then where they stand: listed or waiting."""
    return _profile_create(
        request,
        PROVIDER,
        lambda request: {"business_name": request.user.name if request.user.is_authenticated else ""},
        _provider_created,
    )


def _provider_created(request: HttpRequest, category: Category, provider) -> HttpResponse:
    if provider.is_listed:
        messages.success(request, f"You are listed in {category.display_name}: seekers can find you now.")
    else:
        messages.success(
            request,
            f"Your {category.display_name} profile is saved. It waits for license verification: an "
            "operator checks your license number, then you are listed and matched, and we email you.",
        )
    return redirect("provider-edit", provider.pk)
