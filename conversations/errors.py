"""The refusals of conversations, and their codes (see `imatch.errors` for the shared ones)."""

from enum import StrEnum

from imatch.errors import Conflict


class ErrorCode(StrEnum):
    """Codes of the conversations app."""

    THREAD_CLOSED = "thread_closed"  # the match was declined or expired: the thread is read-only


class ThreadClosed(Conflict):
    """The match was declined or expired: the two can read the thread but no longer write in it."""

    code = ErrorCode.THREAD_CLOSED
