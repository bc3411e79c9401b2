"""Django's error handlers (`handler400/403/404/500` in imatch/urls.py): JSON under /api/, pages elsewhere.

DRF formats the errors of its own views (imatch.api.exception_handler); these answer what
happens outside them: an address that matches no view, a body Django refuses, a defect.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.template import loader
from django.urls import Resolver404, get_resolver
from django.views import defaults

from imatch.api import REQUEST_TOO_LARGE_MESSAGE, error_response
from imatch.errors import ErrorCode

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    """Whether the request is for the REST API (whose every answer is JSON)."""
    return request.path_info.startswith(API_PREFIX)


def refuse(request: HttpRequest, status: int, code: str, detail: str, *, field: str | None = None) -> HttpResponse:
    """A refusal of bad input: the API's error format under /api/, the 400 (or 413) page elsewhere."""
    if is_api(request):
        return error_response(detail, code, status, {field: [detail]} if field else None)
    template = loader.get_template("400.html")
    return HttpResponse(template.render({"detail": detail}), status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django refused the request (e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413)."""
    if isinstance(exception, RequestDataTooBig):
        return refuse(request, 413, ErrorCode.REQUEST_TOO_LARGE, REQUEST_TOO_LARGE_MESSAGE)
    if is_api(request):
        return error_response("Bad request.", ErrorCode.INVALID, 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A logged-in person asked for something that is not theirs to do (e.g. a staff-only page)."""
    if is_api(request):
        return error_response("You do not have permission to do this.", ErrorCode.PERMISSION_DENIED, 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """No view answers this address."""
    if is_api(request):
        return error_response("Not found.", ErrorCode.NOT_FOUND, 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """A defect on our side; the page renders without the database (it may be what failed)."""
    if is_api(request):
        return error_response("Something went wrong on our side. Please try again.", ErrorCode.SERVER_ERROR, 500)
    return defaults.server_error(request)


logger = logging.getLogger("django.request")


class ErrorPagesMiddleware:
    """In a debug run, answer with the branded 400/403/404/500 pages unless DJANGO_DEBUG_PAGES=true.

    Django shows its technical pages whenever DEBUG is on; `make run` is a debug run, and a
    person trying it should see what production shows. Off (not loaded) without DEBUG, where
    Django calls the handlers itself, and when the technical pages are asked for.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        if not settings.DEBUG or settings.DEBUG_PAGES:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
        except Resolver404 as error:
            return page_not_found(request, error)  # CommonMiddleware still adds a missing slash
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse:
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        if isinstance(exception, SuspiciousOperation):
            return bad_request(request, exception)
        logger.error("Internal Server Error: %s", request.path, exc_info=exception, extra={"status_code": 500})
        return server_error(request)
