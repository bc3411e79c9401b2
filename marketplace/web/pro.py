"""The Pro page: what Pro gives, its price, the person's Pro with its end date, and Buy / Renew."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from currency.selectors import pot_balance
from currency.web.forms import SpendConfirmForm
from imatch.errors import DomainError
from imatch.web import add_domain_error
from marketplace import selectors
from marketplace.services import pro


@login_required
@require_http_methods(["GET", "POST"])
def pro_page(request: HttpRequest) -> HttpResponse:
    """GET: the offer and your status; POST: buy or renew one period (charged once per page drawn)."""
    status = selectors.pro_status(user=request.user)
    price = status.option.cost if status.option else None
    form = SpendConfirmForm(request.POST or None, initial={"confirmed_cost": price})
    if request.method == "POST" and form.is_valid():
        try:
            result = pro.pro_buy(
                user=request.user,
                confirmed_cost=form.cleaned_data["confirmed_cost"],
                idempotency_key=f"web-{form.cleaned_data['idempotency_key']}",
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"You are Pro until {result.purchase.ends_at:%B %-d, %Y}. "
                f"Your balance is {result.transaction.balance_after} POT.",
            )
            return redirect("pro")
    balance = pot_balance(user_id=request.user.pk)
    context = {
        "status": status,
        "form": form,
        "balance": balance,
        "affordable": price is not None and balance >= price,
        "notice_days": settings.PRO_EXPIRY_NOTICE_DAYS,
    }
    return render(request, "marketplace/pro.html", context)
