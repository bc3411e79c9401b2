"""The refusals of growth (leaderboards), and their codes (see `imatch.errors` for the shared ones)."""

from enum import StrEnum

from imatch.errors import DomainError


class ErrorCode(StrEnum):
    """Codes of the growth app."""

    UNKNOWN_CATEGORY = "unknown_category"  # no launched category has this machine name
    INVALID_MONTH = "invalid_month"  # not a YYYY-MM month from 2000-01 to the current one


class UnknownCategory(DomainError):
    """No launched category has this name (an inactive one appears nowhere public)."""

    code = ErrorCode.UNKNOWN_CATEGORY


class InvalidMonth(DomainError):
    """Not a calendar month leaderboards have: YYYY-MM, from 2000-01 to the current month."""

    code = ErrorCode.INVALID_MONTH
