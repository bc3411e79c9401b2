"""Refuse bad input before any view sees it: NUL characters and bodies over the size limit.

PostgreSQL cannot store a NUL character (`\x00`) in text and answers a DataError (a 500)
when one reaches a query, so a NUL in the path, a query parameter or a form field is a
400 here. JSON bodies are checked by the API's JSON parser (`imatch.api_input.BoundedJSONParser`).
A body declared larger than DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 (DRF would otherwise read
any JSON body whole); multipart uploads are left to Django, which limits their fields.
API paths answer in the API's error format, web pages with the 400 / 413 page.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, QueryDict

from imatch.error_pages import refuse
from imatch.errors import ErrorCode

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _first_nul(query: QueryDict) -> str | None:
    """The name of the first parameter whose name or value holds a NUL, or None."""
    for name, values in query.lists():
        if NUL in name or any(NUL in value for value in values):
            return name.replace(NUL, "\\x00")
    return None


class BadInputMiddleware:
    """Answer 400 for a NUL character in the path, the query or a form; 413 for a too-large body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self._refusal(request) or self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        if NUL in request.path_info:
            return refuse(request, 400, ErrorCode.NUL_CHARACTER, "The address contains a NUL character.")
        name = _first_nul(request.GET)
        if name is not None:
            return refuse(request, 400, ErrorCode.NUL_CHARACTER, f"{name} contains a NUL character.", field=name)
        is_multipart = request.content_type == "multipart/form-data"
        if not is_multipart and self._declared_length(request) > (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or float("inf")):
            return refuse(request, 413, ErrorCode.REQUEST_TOO_LARGE, "The request body is too large.")
        if request.method == "POST" and request.content_type in FORM_TYPES:
            try:
                name = _first_nul(request.POST)
            except RequestDataTooBig:
                return refuse(request, 413, ErrorCode.REQUEST_TOO_LARGE, "The request body is too large.")
            except TooManyFieldsSent:
                return refuse(request, 400, ErrorCode.INVALID, "The form has too many fields.")
            if name is not None:
                return refuse(request, 400, ErrorCode.NUL_CHARACTER, f"{name} contains a NUL character.", field=name)
        return None

    @staticmethod
    def _declared_length(request: HttpRequest) -> int:
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0
