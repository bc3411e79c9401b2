"""Log lines: one JSON object per line, with the request id, and never a secret.

`JsonFormatter` writes `time`, `level`, `logger`, `message`, `request_id` and, where a record
has them, `method`, `path`, `status`, `duration_ms` (request lines, `imatch.request_id`) and
`exception`. `SecretsFilter` masks what must never reach a log: `Authorization` headers,
passwords, tokens, secrets, session and CSRF cookies, idempotency keys, password-reset links,
in the message, its arguments, the traceback and the extra fields. Both are installed on the
handlers by settings.LOGGING, so they apply to every logger (Django's, Celery's, ours).
"""

import functools
import json
import logging
import re
from datetime import UTC, datetime

REDACTED = "[REDACTED]"

# A field whose name says it holds a secret: password, new_password1, token, access_token,
# secret, client_secret, api_key, authorization, HTTP_AUTHORIZATION, Idempotency-Key, cookies…
_SENSITIVE_WORDS = (
    r"password|passwd|pwd|token|secret|api[_-]?key|authorization|idempotency[_-]?key|sessionid|csrftoken|cookie"
)
SENSITIVE_NAME = rf"[\w-]*(?:{_SENSITIVE_WORDS})[\w-]*"
SENSITIVE_FIELD = re.compile(SENSITIVE_NAME, re.IGNORECASE)
_QUOTED_OR_BARE = r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s\"',;}&]+)"
_PATTERNS = [
    # "Authorization: Token abc" (a header line: the scheme and the credentials after it)
    (
        re.compile(r"(?P<key>[\w-]*authorization\s*[:=]\s*)(?:(?:Token|Bearer|Basic|Digest)\s+)?[^\s\"',;}&]+", re.I),
        r"\g<key>" + REDACTED,
    ),
    # password=abc, "token": "a b c", 'HTTP_AUTHORIZATION': 'Token abc', Idempotency-Key: abc,
    # csrfmiddlewaretoken=abc: forms, JSON, headers, reprs of dicts
    (
        re.compile(rf"(?P<key>{SENSITIVE_NAME}[\"']?\s*[:=]\s*){_QUOTED_OR_BARE}", re.I),
        r"\g<key>" + REDACTED,
    ),
    # A credential on its own: "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "Bearer eyJ…"
    (re.compile(r"(?P<key>\b(?:Token|Bearer)\s+)[A-Za-z0-9._~+/=-]{16,}"), r"\g<key>" + REDACTED),
    # The token in a password-reset link (/password-reset/<uidb64>/<token>/)
    (re.compile(r"(?P<key>/password-reset/[^/\s]+/)(?!set-password/)[^/\s\"'?]+"), r"\g<key>" + REDACTED),
]

# Attributes every LogRecord has: the rest are the `extra=` fields of the call.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# Fields of Django's records that are objects, not data (the request, the server's socket).
_NOT_DATA = {"request", "server_time"}


# Each pattern above matches only text holding one of these words (a reset link holds "password"),
# so one search clears most texts, such as every request's line, without running the four.
_MAY_HOLD_A_SECRET = re.compile(rf"{_SENSITIVE_WORDS}|bearer", re.IGNORECASE)


def mask(text: str) -> str:
    """`text` with every recognised secret replaced by [REDACTED]."""
    if not _MAY_HOLD_A_SECRET.search(text):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


@functools.lru_cache(maxsize=1024)  # field names are few (`extra=` keys, dict keys): each matched once
def _sensitive_name(name: str) -> bool:
    return SENSITIVE_FIELD.fullmatch(name) is not None


def _mask_value(name: str, value):
    if _sensitive_name(name):
        return REDACTED
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: _mask_value(str(key), item) for key, item in value.items()}
    return value


class SecretsFilter(logging.Filter):
    """Masks secrets in a record before any handler formats it (the record is changed in place)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logged as it is rather than lost
            message = str(record.msg)
        record.msg, record.args = mask(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES and name not in _NOT_DATA:
                setattr(record, name, _mask_value(name, value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and name not in _NOT_DATA and name not in entry:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For people reading a terminal (`DJANGO_LOG_FORMAT=text`): time level [request id] logger: message."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
