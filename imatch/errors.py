"""Domain errors: what a service raises when it refuses an action.

Each error has a stable `code` (read by API clients), an HTTP `status` (used by the one
API exception handler) and, where the refusal is about one input, the `field` it concerns
(so a web form shows the message next to that field).
"""


class DomainError(Exception):
    """A refused action; the base of every domain error."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    """The object does not exist, or the user may not see it (never say which)."""

    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    """The user is known but may not do this."""

    code = "permission_denied"
    status = 403


class Conflict(DomainError):
    """The request conflicts with the current state (e.g. a reused idempotency key)."""

    code = "conflict"
    status = 409
