"""The wallet pages: balance, level, history, spend (with a confirmation step), redeem."""

import copy
import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from currency import selectors, services
from currency.models import PotTransaction, Purchase, Redemption, SpendEffect, SpendOption
from currency.web.forms import RedeemForm, SpendConfirmForm
from imatch.errors import DomainError, NotFound
from imatch.person_cache import Scope, person_answer
from imatch.web import add_domain_error

HISTORY_PAGE_SIZE = 20
REDEMPTIONS_SHOWN = 10


def _wallet_page(request: HttpRequest, *, redeem_form: RedeemForm | None = None) -> HttpResponse:
    """The wallet: what the person's ledger holds comes from `_wallet_kept`; the rest is read per request.

    Per request: the redeem form, the flash messages and the CSRF token. The spend options come
    from the process's copy of the catalogue (`selectors.pot_rules`, which the admin refreshes
    on an edit and which the spend itself charges from). The balance and spend part and the
    history are kept rendered (`_top_section`, `_history_section`).
    """
    user = request.user
    page_key = hashlib.sha256((request.GET.get("page") or "").encode()).hexdigest()[:16]  # the raw parameter: any text
    kept = _wallet_kept(user, request.GET.get("page"), page_key)
    summary = selectors.wallet_summary_from(user=user, row=kept["wallet"])
    history = Paginator([], HISTORY_PAGE_SIZE)
    history.count = kept["count"]  # the page's rows are kept; the total with them
    context = {
        "summary": summary,
        "nav_pot": summary,  # the navigation bar's balance: not read a second time
        "top_section": _top_section(user, summary, kept),
        "history_section": _history_section(user, page_key, kept, history),
        "redeem_form": redeem_form or RedeemForm(),
        "min_redemption": settings.POT_MIN_REDEMPTION,
        "usd_rate": settings.POT_USD_RATE,
        "redemptions": [Redemption(**fields) for fields in kept["redemptions"]],
    }
    return render(request, "currency/wallet.html", context)


def _top_section(user, summary: selectors.WalletSummary, kept: dict) -> str:
    """The balance, level and spend cards and the purchases' list, rendered once and kept per person.

    Besides the ledger (the scope) it depends on the catalogue of spend options (their columns
    are in the key: an operator's edit makes a new key wherever the worker's copy has it), on
    the person's role (who each option is for), on whether the email address is verified (what
    is redeemable) and on the moment only through the state of each purchase listed.
    """
    rules = selectors.pot_rules()

    def build() -> str:
        options_by_id = {option.pk: option for option in rules.spend_options.values()}
        options = sorted(
            (copy.copy(option) for option in options_by_id.values() if _sold_in_wallet(option)),
            key=lambda option: (option.cost, option.key),
        )  # as `selectors.spend_options_active` orders them
        for option in options:
            option.affordable = option.cost <= summary.balance
            option.for_you = services.fits_audience(user, option.audience)
        purchases = []
        for fields in kept["purchases"]:
            purchase = Purchase(**fields)
            option = options_by_id.get(purchase.option_id)
            if option is None:  # added after this process read the catalogue: read it once
                option = SpendOption.objects.get(pk=purchase.option_id)
            purchase.option = option
            purchases.append(purchase)
        context = {
            "summary": summary,
            "level": summary.level,
            "options": options,
            "usd_rate": settings.POT_USD_RATE,
            "purchases": purchases,
            "credit_usd": kept["credit_usd"],
            "extra_matches": kept["extra_matches"],
        }
        return render_to_string("currency/_wallet_top.html", context)

    name = (
        "wallet-top",
        _catalogue_signature(rules),
        user.account_type,
        summary.email_verified,
        timezone.get_current_timezone_name(),
        _moments_passed(kept["purchases"]),
    )
    return person_answer(user_id=user.pk, scopes=[Scope.LEDGER], name=name, build=build)


_signature: tuple[object, str] | None = None  # (the catalogue copy, its signature): one per process


def _catalogue_signature(rules: selectors.PotRules) -> str:
    """A digest of every spend option's columns: equal catalogues give equal digests in every worker."""
    global _signature
    if _signature is None or _signature[0] is not rules:
        columns = [_columns(option) for option in sorted(rules.spend_options.values(), key=lambda option: option.pk)]
        _signature = (rules, hashlib.sha256(repr(columns).encode()).hexdigest()[:16])
    return _signature[1]


def _moments_passed(purchases: list[dict | None]) -> int:
    """How many of these purchases' start and end times have passed: a new count when one starts or ends."""
    now = timezone.now()
    return sum(
        1
        for purchase in purchases
        if purchase is not None
        for moment in (purchase["starts_at"], purchase["ends_at"])
        if moment is not None and moment <= now
    )


def _sold_in_wallet(option: SpendOption) -> bool:
    """`selectors.spend_options_active`'s filter: active, and not a content unlock (bought on its article)."""
    return option.active and option.effect != SpendEffect.CONTENT_UNLOCK


def _wallet_kept(user, page_number: str | None, page_key: str) -> dict:
    """What the wallet shows of the person's ledger, kept under their ledger scope (no query on a hit).

    The wallet row, one page of the history (with what each spend bought), the purchases ready
    to use, the latest redemptions and purchases: all written by the ledger and the POT services,
    which forget `Scope.LEDGER` (postings, purchases used, redemptions decided). Kept as plain
    column values, compared by value when verified, and turned into model instances per
    request, so a purchase's state and the dates are written at the time of the request.
    """

    def build() -> dict:
        history = Paginator(selectors.transactions_of_user(user=user), HISTORY_PAGE_SIZE)
        page = history.get_page(page_number)
        ready = selectors.purchases_ready(user=user)
        return {
            "wallet": selectors.wallet_row(user_id=user.pk),
            "count": history.count,
            "number": page.number,
            "history": [(_columns(row), _columns(getattr(row, "purchase", None))) for row in page.object_list],
            "extra_matches": ready.extra_matches,
            "credit_usd": ready.credit_usd,
            "redemptions": [_columns(row) for row in selectors.redemptions_of_user(user=user)[:REDEMPTIONS_SHOWN]],
            "purchases": [_columns(row) for row in Purchase.objects.filter(user=user).order_by("-id")[:10]],
        }

    return person_answer(user_id=user.pk, scopes=[Scope.LEDGER], name=("wallet-page", page_key), build=build)


def _history_section(user, page_key: str, kept: dict, history: Paginator) -> str:
    """The history's HTML, rendered once and kept per person under the ledger scope.

    Besides the rows, it depends on the time zone (the dates) and on the moment only through
    the state of each purchase shown (starts, active, ended): the key holds the zone and how
    many of those purchases' start and end times have passed, so a purchase that starts or
    ends makes a new key. Nothing in it is per request (no form, no CSRF token).
    """
    passed = _moments_passed([purchase for _row, purchase in kept["history"]])

    def build() -> str:
        rows = [_history_row(row, purchase) for row, purchase in kept["history"]]
        return render_to_string("currency/_wallet_history.html", {"page": Page(rows, kept["number"], history)})

    zone = timezone.get_current_timezone_name()
    return person_answer(
        user_id=user.pk, scopes=[Scope.LEDGER], name=("wallet-history", page_key, zone, passed), build=build
    )


def _columns(instance: Model | None) -> dict | None:
    """A row's stored columns by attribute name (what `Model(**columns)` makes again)."""
    if instance is None:
        return None
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def _history_row(columns: dict, purchase_columns: dict | None) -> PotTransaction:
    """A history row as `transactions_of_user` reads it: with its purchase joined (or none)."""
    row = PotTransaction(**columns)
    purchase = Purchase(**purchase_columns) if purchase_columns is not None else None
    PotTransaction.purchase.related.set_cached_value(row, purchase)
    return row


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
