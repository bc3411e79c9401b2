"""Email verification: the link sent at sign-up (and on request), verifying it, and the referral
awards that wait for it.

The link carries a token signed with the project's secret (`django.core.signing`, its own
salt) holding the user's id and email address: it expires after
`settings.EMAIL_VERIFICATION_MAX_AGE_DAYS` days, and stops working if the address changes.
A verified email is needed to redeem POT (currency reads `users.email_verified_at`) and before
any referral award is paid for the person: an award that waited is paid when they verify, once
(its cause is the same as when it is paid at once; see `marketplace.services.referrals`).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from imatch.errors import DomainError, TooManyRequests
from imatch.ratelimit import within_limit
from marketplace import emails
from marketplace.errors import ErrorCode, VerificationLinkExpired, VerificationLinkInvalid
from marketplace.models import User
from marketplace.services.referrals import referral_awards_release

SALT = "imatch.marketplace.email-verification"


def email_verification_token(*, user: User) -> str:
    """A signed, URL-safe token for the user's current email address."""
    return signing.dumps({"user": user.pk, "email": user.email}, salt=SALT, compress=True)


@transaction.atomic
def email_verification_send(*, user: User) -> None:
    """Email the person a verification link (after commit); refused once the address is verified."""
    if user.email_verified_at is not None:
        raise DomainError("Your email address is already verified.", code=ErrorCode.ALREADY_VERIFIED)
    emails.email_verification(user, token=email_verification_token(user=user))


def email_verification_resend(*, user: User) -> None:
    """The person asks for a new link ("send me a new link", web and API).

    At most `EMAIL_VERIFICATION_SENDS_PER_HOUR` an hour per person and address: the button
    must not become a way to flood someone's mailbox. Refused once the address is verified.
    """
    if user.email_verified_at is None and not within_limit(
        "verify-email-resend",
        f"{user.pk}:{user.email}",
        limit=settings.EMAIL_VERIFICATION_SENDS_PER_HOUR,
        period_seconds=3600,
    ):
        raise TooManyRequests(
            "We already sent you several verification links this hour: use the newest one in your inbox "
            "(check the spam folder), or ask again in an hour."
        )
    email_verification_send(user=user)


@dataclass(frozen=True)
class EmailVerified:
    user: User
    newly: bool  # False: the address was verified before (the link was opened again)


@transaction.atomic
def email_verify(*, token: str) -> EmailVerified:
    """Verify the email address a link was sent to; pay the referral awards that waited for it."""
    max_age = timedelta(days=settings.EMAIL_VERIFICATION_MAX_AGE_DAYS)
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise VerificationLinkExpired(
            f"This verification link has expired (links work for {settings.EMAIL_VERIFICATION_MAX_AGE_DAYS} days)."
        ) from error
    except signing.BadSignature as error:
        raise VerificationLinkInvalid("This verification link is not valid: it may have been cut short.") from error
    user_id, email = (data.get("user"), data.get("email")) if isinstance(data, dict) else (None, None)
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None or user.email != email:
        raise VerificationLinkInvalid("This verification link is not for an account with this email address.")
    if user.email_verified_at is not None:
        return EmailVerified(user=user, newly=False)
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    referral_awards_release(person=user)
    return EmailVerified(user=user, newly=True)
