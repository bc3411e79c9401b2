"""`imatch.web.csrf_token`: Django's `get_token` for the kept pages, its mask made with one CSPRNG read.

Django's check must accept every token (same alphabet, length and cipher), each response must
carry a new mask, and what `get_token` does besides masking (a first visit's new secret, the
cookie sent again) must happen as well.
"""

from collections import Counter
from unittest import mock

from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CSRF_TOKEN_LENGTH,
    _unmask_cipher_token,
    get_token,
)
from django.test import RequestFactory

from imatch import web

SECRET = "abcdefghijklmnopqrstuvwxyzABCDEF"  # 32 characters of Django's alphabet


def request_with_secret(secret=SECRET):
    request = RequestFactory().get("/")
    if secret is not None:
        request.META["CSRF_COOKIE"] = secret
    return request


def test_the_token_is_djangos_form_and_unmasks_to_the_requests_secret():
    request = request_with_secret()
    tokens = {web.csrf_token(request) for _ in range(500)}
    assert len(tokens) == 500  # a new mask each time
    for token in tokens:
        assert len(token) == CSRF_TOKEN_LENGTH and not token.strip(CSRF_ALLOWED_CHARS)
        assert _unmask_cipher_token(token) == SECRET  # what CsrfViewMiddleware compares
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True  # as get_token: the cookie is sent again


def test_the_mask_is_uniform_over_djangos_alphabet():
    digits = b"".join(web._random_digits(CSRF_SECRET_LENGTH) for _ in range(2000))
    counts = Counter(digits)
    assert set(counts) == set(range(len(CSRF_ALLOWED_CHARS)))
    expected = len(digits) / len(CSRF_ALLOWED_CHARS)  # ~1032 each
    assert all(abs(count - expected) < expected * 0.2 for count in counts.values())


def test_refused_bytes_are_never_used_and_more_are_read():
    reads = iter([bytes([255, 248, 61]) * 16, bytes(range(48)), bytes(range(48))])
    with mock.patch.object(web.secrets, "token_bytes", lambda count: next(reads)):
        digits = web._random_digits(CSRF_SECRET_LENGTH)
    assert digits == bytes([61] * 16 + list(range(16)))  # 248 and above refused: not taken modulo 62


def test_without_a_secret_it_is_djangos_get_token():
    request = request_with_secret(None)  # a first visit: Django makes the secret and its cookie
    token = web.csrf_token(request)
    assert len(request.META["CSRF_COOKIE"]) == CSRF_SECRET_LENGTH
    assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]
    for secret in ("short", SECRET[:-1] + "!", SECRET[:-1] + "é", SECRET + "A"):
        with mock.patch.object(web, "get_token", return_value="django's") as django_get_token:
            assert web.csrf_token(request_with_secret(secret)) == "django's"
        django_get_token.assert_called_once()


def test_a_kept_pages_mark_gets_the_token():
    request = request_with_secret()
    html = web.with_csrf_token(request, f"<input value='{web.CSRF_MARK}'>")
    token = html.removeprefix("<input value='").removesuffix("'>")
    assert _unmask_cipher_token(token) == SECRET and token != get_token(request)
