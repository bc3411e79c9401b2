"""Receivers that forget a person's kept API token checks (`Scope.ACCOUNT`, imatch.authentication).

Signals rather than calls in the services: tokens are deleted by knox's own logout views, by
the admin, by the cascade of a user's deletion and by the token check itself, none of them a
service here; users are saved by the admin, the log-in (`last_login`), password changes and
many services. `post_save` and `post_delete` see each of them, and Django sends `post_delete`
for every row of a `QuerySet.delete()` once a receiver exists (it reads the rows first): a
deleted user's tokens go by cascade, each forgetting the person. What
signals do not see is `QuerySet.update()` on users: the services that do it forget
`Scope.ACCOUNT` themselves (profiles, referrals, the legacy import's writer).
"""

from django.db.models.signals import post_delete, post_save
from knox.models import get_token_model

from imatch.person_cache import Scope, person_forget
from marketplace.models import User


def _user_changed(sender, instance: User, created: bool = False, **kwargs) -> None:
    if not created:  # a new person has no token yet
        person_forget([instance.pk], Scope.ACCOUNT)


def _token_changed(sender, instance, created: bool = False, **kwargs) -> None:
    if not created:  # a new token was never kept; the person's other tokens did not change
        person_forget([instance.user_id], Scope.ACCOUNT)


def connect() -> None:
    """Called once by the app's `ready()`."""
    token_model = get_token_model()
    post_save.connect(_user_changed, sender=User, dispatch_uid="marketplace.account.user_saved")
    post_save.connect(_token_changed, sender=token_model, dispatch_uid="marketplace.account.token_saved")
    post_delete.connect(_token_changed, sender=token_model, dispatch_uid="marketplace.account.token_deleted")
