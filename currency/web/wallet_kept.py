"""What the wallet page keeps per person (`imatch.person_cache`, `Scope.LEDGER`) and how it is rebuilt.

The page (`currency.web.views.wallet`) reads the person's ledger data from `wallet_kept` and
the two parts that are the same on every request, rendered and kept: the balance, level and
spend cards (`top_section`) and the history (`history_section`). Each key holds what the part
depends on besides the ledger (the spend catalogue, role, verified email, time zone, purchases
that started or ended), so no relative state is frozen. The usual view of the whole page is
kept too (`page`), with the CSRF token and the redeem form's idempotency key written in per
request; a page with a flash message or a redeem form's errors is never kept.
"""

import copy
import hashlib
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Model
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from currency import selectors, services
from currency.models import PotTransaction, Purchase, SpendEffect, SpendOption
from currency.web.forms import RedeemForm
from imatch.person_cache import Scope, person_answer, person_answer_keys, person_answers_read_ahead
from imatch.session_auth import read_with_session_user
from imatch.web import CSRF_MARK, with_csrf_token

HISTORY_PAGE_SIZE = 20
REDEMPTIONS_SHOWN = 10
# What a kept page holds in place of the redeem form's idempotency key (an attribute value; the
# CSRF token's mark is `imatch.web.CSRF_MARK`).
IDEMPOTENCY_MARK = "imatchidempotencykeyofthekeptpage"
PAGE_SCOPES = (Scope.LEDGER, Scope.NOTIFICATIONS)  # the kept page's: the header shows the POT and the bell


def page(request: HttpRequest, page_key: str, kept: dict, render: Callable[..., str]) -> str:
    """The wallet page's usual view (no flash message, a new redeem form), kept whole per person.

    `render(csrf_token=…, redeem_form=…)` renders the page. It is rendered with marks for the
    CSRF token and the redeem form's idempotency key, and kept under the person's ledger and
    notifications scopes (the header shows the POT and the unread count); each request writes
    its own token and a new key in. Its variant holds everything else the page depends on: the
    parts' own (`top_section`, `history_section`), the name and email in the header, and the
    redemption settings.
    """
    user = request.user
    purchases = kept["purchases"] + [purchase for _row, purchase in kept["history"]]
    variant = (  # checked with the scopes' tokens, not in the key: the key is known ahead (`read_ahead`)
        _catalogue_signature(selectors.pot_rules()),
        user.account_type,
        selectors.email_verified(user),
        timezone.get_current_timezone_name(),
        _moments_passed(purchases),
        user.name,
        user.email,
        settings.POT_MIN_REDEMPTION,
        str(settings.POT_USD_RATE),
    )

    def build() -> str:
        return render(csrf_token=CSRF_MARK, redeem_form=RedeemForm(initial={"idempotency_key": IDEMPOTENCY_MARK}))

    html = person_answer(
        user_id=user.pk,
        scopes=PAGE_SCOPES,
        name=("wallet-page-html", page_key),
        build=build,
        variant=variant,
        verify_at_end=False,
    )
    return with_csrf_token(request, html).replace(IDEMPOTENCY_MARK, uuid.uuid4().hex)


def page_key_of(request: HttpRequest) -> str:
    """The history page asked for, as the keys name it: the raw parameter, any text, hashed."""
    return hashlib.sha256((request.GET.get("page") or "").encode()).hexdigest()[:16]


def _keys(user_id: int, page_key: str) -> list[str]:
    """The keys of `wallet_kept` and of `page`: the page's usual view asks for both."""
    return [
        *person_answer_keys(user_id=user_id, scopes=[Scope.LEDGER], name=("wallet-page", page_key)),
        *person_answer_keys(user_id=user_id, scopes=PAGE_SCOPES, name=("wallet-page-html", page_key)),
    ]


def read_ahead(user, page_key: str) -> None:
    """Read the keys of `wallet_kept` and of `page` in one round trip, unless the session's user's read them."""
    person_answers_read_ahead(_keys(user.pk, page_key))


read_with_session_user("wallet", lambda request, user_id: _keys(user_id, page_key_of(request)))


def top_section(user, summary: selectors.WalletSummary, kept: dict) -> str:
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
    return person_answer(user_id=user.pk, scopes=[Scope.LEDGER], name=name, build=build, verify_at_end=False)


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


def wallet_kept(user, page_number: str | None, page_key: str) -> dict:
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


def history_section(user, page_key: str, kept: dict, history: Paginator) -> str:
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
    name = ("wallet-history", page_key, zone, passed)
    return person_answer(user_id=user.pk, scopes=[Scope.LEDGER], name=name, build=build, verify_at_end=False)


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
