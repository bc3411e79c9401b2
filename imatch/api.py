"""The API's one error format: `{"detail": ..., "code": ..., "fields": {...}}`.

`fields` is present when the refusal concerns named inputs; each maps to a list of
messages. Domain errors raised by services, DRF's own errors and Django's 404 all pass
through here, so no view formats an error by hand.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from imatch.errors import DomainError


def _flatten(detail) -> dict[str, list[str]]:
    """Turn DRF's nested error detail into {field: [messages]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub_key, messages in _flatten(value).items():
                    flat[f"{key}.{sub_key}"] = messages
            elif isinstance(value, list):
                flat[key] = [str(item) for item in value if not isinstance(item, dict)] or [
                    str(message)
                    for item in value
                    if isinstance(item, dict)
                    for messages in _flatten(item).values()
                    for message in messages
                ]
            else:
                flat[key] = [str(value)]
        return flat
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {"non_field_errors": [str(detail)]}


def exception_handler(exc, context):
    """Render every API error as {"detail", "code"} (+ "fields" for input errors)."""
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["fields"] = {exc.field: [exc.message]}
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first_field, messages = next(iter(fields.items()))
        detail = messages[0] if first_field == "non_field_errors" else f"{first_field}: {messages[0]}"
        response.data = {"detail": detail, "code": "invalid", "fields": fields}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    response.data = {"detail": str(detail), "code": code if isinstance(code, str) else "error"}
    return response
