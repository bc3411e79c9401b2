"""Django's error handlers (`handler400/404/500` in imatch/urls.py): JSON under /api/, pages elsewhere.

DRF formats the errors of its own views (imatch.api.exception_handler); these answer what
happens outside them: an address that matches no view, a body Django refuses, a defect.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.template import loader
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
