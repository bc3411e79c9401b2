"""The wallet pages: balance, level, history, spend (with a confirmation step), redeem."""

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST

from currency import selectors, services
from currency.models import Redemption, SpendEffect
from currency.web import wallet_kept
from currency.web.forms import RedeemForm, SpendConfirmForm
from imatch.errors import DomainError, NotFound
from imatch.web import add_domain_error


def _wallet_page(request: HttpRequest, *, redeem_form: RedeemForm | None = None) -> HttpResponse:
    """The wallet: what the person's ledger holds comes from `wallet_kept`; the page is kept whole when it can be.

    The usual view (no flash message to show, no redeem form sent back with its errors) differs
    between requests only by its CSRF token and the redeem form's new idempotency key: it is
    kept rendered (`wallet_kept.page`) and those two are written in per request. Otherwise it
    is rendered here; the balance and spend part and the history are kept rendered either way.
    """
    user = request.user
    page_key = wallet_kept.page_key_of(request)
    usual = redeem_form is None and not len(messages.get_messages(request))
    if usual:
        wallet_kept.read_ahead(user, page_key)  # the ledger data's keys and the kept page's: one round trip
    kept = wallet_kept.wallet_kept(user, request.GET.get("page"), page_key)
    if usual:
        render_page = partial(_wallet_html, request, kept, page_key)
        return HttpResponse(wallet_kept.page(request, page_key, kept, render=render_page))
    return HttpResponse(_wallet_html(request, kept, page_key, redeem_form=redeem_form))


def _wallet_html(
    request: HttpRequest, kept: dict, page_key: str, *, redeem_form: RedeemForm | None = None, **tokens
) -> str:
    """The wallet page's HTML from the kept ledger data; `tokens` replace the request's (`csrf_token`)."""
    user = request.user
    summary = selectors.wallet_summary_from(user=user, row=kept["wallet"])
    history = Paginator([], wallet_kept.HISTORY_PAGE_SIZE)
    history.count = kept["count"]  # the page's rows are kept; the total with them
    context = {
        "summary": summary,
        "nav_pot": summary,  # the navigation bar's balance: not read a second time
        "top_section": wallet_kept.top_section(user, summary, kept),
        "history_section": wallet_kept.history_section(user, page_key, kept, history),
        "redeem_form": redeem_form or RedeemForm(),
        "min_redemption": settings.POT_MIN_REDEMPTION,
        "usd_rate": settings.POT_USD_RATE,
        "redemptions": [Redemption(**fields) for fields in kept["redemptions"]],
        **tokens,
    }
    return render_to_string("currency/wallet.html", context, request)


@login_required
def wallet(request: HttpRequest) -> HttpResponse:
    return _wallet_page(request)


@login_required
@require_http_methods(["GET", "POST"])
def spend_confirm(request: HttpRequest, option_key: str) -> HttpResponse:
    """Step 2 of a spend: show the price and the balance after; charge only on an explicit confirm."""
    try:
        option = selectors.spend_option_active(key=option_key)
    except NotFound as error:
        raise Http404(error.message) from error
    if option.effect == SpendEffect.PRO_TIER:
        return redirect("pro")  # Pro has its own page: what it gives, your status, Renew
    form = SpendConfirmForm(request.POST or None, initial={"confirmed_cost": option.cost})
    if request.method == "POST" and form.is_valid():
        try:
            result = services.pot_spend(
                user=request.user,
                option_key=option.key,
                confirmed_cost=form.cleaned_data["confirmed_cost"],
                idempotency_key=f"web-{form.cleaned_data['idempotency_key']}",
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"You spent {result.transaction.amount * -1} POT on {option.name}: {result.purchase.describe()}. "
                f"Your balance is {result.transaction.balance_after} POT.",
            )
            return redirect("wallet")
    balance = selectors.pot_balance(user_id=request.user.pk)
    context = {
        "option": option,
        "form": form,
        "balance": balance,
        "balance_after": balance - option.cost,
        "for_you": services.fits_audience(request.user, option.audience),
    }
    return render(request, "currency/spend_confirm.html", context)


@login_required
@require_POST
def redeem(request: HttpRequest) -> HttpResponse:
    form = RedeemForm(request.POST)
    if form.is_valid():
        try:
            result = services.redemption_request(
                user=request.user,
                pot_amount=form.cleaned_data["pot_amount"],
                payment_method=form.cleaned_data["payment_method"],
                idempotency_key=f"web-{form.cleaned_data['idempotency_key']}",
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            redemption = result.redemption
            messages.success(
                request,
                f"Your redemption of {redemption.pot_amount} POT (${redemption.usd_amount}) is on hold "
                "until an operator pays it.",
            )
            return redirect("wallet")
    return _wallet_page(request, redeem_form=form)
