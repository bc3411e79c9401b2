"""Receivers that forget a person's kept API token checks (`Scope.ACCOUNT`, imatch.authentication)
and what is kept of their own profiles (`Scope.PROFILES`: the dashboard).

Signals rather than calls in the services: tokens are deleted by knox's own logout views, by
the admin, by the cascade of a user's deletion and by the token check itself, none of them a
service here; users are saved by the admin, the log-in (`last_login`), password changes and
many services. `post_save` and `post_delete` see each of them, and Django sends `post_delete`
for every row of a `QuerySet.delete()` once a receiver exists (it reads the rows first): a
deleted user's tokens go by cascade, each forgetting the person. What
signals do not see is `QuerySet.update()` on users: the services that do it forget
`Scope.ACCOUNT` themselves (profiles, referrals, the legacy import's writer).

Profiles the same way: saved by the services, the admin, the rating refresh and the provisional
lapse; deleted by the admin and cascades; their specialties changed through the many-to-many
relation (`m2m_changed`, either side). The one `QuerySet.update()` of profiles that the
dashboard could show (`geocode_profiles`' coordinates) shows nothing there.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from knox.models import get_token_model

from imatch.person_cache import Scope, person_forget
from marketplace.models import Provider, Seeker, User


def _user_changed(sender, instance: User, created: bool = False, **kwargs) -> None:
    if not created:  # a new person has no token yet
        person_forget([instance.pk], Scope.ACCOUNT)


def _token_changed(sender, instance, created: bool = False, **kwargs) -> None:
    if not created:  # a new token was never kept; the person's other tokens did not change
        person_forget([instance.user_id], Scope.ACCOUNT)


def _profile_changed(sender, instance: Seeker | Provider, **kwargs) -> None:
    person_forget([instance.user_id], Scope.PROFILES)


def _specialties_changed(sender, instance, action: str, reverse: bool, model, pk_set, **kwargs) -> None:
    if not reverse and action.startswith("post_"):  # the profile's own specialties
        person_forget([instance.user_id], Scope.PROFILES)
    elif reverse and action in ("post_add", "post_remove"):  # `specialty.providers.add(…)`: rare, one query
        person_forget(model.objects.filter(pk__in=pk_set).values_list("user_id", flat=True), Scope.PROFILES)
    elif reverse and action == "pre_clear":  # read before the relation is gone
        person_forget(model.objects.filter(specialties=instance).values_list("user_id", flat=True), Scope.PROFILES)


def connect() -> None:
    """Called once by the app's `ready()`."""
    token_model = get_token_model()
    post_save.connect(_user_changed, sender=User, dispatch_uid="marketplace.account.user_saved")
    post_save.connect(_token_changed, sender=token_model, dispatch_uid="marketplace.account.token_saved")
    post_delete.connect(_token_changed, sender=token_model, dispatch_uid="marketplace.account.token_deleted")
    for profile in (Seeker, Provider):
        label = profile._meta.model_name
        post_save.connect(_profile_changed, sender=profile, dispatch_uid=f"marketplace.profiles.{label}_saved")
        post_delete.connect(_profile_changed, sender=profile, dispatch_uid=f"marketplace.profiles.{label}_deleted")
        m2m_changed.connect(
            _specialties_changed,
            sender=profile.specialties.through,
            dispatch_uid=f"marketplace.profiles.{label}_specialties",
        )
