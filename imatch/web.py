"""Helpers shared by the apps' web views and forms (no app imports here).

- `owned_or_404`: run an access helper for the logged-in user; someone else's object is a 404.
- `flash_outcome`: run one service call and flash its refusal or the success message.
- `add_domain_error` / `MarkInvalidMixin`: show a service's refusal next to its field, marked
  `aria-invalid` so that Pico shows it in red.
- `page_without_count`: one page of a long listing, without a COUNT(*) over all of it.
- `CSRF_MARK` / `with_csrf_token`: a page kept rendered (the wallet, the dashboard) holds the
  mark where its forms' CSRF token goes; each request writes its own token in.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.middleware.csrf import get_token
from django.utils.safestring import mark_safe

from imatch.errors import DomainError, NotFound

T = TypeVar("T")

# What a kept page holds in place of the request's CSRF token: markup, written as is, which no
# escaped text can be. Rendered as the `csrf_token` of the page's context.
CSRF_MARK = mark_safe("<imatch-csrf-token>")


def with_csrf_token(request: HttpRequest, html: str) -> str:
    """A kept page's HTML with this request's CSRF token where it holds `CSRF_MARK`."""
    return html.replace(CSRF_MARK, get_token(request))


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


@dataclass(frozen=True)
class WindowPage:
    """One page of a listing, known to have a next page or not without counting the whole listing."""

    object_list: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


PAGE_NUMBER_MAX = 1000  # deep pages are for narrower filters, not for paging through everything


def page_without_count(rows: QuerySet, *, number: str | None, size: int) -> WindowPage:
    """Rows of page `number` (1 when missing or not a number): one row more than a page is read,
    so that a next page is known without a COUNT(*) over the whole listing."""
    try:
        page = min(max(int(number or 1), 1), PAGE_NUMBER_MAX)
    except ValueError:
        page = 1
    start = (page - 1) * size
    found = list(rows[start : start + size + 1])
    return WindowPage(object_list=found[:size], number=page, has_next=len(found) > size)
