"""The refusals about categories, and their codes (listed once; see `imatch.errors`)."""

from enum import StrEnum

from imatch.errors import DomainError


class ErrorCode(StrEnum):
    """Codes of the categories app."""

    CATEGORY_INACTIVE = "category_inactive"


class CategoryInactive(DomainError):
    """The category is not launched: it takes no new profiles and makes no matches."""

    code = ErrorCode.CATEGORY_INACTIVE
