"""Wallet forms: types and sizes only; the rules are the services'."""

import uuid

from django import forms

from imatch.web import MarkInvalidMixin


class IdempotentForm(forms.Form):
    """Carries a key made when the page was drawn: a double submit is one request, charged once."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


class SpendConfirmForm(IdempotentForm):
    confirmed_cost = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class RedeemForm(MarkInvalidMixin, IdempotentForm):
    pot_amount = forms.IntegerField(label="POT to redeem", min_value=1, max_value=10**12)
    payment_method = forms.CharField(
        label="Pay me at", max_length=200, help_text="For example: PayPal me@example.com, or your bank details."
    )
