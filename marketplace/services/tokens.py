"""API tokens (django-rest-knox): one per device, stored hashed, expiring after `API_TOKEN_TTL_DAYS`."""

from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import knox_settings

from marketplace.models import User


@transaction.atomic
def api_token_issue(*, user: User) -> str:
    """Issue a new token for one device; answers the token itself (only its digest is stored).

    Expired tokens go; past `API_TOKEN_LIMIT_PER_USER` live ones, the oldest go too, so a
    device that logs in again is never refused.
    """
    tokens = AuthToken.objects.filter(user=user)
    tokens.filter(expiry__lt=timezone.now()).delete()
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit:
        keep = tokens.order_by("-created").values_list("pk", flat=True)[: limit - 1]
        tokens.exclude(pk__in=list(keep)).delete()
    _instance, token = AuthToken.objects.create(user=user)
    return token


def api_token_revoke(*, token: AuthToken) -> None:
    """Revoke the one token a device used (logging that device out)."""
    token.delete()


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every API token of the person (after a password change or reset); answers how many."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
