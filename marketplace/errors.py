"""The refusals of people, profiles, matching, engagements, ratings and the Phase 1 import.

Listed once here (see `imatch.errors` for the shared ones); services raise these classes,
or a base error with one of these codes where the refusal concerns a single input.
"""

from enum import StrEnum

from django.conf import settings

from imatch.errors import Conflict, DomainError, PermissionDenied


class ErrorCode(StrEnum):
    """Codes of the marketplace app."""

    # People and profiles
    EMAIL_TAKEN = "email_taken"
    INVALID_REFERRAL = "invalid_referral"
    OWN_REFERRAL_CODE = "own_referral_code"  # a person following their own referral link
    ALREADY_REFERRED = "already_referred"  # the person signed up with someone's code already
    REFERRAL_AFTER_SIGNUP = "referral_after_signup"  # a referral code counts only when the account is created
    WEAK_PASSWORD = "weak_password"  # noqa: S105 (an error code, not a password)
    LOCKED_OUT = "locked_out"  # too many failed logins for this email: wait for the cool-off
    DUPLICATE_PROFILE = "duplicate_profile"
    UNKNOWN_SPECIALTY = "unknown_specialty"
    NEGATIVE = "negative"  # a price or budget below zero
    RANGE_REVERSED = "range_reversed"  # a minimum above its maximum
    READ_ONLY = "read_only"  # a field fixed once the profile exists
    ACCOUNT_INACTIVE = "account_inactive"  # the person's account was deactivated by an operator
    SELF_DEACTIVATION = "self_deactivation"  # an operator deactivating their own account
    ALREADY_VERIFIED = "already_verified"  # the email address is verified: no new link is sent
    VERIFICATION_LINK_EXPIRED = "verification_link_expired"  # older than EMAIL_VERIFICATION_MAX_AGE: ask for a new one
    VERIFICATION_LINK_INVALID = "verification_link_invalid"  # tampered, cut short, or for an email since changed
    PHOTO_TOO_LARGE = "photo_too_large"  # a profile photo over PHOTO_MAX_BYTES
    PHOTO_UNREADABLE = "photo_unreadable"  # not a JPEG, PNG or WebP image (or a damaged one)
    UNKNOWN_TIME_ZONE = "unknown_time_zone"  # not an IANA time zone name
    # The core loop
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    NOT_A_PROVIDER = "not_a_provider"  # Pro: the person has no provider profile
    NO_PRO_CATEGORY = "no_pro_category"  # Pro: none of the person's categories offers Pro
    INVALID_TRANSITION = "invalid_transition"
    WRONG_SIDE = "wrong_side"
    NOT_POSITIVE = "not_positive"  # a deal value of zero or less
    TOO_PRECISE = "too_precise"  # more than two decimals of USD
    TOO_LARGE = "too_large"
    ALREADY_RATED = "already_rated"
    SELF_RATING = "self_rating"
    INVALID_STARS = "invalid_stars"
    # The Phase 1 import (manage.py import_v1)
    LEGACY_FILE_UNUSABLE = "legacy_file_unusable"
    CATEGORY_MISSING = "category_missing"
    IMPORT_RACED = "import_raced"
    NOT_IMPORTED = "not_imported"  # invite_v1 invites only people the import created
    ALREADY_INVITED = "already_invited"  # invited before (a resend only goes to those who never logged in)


class LoginLocked(DomainError):
    """Too many failed logins for this email; said the same whether or not an account has it."""

    code = ErrorCode.LOCKED_OUT
    status = 429

    def __init__(self) -> None:
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        super().__init__(
            f"Too many failed log-ins with this email. Try again in {minutes} minutes, or reset your password."
        )


class DuplicateProfile(DomainError):
    """The user already has a profile of this role in this category."""

    code = ErrorCode.DUPLICATE_PROFILE


class AccountInactive(DomainError):
    """The person's account is deactivated: they are not listed, matched, nor given matches."""

    code = ErrorCode.ACCOUNT_INACTIVE


class ProviderUnavailable(DomainError):
    """The provider stopped accepting clients (or reached capacity) since the match was made."""

    code = ErrorCode.PROVIDER_UNAVAILABLE


class InvalidTransition(DomainError):
    """The object is not in a state that allows this action (e.g. confirming twice)."""

    code = ErrorCode.INVALID_TRANSITION


class WrongSide(PermissionDenied):
    """The person is part of the match or engagement, but this action belongs to the other side."""

    code = ErrorCode.WRONG_SIDE


class AlreadyRated(DomainError):
    """The person already rated the other side of this engagement."""

    code = ErrorCode.ALREADY_RATED


class LegacyFileError(DomainError):
    """The legacy file cannot be used: missing, unreadable, not SQLite, or a table is missing."""

    code = ErrorCode.LEGACY_FILE_UNUSABLE


class CategoryMissing(DomainError):
    """The category the legacy people go to has not been seeded."""

    code = ErrorCode.CATEGORY_MISSING


class ImportRaced(Conflict):
    """The database changed during the import (e.g. a sign-up with a legacy email): nothing was imported."""

    code = ErrorCode.IMPORT_RACED


class NotImported(DomainError):
    """Only people created by the Phase 1 import are invited (everyone else chose a password at sign-up)."""

    code = ErrorCode.NOT_IMPORTED


class AlreadyInvited(DomainError):
    """The person was invited already (and, for a resend, has logged in since)."""

    code = ErrorCode.ALREADY_INVITED


class VerificationLinkExpired(DomainError):
    """The email verification link is older than its validity: a new one can be asked for."""

    code = ErrorCode.VERIFICATION_LINK_EXPIRED


class VerificationLinkInvalid(DomainError):
    """The email verification link is not one we sent (or no longer matches the account)."""

    code = ErrorCode.VERIFICATION_LINK_INVALID


class NotAProvider(DomainError):
    """Pro is for providers: the person has no provider profile."""

    code = ErrorCode.NOT_A_PROVIDER


class NoProCategory(DomainError):
    """None of the person's provider categories offers Pro (no `pro_commission_rate`)."""

    code = ErrorCode.NO_PRO_CATEGORY
