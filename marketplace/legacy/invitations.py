"""Inviting the people of the Phase 1 import (`invite_v1`): one email each, with a set-a-password link.

The link carries a token from `InvitationTokenGenerator`, Django's password-reset machinery
with its own salt and validity (`V1_INVITE_VALID_DAYS`): it stops working once the
password is set (the token covers the password hash and the last login), so it is used once.
"""

import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from imatch.errors import DomainError
from marketplace import emails
from marketplace.errors import AlreadyInvited, NotImported
from marketplace.models import User
from marketplace.selectors import imported_people_to_invite, person_next_step


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Password-reset tokens of their own kind, valid `V1_INVITE_VALID_DAYS` instead of PASSWORD_RESET_TIMEOUT."""

    key_salt = "marketplace.legacy.invitations.InvitationTokenGenerator"

    def check_token(self, user: User | None, token: str | None) -> bool:
        # Django's check, with this generator's validity: a reset link from the "Forgot your
        # password?" page is never accepted here, nor an invitation there (different salts).
        if not (user and token):
            return False
        try:
            timestamp_b36, _ = token.split("-")
            timestamp = base36_to_int(timestamp_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return self._num_seconds(self._now()) - timestamp <= settings.V1_INVITE_VALID_DAYS * 24 * 3600


invitation_tokens = InvitationTokenGenerator()


def invitation_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_tokens.make_token(user)
    return settings.SITE_URL.rstrip("/") + reverse("invitation-accept", args=[uid, token])


@transaction.atomic
def user_invite(*, user: User, resend: bool = False, connection=None, now: datetime | None = None) -> User:
    """Email an imported person their set-a-password link and first step; record `invited_at`.

    Refuses someone the import did not create (`NotImported`) and someone already invited
    (`AlreadyInvited`; with `resend`, only someone who has logged in since). Without a
    broker the email is sent now and a mail-server error propagates, so nothing is recorded
    and the next run tries again; with one it is queued on commit (the worker retries).
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.imported_at is None:
        raise NotImported("Only people created by the Phase 1 import are invited.")
    if user.invited_at is not None and (not resend or user.last_login is not None):
        raise AlreadyInvited("This person was invited already" + (" and has logged in." if resend else "."))
    emails.invitation(
        user,
        link=invitation_link(user),
        days=settings.V1_INVITE_VALID_DAYS,
        next_step=person_next_step(user=user),
        connection=connection,
    )
    user.invited_at = now or timezone.now()
    user.save(update_fields=["invited_at"])
    return user


INVITE_BATCH = 50  # emails per SMTP session (and per progress line)


@dataclass
class InvitationRun:
    """What one `invite_v1` run did (or, in a dry run, would do)."""

    dry_run: bool
    to_invite: int = 0
    sent: int = 0
    skipped: int = 0  # invited by a concurrent run meanwhile
    failed: list[tuple[int, str]] = field(default_factory=list)  # (user id, why)


def imported_people_invite(
    *,
    resend: bool = False,
    limit: int | None = None,
    dry_run: bool = False,
    batch_size: int = INVITE_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> InvitationRun:
    """Invite every imported person not invited yet (with `resend`, also those who never logged in).

    One transaction per person: a mail-server error for one is recorded in `failed` and the
    others go on; they stay uninvited, so the next run tries them again. `progress(done,
    total)` is called after each batch.
    """
    people = imported_people_to_invite(resend=resend)
    if limit is not None:
        people = people[:limit]
    ids = list(people.values_list("id", flat=True))
    run = InvitationRun(dry_run=dry_run, to_invite=len(ids))
    if dry_run:
        return run
    for start in range(0, len(ids), batch_size):
        batch = User.objects.filter(pk__in=ids[start : start + batch_size]).order_by("id")
        with get_connection() as connection:
            for user in batch:
                try:
                    user_invite(user=user, resend=resend, connection=connection)
                except DomainError:
                    run.skipped += 1
                except (smtplib.SMTPException, OSError) as error:
                    run.failed.append((user.pk, f"{type(error).__name__}: {error}"))
                else:
                    run.sent += 1
        if progress is not None:
            progress(min(start + batch_size, len(ids)), len(ids))
    return run
