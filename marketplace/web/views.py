"""Web pages for people: thin views that parse a form, call one service and render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST

from categories import selectors as category_selectors
from categories.models import Category
from currency.selectors import levels_for
from imatch.client import client_ip
from imatch.errors import DomainError, NotFound
from imatch.ratelimit import within_limit
from imatch.web import add_domain_error, flash_outcome, owned_or_404, page_without_count
from marketplace import selectors
from marketplace.errors import LoginLocked, VerificationLinkExpired
from marketplace.filters import ProviderDirectoryFilter
from marketplace.legacy.invitations import invitation_tokens
from marketplace.services import profiles, referrals, verification
from marketplace.web.dashboard import dashboard_html
from marketplace.web.forms import (
    DirectoryFilterForm,
    EmailAuthenticationForm,
    PhotoForm,
    ProviderForm,
    SeekerForm,
    SignupForm,
)

DIRECTORY_PAGE_SIZE = 20
PUBLIC_PAGE_SECONDS = 60  # how long a process serves a public page it rendered (levels shown on it may lag so long)


def public_page(view):
    """Serve anonymous visitors the page as this process rendered it for the same URL.

    For the catalogue's public pages (home, category directory, provider page): what they
    show changes only through services that call `catalog_forget` (a new catalogue version
    drops every kept page at once), except the providers' levels, which may lag
    PUBLIC_PAGE_SECONDS. Not kept: logged-in visitors (their name, wallet and bell are on
    the page), a request with messages to show, a page that used the CSRF token, an answer
    other than 200.
    """

    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "GET" or request.user.is_authenticated or len(messages.get_messages(request)):
            return view(request, *args, **kwargs)
        key = ("public-page", request.get_host(), request.get_full_path())

        def build():
            response = view(request, *args, **kwargs)
            if response.status_code != 200 or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
                return response  # an HttpResponse: served once, not kept (see below)
            return (response.content, response["Content-Type"])

        kept = category_selectors.catalog_memo(key, build, seconds=PUBLIC_PAGE_SECONDS)
        if isinstance(kept, HttpResponse):
            category_selectors.catalog_memo_drop(key)
            return kept
        content, content_type = kept
        return HttpResponse(content, content_type=content_type)

    wrapper.__name__, wrapper.__doc__ = view.__name__, view.__doc__
    return wrapper


@public_page
def home(request: HttpRequest) -> HttpResponse:
    categories = selectors.category_list_with_provider_counts()
    return render(request, "marketplace/home.html", {"categories": categories})


def _public_category(name: str) -> Category:
    category = category_selectors.category_get(name=name)
    if category is None:
        raise Http404("No such category.")
    return category


@public_page
def category_detail(request: HttpRequest, name: str) -> HttpResponse:
    """A category, how it works, and its provider directory: filters, keywords, sort, pages."""
    category = _public_category(name)
    form = DirectoryFilterForm(request.GET or None, category=category)
    filters = {}  # the category is the selector's: provider_directory(category=...)
    keywords, sort = "", "best"
    if form.is_bound and form.is_valid():
        chosen = {key: value for key, value in form.cleaned_data.items() if value not in (None, "")}
        keywords, sort = chosen.pop("q", ""), chosen.pop("sort", "best")
        filters.update(chosen)
    providers = ProviderDirectoryFilter(filters, queryset=selectors.provider_directory(category=category)).qs
    providers = selectors.provider_directory_search(providers, keywords=keywords, sort=sort)
    page = page_without_count(providers, number=request.GET.get("page"), size=DIRECTORY_PAGE_SIZE)
    levels = levels_for(user_ids={provider.user_id for provider in page.object_list})
    for provider in page.object_list:
        provider.level = levels[provider.user_id]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "marketplace/category_detail.html",
        {
            "category": category,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "filtered": len(filters) > 1 or bool(keywords),
        },
    )


@public_page
def provider_detail(request: HttpRequest, provider_id: int) -> HttpResponse:
    try:
        provider = selectors.provider_public_get(provider_id=provider_id)
    except NotFound as error:
        raise Http404(error.message) from error
    reviews = selectors.provider_reviews(provider=provider)[:20]
    return render(request, "marketplace/provider_detail.html", {"provider": provider, "reviews": reviews})


class LoginView(auth_views.LoginView):
    """Log in with email and password; attempts are throttled per client address (failures per
    email are django-axes' to count and lock)."""

    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if not within_limit(
            "login-ip", client_ip(request), limit=settings.LOGIN_ATTEMPTS_PER_MINUTE, period_seconds=60
        ):
            message = "Too many log-in attempts from your network. Wait a minute, then try again."
            return render(request, "registration/locked_out.html", {"message": message}, status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Welcome back, {self.request.user.get_short_name()}.")
        return response


def login_locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): the same page for every email, real or not."""
    return render(request, "registration/locked_out.html", {"message": LoginLocked().message}, status=429)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, limited per email and per client address in the shared cache.

    Over a limit nothing is sent, and the page is the same "if an account uses that
    address, we sent a link" page: it tells nobody whether an account exists or a limit hit.
    """

    def form_valid(self, form):
        # The link uses the public address (SITE_URL), never the Host header a request came with.
        self.extra_email_context = {"site_url": settings.SITE_URL.rstrip("/")}
        hour = 60 * 60
        per_email = within_limit(
            "password-reset-email",
            form.cleaned_data["email"],
            limit=settings.PASSWORD_RESET_LIMIT_PER_EMAIL,
            period_seconds=hour,
        )
        per_client = within_limit(
            "password-reset-ip",
            client_ip(self.request),
            limit=settings.PASSWORD_RESET_LIMIT_PER_IP,
            period_seconds=hour,
        )
        if not (per_email and per_client):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The link of `invite_v1`: a Phase 1 person sets a password, is logged in, and goes to their first step.

    Django's reset page with the invitation tokens: it works once (setting the password
    changes what the token covers) and for `V1_INVITE_VALID_DAYS`.
    """

    template_name = "registration/invitation_accept.html"
    token_generator = invitation_tokens
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    extra_context = {"valid_days": settings.V1_INVITE_VALID_DAYS}

    def get_success_url(self) -> str:
        step = selectors.person_next_step(user=self.user)
        messages.success(self.request, f"Welcome to I MATCH, {self.user.get_short_name()}. {step.why}")
        return step.path


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out. See you soon.")
        return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    form = SignupForm(request.POST or None, initial={"referral_code": request.GET.get("ref", "")})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        # An unknown referral code does not stop a sign-up on the web: the account is created
        # without a referrer and the page says so (the API refuses it: a client can correct it).
        code = data.pop("referral_code", "").strip()
        unknown_code = bool(code) and selectors.referrer_for_code(code=code) is None
        try:
            user = profiles.user_register(**data, referral_code=None if unknown_code else code)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Welcome to I MATCH, {user.get_short_name()}! Create a profile to get started. "
                f"We sent a link to {user.email}: open it to verify your email address.",
            )
            if unknown_code:
                messages.warning(
                    request,
                    f"The referral code {code} is not one we know, so your account has no referrer. "
                    "Codes only count at sign-up.",
                )
            return redirect(next_url or "dashboard")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


@require_http_methods(["GET"])
def join(request: HttpRequest) -> HttpResponse:
    """A referral link: sign up with the code; a logged-in person is told why it does not apply to them."""
    code = request.GET.get("ref", "").strip()[:16]
    if not request.user.is_authenticated:
        return redirect(f"{reverse('signup')}?{urlencode({'ref': code})}" if code else reverse("signup"))
    if code:
        try:
            referrals.referral_code_use(user=request.user, code=code)
        except DomainError as error:
            messages.info(request, error.message)
    return redirect("dashboard")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return HttpResponse(dashboard_html(request))


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """The page a verification link opens: verified (and what next), or why not and how to get a new link."""
    try:
        result = verification.email_verify(token=token)
    except DomainError as error:
        context = {"error": error, "expired": isinstance(error, VerificationLinkExpired)}
        return render(request, "marketplace/verify_email.html", context, status=400)
    return render(request, "marketplace/verify_email.html", {"verified_user": result.user, "newly": result.newly})


@login_required
@require_POST
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    flash_outcome(
        request,
        lambda: verification.email_verification_resend(user=request.user),
        f"We sent a new verification link to {request.user.email}. It works for a few days.",
    )
    return redirect("dashboard")


@login_required
@require_http_methods(["GET", "POST"])
def seeker_edit(request: HttpRequest, seeker_id: int) -> HttpResponse:
    seeker = owned_or_404(selectors.seeker_for_user, request, seeker_id=seeker_id)
    form = SeekerForm(
        request.POST or None, category=seeker.category, initial=SeekerForm.initial_from(seeker, SeekerForm.FIELDS)
    )
    if request.method == "POST" and form.is_valid():
        try:
            profiles.seeker_update(seeker=seeker, changes=form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Your {seeker.category.display_name} request is updated.")
            return redirect("dashboard")
    return render(
        request,
        "marketplace/profile_form.html",
        {"form": form, "category": seeker.category, "role": "seeker", "profile": seeker},
    )


@login_required
@require_http_methods(["GET", "POST"])
def provider_edit(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = owned_or_404(selectors.provider_for_user, request, provider_id=provider_id)
    form = ProviderForm(
        request.POST or None,
        category=provider.category,
        initial=ProviderForm.initial_from(provider, ProviderForm.FIELDS),
    )
    if request.method == "POST" and form.is_valid():
        try:
            profiles.provider_update(provider=provider, changes=form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Your {provider.category.display_name} profile is updated.")
            return redirect("dashboard")
    return render(
        request,
        "marketplace/profile_form.html",
        {
            "form": form,
            "category": provider.category,
            "role": "provider",
            "profile": provider,
            "strength": selectors.provider_strength(provider=provider),
            "photo_form": PhotoForm(),
        },
    )
