"""The refusals of the notifications app: none of its own beyond the shared codes.

A notification that is not the person's own is `imatch.errors.NotFound` (never say which);
the `ErrorCode` enum exists so that the error catalogue reads every app the same way.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    """Codes of the notifications app (it refuses only with the shared `not_found`)."""
