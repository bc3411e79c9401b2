"""Log lines: one JSON object per line, the request id on each, and never a password or a token."""

import io
import itertools
import json
import logging
import sys

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from imatch.logs import _PATTERNS, REDACTED, JsonFormatter, SecretsFilter, TextFormatter, mask
from imatch.request_id import RequestIdFilter, request_id_from, request_id_var
from tests.marketplace.factories import UserFactory

PASSPHRASE = "a-long-and-unusual-passphrase"


@pytest.fixture
def log_lines(settings):
    """What the console handler writes (every logger, from DEBUG up), as parsed JSON lines."""
    handler = next(handler for handler in logging.getLogger().handlers if handler.name == "console")
    stream = io.StringIO()
    previous_stream, previous_level = handler.setStream(stream), logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    lines.text = stream.getvalue
    yield lines
    handler.setStream(previous_stream)
    logging.getLogger().setLevel(previous_level)


def test_each_request_writes_one_json_line_with_its_id(client, db, log_lines):
    response = client.get("/health")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    [line] = [line for line in log_lines() if line["logger"] == "imatch.request"]
    assert line["request_id"] == request_id
    assert {key: line[key] for key in ("level", "message", "method", "path", "status")} == {
        "level": "INFO",
        "message": f"GET /health 200 {line['duration_ms']}ms",
        "method": "GET",
        "path": "/health",
        "status": 200,
    }
    assert line["duration_ms"] >= 0 and line["time"].endswith("+00:00")


def test_every_line_of_a_request_carries_the_proxy_s_request_id(client, db, log_lines):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "lb-7f3a-42"})
    assert response.status_code == 404 and response["X-Request-ID"] == "lb-7f3a-42"
    lines = log_lines()
    assert {line["logger"] for line in lines} >= {"django.request", "imatch.request"}  # "Not Found" + the request
    assert {line["request_id"] for line in lines} == {"lb-7f3a-42"}
    assert [line["status"] for line in lines if line["logger"] == "imatch.request"] == [404]


@pytest.mark.parametrize(
    "header", ["", "has spaces", "x" * 129, "line\nbreak", '"quoted"', "<script>", "ümlaut", "a,b"]
)
def test_an_insane_request_id_is_replaced(header):
    assert request_id_from(header) != header and len(request_id_from(header)) == 32


@pytest.mark.parametrize(
    "header", ["9f1c2d3e-1111-4222-8333-444455556666", "Root=1-5e1b4151-5ac6c58f2b1e6b1d;Parent=53995c3f", "req.42:a_b"]
)
def test_a_sane_request_id_is_kept(header):
    assert request_id_from(header) == header


def test_the_query_string_is_not_logged(client, db, log_lines):
    client.get("/health?token=abc123secret")
    assert "abc123secret" not in log_lines.text()


@pytest.fixture
def django_debug_logs(settings):
    """Django's debug lines on, as an operator chasing a bug would turn them on."""
    settings.DEBUG = True
    django_logger = logging.getLogger("django")
    previous = django_logger.level
    django_logger.setLevel(logging.DEBUG)
    yield
    django_logger.setLevel(previous)


def test_no_password_or_token_reaches_the_logs_when_signing_up_and_logging_in(db, log_lines, django_debug_logs):
    # With debug on, the SQL logger would write query parameters (token keys, password hashes).
    api = APIClient()
    registered = api.post(
        "/api/v1/auth/register/",
        {"email": "dana@example.com", "password": PASSPHRASE, "name": "Dana"},
        format="json",
    )
    assert registered.status_code == 201
    refused = api.post("/api/v1/auth/token/", {"email": "dana@example.com", "password": "wrong-" + PASSPHRASE})
    assert refused.status_code == 400
    token = api.post("/api/v1/auth/token/", {"email": "dana@example.com", "password": PASSPHRASE}).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}", HTTP_IDEMPOTENCY_KEY="retry-key-0042")
    assert api.get("/api/v1/me/").status_code == 200
    web = api.post("/login/", {"username": "dana@example.com", "password": PASSPHRASE})
    assert web.status_code == 302

    text = log_lines.text()
    lines = log_lines()
    assert [line["status"] for line in lines if line["logger"] == "imatch.request"] == [201, 400, 200, 200, 302]
    assert any(line["logger"] == "django.request" for line in lines)  # the refused login: "Bad Request"
    for secret in (PASSPHRASE, token, registered.json()["token"], "retry-key-0042", api.cookies["sessionid"].value):
        assert secret not in text


def _formatted(message: str, *args, **extra) -> dict:
    record = logging.LogRecord("imatch.test", logging.WARNING, __file__, 1, message, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    SecretsFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


@pytest.mark.parametrize(
    ("message", "args", "secret"),
    [
        ("Headers: %s", ({"HTTP_AUTHORIZATION": "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"},), "9944b0"),
        ("Authorization: Bearer %s", ("eyJhbGciOiJIUzI1NiJ9.e30.sig",), "eyJhbG"),
        ("body=%s", ('{"email": "a@b.c", "password": "a long passphrase"}',), "passphrase"),
        ("form: %s", ("email=a%40b.c&password=hunter2hunter2&next=/",), "hunter2"),
        ("retry with Idempotency-Key: %s", ("key-123-abc",), "key-123-abc"),
        ("client_secret=%s api_key=%s", ("s3cr3t-value", "k3y-value"), "-value"),
        ("GET %s", ("/password-reset/MQ/cf3q2w-8d1e5a1c2b3f4e5d6c7b/",), "cf3q2w"),
        ("user logged in with token %s", ("Token 0123456789abcdef0123456789abcdef",), "0123456789abcdef"),
    ],
)
def test_secrets_in_messages_are_masked(message, args, secret):
    line = _formatted(message, *args)
    assert secret not in json.dumps(line) and REDACTED in line["message"]


# Pieces of texts with and without secrets: each key as logs write it, values, plain words.
_PIECES = (
    "Authorization: |HTTP_AUTHORIZATION=|Token |Bearer |bearer |Basic |password=|Passwd: |pwd=|client_secret="
    '|Api-Key: |"new_password1": |idempotency_key=|sessionid=|csrftoken=|Cookie: |/password-reset/MQ/|set-password/'
    "|0123456789abcdef0123|eyJhbGciOiJIUzI1NiJ9.e30.sig|'hunter2'|\"a b\"|/api/v1/pot/spend/|GET |a@b.c| "
)


def test_the_quick_check_lets_no_secret_by():
    """`mask` skips its patterns when a text holds none of their words: on every text of up to three pieces, it
    masks exactly what the patterns would."""
    missed = []
    for count in (1, 2, 3):
        for pieces in itertools.product(_PIECES.split("|"), repeat=count):
            text = every_pattern = "".join(pieces)
            for pattern, replacement in _PATTERNS:
                every_pattern = pattern.sub(replacement, every_pattern)
            if mask(text) != every_pattern:
                missed.append(text)
    assert not missed


def test_secret_fields_and_tracebacks_are_masked():
    try:
        raise ValueError("login failed for password=hunter2hunter2")
    except ValueError:
        record = logging.LogRecord("imatch.test", logging.ERROR, __file__, 1, "Refused", (), sys.exc_info())
    record.password = "hunter2hunter2"
    record.headers = {"Authorization": "Token abc", "Accept": "text/html"}
    SecretsFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert "hunter2" not in json.dumps(line)
    assert line["password"] == REDACTED and line["headers"] == {"Authorization": REDACTED, "Accept": "text/html"}
    assert "ValueError" in line["exception"]


def test_plain_words_are_left_alone():
    line = _formatted("Password reset email sent to user %s; token expired", 42)
    assert line["message"] == "Password reset email sent to user 42; token expired"


def test_the_request_id_is_forgotten_when_the_request_ends(client, db, log_lines):
    client.get("/health", headers={"X-Request-ID": "first-request"})
    logging.getLogger("imatch.test").info("between two requests")
    [line] = [line for line in log_lines() if line["logger"] == "imatch.test"]
    assert line["request_id"] is None


def test_a_password_reset_link_s_token_is_not_logged(client, db, log_lines):
    user = UserFactory()
    uid, token = urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
    response = client.get(f"/password-reset/{uid}/{token}/")
    assert response.status_code == 302  # Django moves the token into the session
    [line] = [line for line in log_lines() if line["logger"] == "imatch.request"]
    assert line["path"] == f"/password-reset/{uid}/{REDACTED}/"
    assert token not in log_lines.text()


def test_the_text_format_for_a_terminal(client, db):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(SecretsFilter())
    handler.setFormatter(TextFormatter())
    token = request_id_var.set("req-7")
    try:
        logger = logging.getLogger("imatch.test.text")
        logger.addHandler(handler)
        logger.warning("login with password=%s", "hunter2hunter2")
    finally:
        logger.removeHandler(handler)
        request_id_var.reset(token)
    assert stream.getvalue().endswith(f" WARNING [req-7] imatch.test.text: login with password={REDACTED}\n")
