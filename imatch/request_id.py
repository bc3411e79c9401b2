"""The request id: taken from the proxy's `X-Request-ID` when sane, made otherwise, on every log line.

`RequestIdMiddleware` (first in MIDDLEWARE) stores it in a context variable for the time of
the request, answers it in the `X-Request-ID` response header and logs one line per request
(method, path without the query string, status, duration). `RequestIdFilter` puts it on
every log record, so any line written while serving the request carries it.
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"  # how WSGI names HEADER in request.META
# What a proxy sends (a UUID, a hex trace id, "Root=1-5e1b…"): letters, digits and -_.:=;
# anything else (too long, spaces, newlines, quotes) is replaced by an id of our own.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=;-]{1,128}")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
request_log = logging.getLogger("imatch.request")


def current_request_id() -> str | None:
    return request_id_var.get()


def request_id_from(header: str | None) -> str:
    """The proxy's id when it is a sane value, else a new one (32 hex digits)."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META, not `request.headers`: building that mapping of every header is ~2 % of an API read.
        request_id = request_id_from(request.META.get(META_KEY))
        # Kept until the response is closed (request_finished), not only while the middleware
        # runs: Django logs "Not Found" and unhandled errors after the middleware returned.
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[HEADER] = request_id
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        request_log.log(
            logging.ERROR if response.status_code >= 500 else logging.INFO,
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response


def _forget_request_id(**kwargs) -> None:
    request_id_var.set(None)


request_finished.connect(_forget_request_id, dispatch_uid="imatch.request_id.forget")


class RequestIdFilter(logging.Filter):
    """Puts `request_id` (None outside a request or task) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
