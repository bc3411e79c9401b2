"""The refusals of the content library, and their codes (see `imatch.errors` for the shared ones)."""

from enum import StrEnum

from imatch.errors import Conflict, DomainError


class ErrorCode(StrEnum):
    """Codes of the library app."""

    NOT_EDITABLE = "article_not_editable"  # submitted or published: the author can no longer change it
    WRONG_STATUS = "article_wrong_status"  # e.g. publishing an article nobody submitted
    PRICE_OUT_OF_BOUNDS = "article_price_out_of_bounds"
    OWN_ARTICLE = "article_own"  # an author does not unlock their own article
    NOT_PREMIUM = "article_not_premium"


class ArticleNotEditable(Conflict):
    code = ErrorCode.NOT_EDITABLE


class ArticleWrongStatus(Conflict):
    code = ErrorCode.WRONG_STATUS


class PriceOutOfBounds(DomainError):
    code = ErrorCode.PRICE_OUT_OF_BOUNDS


class OwnArticle(DomainError):
    code = ErrorCode.OWN_ARTICLE


class NotPremium(DomainError):
    code = ErrorCode.NOT_PREMIUM
