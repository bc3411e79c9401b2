"""Domain errors: what a service raises when it refuses an action.

Each error has a stable `code` (read by API clients), an HTTP `status` (used by the one
API exception handler) and, where the refusal is about one input, the `field` it concerns
(so a web form shows the message next to that field).

Every app lists its own errors and codes once, in its `errors.py` (an `ErrorCode` enum and
the `DomainError` subclasses it raises); this module holds the base classes and the codes
every app and the framework share. The OpenAPI schema's `Error` component enumerates all
of them (`imatch.api.error_codes`).
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    """Codes shared by every app, and those the API framework itself answers with."""

    INVALID = "invalid"  # bad input (the generic 400)
    REQUIRED = "required"  # a needed input is missing or blank
    TOO_LONG = "too_long"  # a text is over its limit
    NOT_FOUND = "not_found"  # no such object, or not yours (never say which)
    PERMISSION_DENIED = "permission_denied"  # known user, not allowed (e.g. staff only)
    CONFLICT = "conflict"  # the request conflicts with the current state
    # Answered by the framework (DRF) rather than a service:
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"  # the Accept header asks for a format the API does not answer in
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    PARSE_ERROR = "parse_error"
    THROTTLED = "throttled"
    # Bad input refused before any view runs (imatch/api_input.py, imatch/middleware.py):
    TOO_DEEP = "too_deep"  # JSON nested deeper than the parser allows
    NUL_CHARACTER = "nul_character"  # a NUL byte (\x00) in the path, a parameter or a field
    REQUEST_TOO_LARGE = "request_too_large"  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413)
    SERVER_ERROR = "server_error"  # a defect on our side (500); never a refusal of input


class DomainError(Exception):
    """A refused action; the base of every domain error."""

    code: str = ErrorCode.INVALID
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    """The object does not exist, or the user may not see it (never say which)."""

    code = ErrorCode.NOT_FOUND
    status = 404


class PermissionDenied(DomainError):
    """The user is known but may not do this."""

    code = ErrorCode.PERMISSION_DENIED
    status = 403


class Conflict(DomainError):
    """The request conflicts with the current state (e.g. a reused idempotency key)."""

    code = ErrorCode.CONFLICT
    status = 409


class TooManyRequests(DomainError):
    """The person asked for this too often in a short time (a limit the service keeps, e.g. emails sent)."""

    code = ErrorCode.THROTTLED
    status = 429
