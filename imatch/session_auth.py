"""The session's user kept in the shared cache: a logged-in page reads no user row on a hit.

Django's `AuthenticationMiddleware` reads the session's user on every request that looks at
`request.user` (one query) and checks the session's auth hash, an HMAC of the password hash.
`SessionUserMiddleware` keeps, per person, the user row (without the password hash, which never
goes to the cache) and that HMAC, under the person's `Scope.ACCOUNT`: every save of the user
forgets it (`marketplace/signals.py`), as do the services that update users with
`QuerySet.update`. A kept user is served only when the session's hash equals the kept one and
the account is active; anything else (no hash, another one, a fallback secret, another
backend) goes through Django's own `get_user`, which flushes a session that no longer verifies.
The key holds a digest of SECRET_KEY, so a rotated key is never checked against hashes made
with the old one. With `PERSON_CACHE_VERIFY` (tests) every kept user is compared with Django's.
The keys every request reads anyway (`imatch.throttling.read_along`: the catalogue's version)
are read in the same round trip, and so are the kept answers of the page asked for, when its
view names them (`read_with_session_user`: the dashboard, the wallet), handed to
`person_read_ahead`: a kept page makes two round trips, the session's and this one.
"""

from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware, auser
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS
from django.db.models.fields.files import FieldFile
from django.urls import get_resolver, reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.functional import SimpleLazyObject

from imatch.person_cache import Scope, StaleAnswer, person_keep, person_kept, person_read_ahead
from imatch.throttling import get_many_along

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class SessionUserMiddleware(AuthenticationMiddleware):
    """Django's, with the session's user read through `session_user` (kept per person)."""

    def process_request(self, request):
        super().process_request(request)  # its checks, and `request.auser` as Django sets it
        request.user = SimpleLazyObject(lambda: _cached_user(request))
        request.auser = partial(auser, request)


def _cached_user(request):
    if not hasattr(request, "_cached_user"):
        request._cached_user = session_user(request)
    return request._cached_user


def session_user(request):
    """The session's user, as `django.contrib.auth.get_user` answers, from the cache when kept."""
    try:
        user_id = int(auth._get_user_session_key(request))
        backend = request.session[BACKEND_SESSION_KEY]
    except (KeyError, ValueError, TypeError):
        return auth.get_user(request)
    session_hash = request.session.get(HASH_SESSION_KEY)
    if backend != MODEL_BACKEND or not session_hash:
        return auth.get_user(request)
    key = f"session-user:{_secret_digest()}:{user_id}"
    # The catalogue's version (the dashboard's variant) and the page's kept answers are read in the same round trip.
    page_keys = _page_keys(request, user_id)

    def read(keys: list[str]) -> dict:
        found = get_many_along([*keys, *page_keys])
        if page_keys:
            person_read_ahead(page_keys, {key: found[key] for key in page_keys if key in found})
        return found

    kept, scope_token = person_kept(key, user_id=user_id, scope=Scope.ACCOUNT, read=read)
    if kept is not None:
        values, auth_hash, usable = kept
        if values["is_active"] and constant_time_compare(session_hash, auth_hash):
            user = _user_from(values)
            user.kept_password_usable = usable
            if _verify():
                _check_kept(request, kept)
            return user
    user = auth.get_user(request)
    if user.is_authenticated and user.pk == user_id and user.is_active:
        person_keep(key, _kept_of(user), token=scope_token)
    return user


# --- A page's kept answers read with its session's user ----------------------------------

PageKeys = Callable[[object, int], list[str]]  # (request, user id) -> the keys `person_answer` will read
_page_keys_by_name: dict[str, PageKeys] = {}
_page_keys_by_path: dict[str, PageKeys] | None = None


def read_with_session_user(url_name: str, keys: PageKeys) -> None:
    """The page named `url_name` serves kept answers under `keys(request, user_id)`
    (`person_answer_keys`): they are read with the session's user, in its round trip."""
    global _page_keys_by_path
    _page_keys_by_name[url_name] = keys
    _page_keys_by_path = None


def _page_keys(request, user_id: int) -> list[str]:
    global _page_keys_by_path
    if _page_keys_by_path is None:
        get_resolver().url_patterns  # imports the URLconf: its views name their pages' keys  # noqa: B018
        _page_keys_by_path = {reverse(name): keys for name, keys in _page_keys_by_name.items()}
    keys = _page_keys_by_path.get(request.path) if request.method == "GET" else None
    return keys(request, user_id) if keys is not None else []


def _forget_page_paths(*, setting: str, **kwargs) -> None:
    global _page_keys_by_path
    if setting == "ROOT_URLCONF":
        _page_keys_by_path = None


setting_changed.connect(_forget_page_paths, dispatch_uid="imatch.session_auth.page_paths")


def _secret_digest() -> str:
    return salted_hmac("imatch.session_auth", "kept session users").hexdigest()[:16]


def _names() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields if field.attname != "password"]


def _kept_of(user) -> tuple[dict, str, bool]:
    """What is kept of a session's user: the row less the password hash, the session auth hash, and
    whether the password is usable (the admin's header asks)."""
    return _values(user), user.get_session_auth_hash(), user.has_usable_password()


def _values(user) -> dict:
    """The row's stored values (a file field's stored name: its FieldFile holds the whole instance)."""
    values = {name: getattr(user, name) for name in _names()}
    return {name: value.name if isinstance(value, FieldFile) else value for name, value in values.items()}


def _user_from(values: dict):
    model = get_user_model()
    names = _names()
    return model.from_db(DEFAULT_DB_ALIAS, names, [values[name] for name in names])  # the password deferred


def _verify() -> bool:
    return getattr(settings, "PERSON_CACHE_VERIFY", False)


def _check_kept(request, kept: tuple) -> None:
    """`PERSON_CACHE_VERIFY`: the kept user and hash must be what Django reads now (a missed forget fails)."""
    fresh = auth.get_user(request)
    now = _kept_of(fresh) if fresh.is_authenticated else None
    if now != kept:
        raise StaleAnswer(f"The kept session user is stale: {kept[0].get('id')!r}")
