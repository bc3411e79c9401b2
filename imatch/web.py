"""Helpers shared by the apps' web views and forms (no app imports here).

- `owned_or_404`: run an access helper for the logged-in user; someone else's object is a 404.
- `flash_outcome`: run one service call and flash its refusal or the success message.
- `add_domain_error` / `MarkInvalidMixin`: show a service's refusal next to its field, marked
  `aria-invalid` so that Pico shows it in red.
"""

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest

from imatch.errors import DomainError, NotFound

T = TypeVar("T")


def owned_or_404(access: Callable[..., T], request: HttpRequest, **ids) -> T:
    """Run an access helper (e.g. `seeker_for_user`) for the logged-in user; others' objects are 404."""
    try:
        return access(user=request.user, **ids)
    except NotFound as error:
        raise Http404(error.message) from error


def flash_outcome(request: HttpRequest, action: Callable[[], object], success: str) -> bool:
    """Run one service call; flash its refusal or the success message. True when it succeeded."""
    try:
        action()
    except DomainError as error:
        messages.error(request, error.message)
        return False
    messages.success(request, success)
    return True


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal next to the field it concerns (or above the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
    if field:
        form.fields[field].widget.attrs["aria-invalid"] = "true"


class MarkInvalidMixin:
    """Marks fields with errors `aria-invalid`, which Pico shows in red."""

    def full_clean(self) -> None:
        super().full_clean()
        for name in getattr(self, "_errors", None) or {}:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"
