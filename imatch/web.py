"""Helpers shared by the apps' web views and forms (no app imports here).

- `owned_or_404`: run an access helper for the logged-in user; someone else's object is a 404.
- `flash_outcome`: run one service call and flash its refusal or the success message.
- `add_domain_error` / `MarkInvalidMixin`: show a service's refusal next to its field, marked
  `aria-invalid` so that Pico shows it in red.
- `page_without_count`: one page of a long listing, without a COUNT(*) over all of it.
- `CSRF_MARK` / `with_csrf_token`: a page kept rendered (the wallet, the dashboard) holds the
  mark where its forms' CSRF token goes; each request writes its own token in (`csrf_token`:
  Django's `get_token`, its random mask made with one `urandom` call instead of 32 `secrets.choice`).
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token
from django.utils.safestring import mark_safe

from imatch.errors import DomainError, NotFound

T = TypeVar("T")

# What a kept page holds in place of the request's CSRF token: markup, written as is, which no
# escaped text can be. Rendered as the `csrf_token` of the page's context.
CSRF_MARK = mark_safe("<imatch-csrf-token>")


def with_csrf_token(request: HttpRequest, html: str) -> str:
    """A kept page's HTML with this request's CSRF token where it holds `CSRF_MARK`."""
    return html.replace(CSRF_MARK, csrf_token(request))


_ALPHABET = CSRF_ALLOWED_CHARS.encode("ascii")
_RADIX = len(_ALPHABET)  # 62
_TO_DIGITS = bytes.maketrans(_ALPHABET, bytes(range(_RADIX)))
_TO_CHARS = bytes.maketrans(bytes(range(_RADIX)), _ALPHABET)
_UNBIASED = 256 - 256 % _RADIX  # bytes below it, taken modulo 62, are uniform (248 = 4 x 62)


def csrf_token(request: HttpRequest) -> str:
    """What Django's `get_token(request)` answers: the request's CSRF secret under a new random mask.

    Django masks with `get_random_string`, a `secrets.choice` per character (64 µs of a ~1 ms
    page). The same token here, from one `secrets.token_bytes` read: each mask character uniform
    over Django's alphabet (rejection sampling), the cipher Django's (secret + mask, modulo the
    alphabet), so Django's check unmasks it. Django has no public call for the secret: it is
    where its middleware puts it and `get_token` reads it (`META["CSRF_COOKIE"]`), and asking
    for it marks the cookie to be sent again, as `get_token` does. Without a well-formed
    secret (a request the middleware did not see, a first visit) it is Django's `get_token`.
    """
    secret = request.META.get("CSRF_COOKIE")
    if (
        not isinstance(secret, str)
        or len(secret) != CSRF_SECRET_LENGTH
        or not secret.isascii()
        or secret.strip(CSRF_ALLOWED_CHARS)
    ):
        return get_token(request)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # as get_token: the cookie's expiry is renewed
    return _masked(secret)


def _masked(secret: str) -> str:
    """Django's `_mask_cipher_secret(secret)` with a mask from one CSPRNG read."""
    mask = _random_digits(len(secret))
    digits = secret.encode("ascii").translate(_TO_DIGITS)
    cipher = bytes((digit + shift) % _RADIX for digit, shift in zip(digits, mask, strict=True))
    return (mask + cipher).translate(_TO_CHARS).decode("ascii")


def _random_digits(count: int) -> bytes:
    """`count` digits 0..61, each uniform and independent, from the operating system's CSPRNG."""
    digits = b""
    while len(digits) < count:  # ~3 % of bytes are refused: 16 spare ones nearly always suffice
        digits += bytes(byte % _RADIX for byte in secrets.token_bytes(count + 16) if byte < _UNBIASED)
    return digits[:count]


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
