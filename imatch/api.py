"""The API's one error format: `{"detail": ..., "code": ..., "fields": {...}}`, and its schema.

`fields` is present when the refusal concerns named inputs; each maps to a list of
messages. Domain errors raised by services, DRF's own errors and Django's 404 all pass
through here, so no view formats an error by hand. The schema documents the format as the
`Error` component and, per operation, the 4xx statuses and codes it can answer (`refuses`).

The API's input guards (bounded pagination, the JSON parser) are in `imatch.api_input`:
DRF imports its default classes while `rest_framework.views` loads, which this module imports.
"""

import importlib
from collections.abc import Callable
from typing import TypeVar

import django_filters
from django import forms
from django.apps import apps
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance, get_doc
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework import permissions as drf_permissions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from imatch.converters import ID_LIMIT, ID_PATTERN
from imatch.errors import DomainError, ErrorCode

F = TypeVar("F", bound=Callable)


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


def error_response(
    detail: str, code: str, status_code: int, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    """An error in the API's format, for the places outside DRF (middleware, Django's error handlers)."""
    body: dict = {"detail": detail, "code": str(code)}
    if fields:
        body["fields"] = fields
    return JsonResponse(body, status=status_code)


def exception_handler(exc, context):
    """Render every API error as {"detail", "code"} (+ "fields" for input errors)."""
    if isinstance(exc, RequestDataTooBig):  # a multipart body whose fields are over the limit
        return Response(
            {"detail": REQUEST_TOO_LARGE_MESSAGE, "code": ErrorCode.REQUEST_TOO_LARGE},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
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


REQUEST_TOO_LARGE_MESSAGE = "The request body is too large."


# --- The error responses in the OpenAPI schema ----------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer (the `Error` component of the schema)."""

    OPTIONAL_FIELDS = ("fields",)  # only for bad input

    detail = serializers.CharField(help_text="What went wrong, in words a person can read.")
    code = serializers.CharField(help_text="A stable code; the enum lists every app's codes.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For bad input: the messages per input field.",
    )


Refusal = type[DomainError] | str


def refuses(*refusals: Refusal) -> Callable[[F], F]:
    """Declare what an API operation can refuse with, for its schema.

    Each refusal is a `DomainError` subclass (its status and code) or a code of 400. For
    actions a view inherits (create, partial_update, list), the view says the same in a
    `refusals` dict keyed by action (or HTTP method). The automatic ones need not be named:
    400 `invalid` / `nul_character` (and `parse_error` / `too_deep` for bodies) for input, 413
    for bodies, 415 for operations that read a body, 401 for authenticated operations, 403
    for staff-only ones, 404 for paths with an id, 406 for an unmet Accept, 429 when throttled.
    """

    def decorate(handler: F) -> F:
        handler.refusals = refusals
        return handler

    return decorate


# A row id in a path (`imatch.converters.ID_PATTERN`): an integer of at most 18 digits.
def idempotency_key(request) -> str | None:
    """The request's `Idempotency-Key` header (None when absent or empty)."""
    # META, not `request.headers`: that mapping of every header costs ~2 % of a spend's CPU.
    return request.META.get("HTTP_IDEMPOTENCY_KEY") or None


def created_response(data: dict, *, replayed: bool) -> Response:
    """201 with the body; a replay of a retried `Idempotency-Key` says so (`Idempotent-Replayed: true`)."""
    response = Response(data, status=status.HTTP_201_CREATED)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": ID_LIMIT - 1}
RETRY_AFTER_HEADER = {
    "schema": {"type": "integer", "minimum": 0},
    "description": "Seconds to wait before trying again.",
}
# Summaries of the actions DRF's mixins provide, by action (`{name}`: the model's verbose name).
STANDARD_SUMMARIES = {
    "list": "List {plural}",
    "retrieve": "Get a {name}",
    "create": "Create a {name}",
    "partial_update": "Update a {name}",
    "update": "Replace a {name}",
    "destroy": "Delete a {name}",
}
STAFF_ONLY = "Staff only."


@extend_schema_field({**ID_SCHEMA, "minimum": 1})
class IdFilter(django_filters.NumberFilter):
    """A filter on a row id (`?user=7`): an integer in the schema and in the form field."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_SCHEMA["maximum"])
        super().__init__(*args, **kwargs)


class ErrorDocumentingAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, made into a contract a generated client can use.

    - each operation's 4xx responses with the codes it can answer (the `Error` component),
      and `Retry-After` on 429;
    - JSON request bodies only (multipart only where a file is uploaded), in components of
      their own (`COMPONENT_SPLIT_REQUEST`: `SpendRequestSerializer` is `SpendRequest`);
    - every field of a response component required, but the ones a serializer may leave out;
    - integer path ids (`ID_PATTERN`);
    - public operations with an empty `security`, so that a generated client needs no token;
    - a summary for every operation: `@extend_schema(summary=…)`, else the first line of the
      handler's docstring, or for the mixins' list/retrieve/create/update the model's name;
      staff-only operations say so (description and `x-staff-only`).

    tests/api/test_schema_contract.py holds every operation to these rules.
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status_code, codes in sorted(self._error_codes().items()):
            listed = ", ".join(f"`{code}`" for code in sorted(codes))
            responses[str(status_code)] = {
                "content": {"application/json": {"schema": self._error_component_ref()}},
                "description": f"{HTTP_REASONS.get(status_code, 'Error')}. Codes: {listed}.",
            }
            if status_code == status.HTTP_429_TOO_MANY_REQUESTS:
                responses[str(status_code)]["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
        return responses

    def map_parsers(self) -> list[str]:
        """One request content type: JSON, or multipart where the body carries a file."""
        serializer = force_instance(self.get_request_serializer())
        fields = getattr(serializer, "fields", None) or {}
        if any(isinstance(field, serializers.FileField) for field in fields.values()):
            return ["multipart/form-data"]
        return ["application/json"]

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"].get("pattern", "").strip("^$") == ID_PATTERN:
                parameter["schema"] = dict(ID_SCHEMA)
        return parameters

    def get_serializer_name(self, serializer, direction) -> str:
        """`SpendRequestSerializer` is the `SpendRequest` component (split requests add `Request` once)."""
        name = super().get_serializer_name(serializer, direction).removesuffix("Serializer")
        if direction == "request" and name.endswith("Request"):
            return name.removesuffix("Request")
        return name

    def get_operation(self, *args, **kwargs):
        """Public operations (AllowAny) say so with an empty `security`: a generated client calls
        them without a token. A token, when sent, still identifies the caller (e.g. `?mine=1`)."""
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and "security" not in operation:
            operation["security"] = []
        return operation

    def get_auth(self) -> list[dict]:
        auth = super().get_auth()
        return [] if {} in auth else auth

    def _staff_only(self) -> bool:
        return any(isinstance(p, drf_permissions.IsAdminUser) for p in self.view.get_permissions())

    def get_summary(self) -> str | None:
        action = getattr(self.view, "action", None)
        handler_doc = get_doc(self._handler()) if action not in STANDARD_SUMMARIES else ""
        if handler_doc:
            return handler_doc.split("\n", 1)[0].rstrip(".")
        model = getattr(getattr(self.view, "queryset", None), "model", None) or getattr(
            getattr(getattr(self.view, "serializer_class", None), "Meta", None), "model", None
        )
        if action in STANDARD_SUMMARIES and model is not None:
            meta = model._meta
            name = str(meta.verbose_name)
            summary = STANDARD_SUMMARIES[action].format(name=name, plural=meta.verbose_name_plural)
            return summary.replace(" a ", " an ") if name[0] in "aeiou" else summary
        view_doc = get_doc(self.view.__class__)
        return view_doc.split("\n", 1)[0].rstrip(".") if view_doc else None

    def get_description(self) -> str:
        description = super().get_description()
        if self._staff_only():
            return f"{STAFF_ONLY} {description}".strip()
        return description

    def get_extensions(self) -> dict:
        extensions = super().get_extensions()
        if self._staff_only():
            extensions = {**extensions, "x-staff-only": True}
        return extensions

    def _map_basic_serializer(self, serializer, direction):
        """In a response every field is required (DRF renders them all, null or not), except a
        serializer's `PRIVATE_FIELDS` (left out for some viewers) and `OPTIONAL_FIELDS`."""
        schema = super()._map_basic_serializer(serializer, direction)
        if direction != "response":
            return schema
        optional = {*getattr(serializer, "PRIVATE_FIELDS", ()), *getattr(serializer, "OPTIONAL_FIELDS", ())}
        required = [name for name in schema.get("properties", {}) if name not in optional]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema

    def _error_component_ref(self) -> dict:
        return self.resolve_serializer(ErrorSerializer, "response").ref

    def _handler(self):
        action = getattr(self.view, "action", None)
        return getattr(self.view, action or self.method.lower(), None)

    def _error_codes(self) -> dict[int, set[str]]:
        """Status → codes: the automatic ones, then what the handler (or the view, per action) declared."""
        codes: dict[int, set[str]] = {}
        if self.method in ("POST", "PUT", "PATCH"):
            codes.setdefault(400, set()).update(
                {ErrorCode.INVALID, ErrorCode.PARSE_ERROR, ErrorCode.TOO_DEEP, ErrorCode.NUL_CHARACTER}
            )
            codes.setdefault(413, set()).add(ErrorCode.REQUEST_TOO_LARGE)
            if self.get_request_serializer() is not None:  # the body is parsed: its media type may be refused
                codes.setdefault(415, set()).add(ErrorCode.UNSUPPORTED_MEDIA_TYPE)
        elif self._is_list_view():  # filters and paging
            codes.setdefault(400, set()).update({ErrorCode.INVALID, ErrorCode.NUL_CHARACTER})
        permissions_ = self.view.get_permissions()
        if not any(isinstance(p, drf_permissions.AllowAny) for p in permissions_):
            codes.setdefault(401, set()).update({ErrorCode.NOT_AUTHENTICATED, ErrorCode.AUTHENTICATION_FAILED})
        if self._staff_only():
            codes.setdefault(403, set()).add(ErrorCode.PERMISSION_DENIED)
        if "{" in self.path:
            codes.setdefault(404, set()).add(ErrorCode.NOT_FOUND)
        codes.setdefault(406, set()).add(ErrorCode.NOT_ACCEPTABLE)  # any operation, for an Accept it cannot meet
        if self.view.get_throttles():
            codes.setdefault(429, set()).add(ErrorCode.THROTTLED)
        action = getattr(self.view, "action", None)
        per_action = getattr(self.view, "refusals", {}).get(action or self.method.lower(), ())
        declared = getattr(self._handler(), "refusals", None) or per_action
        for refusal in declared:
            status_code, code = (refusal.status, refusal.code) if isinstance(refusal, type) else (400, refusal)
            codes.setdefault(status_code, set()).add(str(code))
        return codes


HTTP_REASONS = {
    400: "Bad input",
    401: "Not logged in",
    403: "Not allowed",
    404: "Not found",
    406: "Not acceptable",
    409: "Conflict with the current state",
    413: "Request too large",
    415: "Unsupported media type",
    429: "Too many requests",
}


def error_codes() -> list[str]:
    """Every error code an API answer can carry: the shared ones and each app's `errors.ErrorCode`."""
    codes = {str(code) for code in ErrorCode}
    for app_config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{app_config.name}.errors")
        except ModuleNotFoundError:
            continue
        codes |= {str(code) for code in getattr(module, "ErrorCode", ())}
    return sorted(codes)


def error_code_enum_hook(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: the `Error` component's `code` is the enum of every catalogued code."""
    error = result.get("components", {}).get("schemas", {}).get("Error")
    if error:
        error["properties"]["code"]["enum"] = error_codes()
    return result
