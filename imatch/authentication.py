"""API token authentication: django-rest-knox's tokens, kept in the shared cache; one lean query when not."""

import binascii
import hashlib
import weakref
from dataclasses import dataclass
from hmac import compare_digest

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import HTTP_HEADER_ENCODING, exceptions

from imatch.db import column_converters, converted_row
from imatch.person_cache import Scope, StaleAnswer, person_keep, person_kept, person_kept_keys
from imatch.throttling import PERSON, count_as_owner, read_counting, read_counting_as, uncount


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's `Authorization: Token <token>` check, minus its sweep of the person's other tokens,
    kept in the shared cache so that a kept API read makes no SQL query.

    knox reads every token of the person on every request to delete expired ones (one more
    query per API call). Here only the presented token's own expiry is checked; expired
    tokens of other devices are deleted when a new token is issued
    (`marketplace.services.tokens.api_token_issue`). The token and its user are read by one
    SQL query written out (`tokens_with_users`): built by the ORM, that query cost ~0.8 ms of
    CPU per API call, more than the bare view's whole request.

    A successful check is kept (`_KEPT_PREFIX`, keyed by a hash of the token, never the token)
    under the person's `Scope.ACCOUNT`, which every save and delete of the user or of any of
    their tokens forgets (marketplace.signals), as do the services that update users with
    `QuerySet.update`: a revoked token or a changed account is seen on the very next request.
    Each request still compares the kept digest (`compare_digest`, as knox) and the kept expiry
    to now; an expired token goes through the query, which deletes and refuses it. The kept
    entry is found with the person's scope token in one round trip, so it needs the user id
    first: each process remembers which person a token belongs to (`_token_users`, a fact that
    never changes), and so does the shared cache (`_OWNER_PREFIX`, written after the first check
    of the token by query in any process). A process new to the token reads that fact in the same
    round trip (`imatch.throttling.read_counting_as`): with gunicorn's several workers, a person's
    token is checked by query once, not once per worker. That round trip also counts the request
    under the person's API rate (`imatch.throttling.read_counting`): a refusal takes it back.
    Relies on knox's `authenticate_credentials`, `renew_token` and `validate_user` of the pinned version
    (tests/api/test_api_tokens.py covers expiry, revocation and inactive accounts).
    """

    def authenticate(self, request):
        """knox's `authenticate` (same refusals, same order), the header read from `request.META`:
        DRF's `get_authorization_header` builds `request.headers`, every header of the request
        (~2 % of a kept API read), to read this one."""
        auth = request.META.get("HTTP_AUTHORIZATION", b"")
        if isinstance(auth, str):  # as WSGI gives it (the default above is bytes, as DRF reads it)
            auth = auth.encode(HTTP_HEADER_ENCODING)
        auth = auth.split()
        if not auth or not is_token_scheme(auth[0]):
            return None  # no header, or one for another scheme
        if len(auth) == 1:
            raise exceptions.AuthenticationFailed(_("Invalid token header. No credentials provided."))
        if len(auth) > 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header. Token string should not contain spaces."))
        return self._credentials(auth[1], request)

    def authenticate_credentials(self, token: bytes):
        """knox's own loop (same refusals, same order), over the kept check or `tokens_with_users`."""
        return self._credentials(token, None)

    def _credentials(self, token: bytes, request):
        """`authenticate_credentials`; with the request, a token checked before in this process, or
        one whose person the shared cache knows, is checked in the throttle's round trip
        (`imatch.throttling.read_counting`, `read_counting_as`). Checked by query, it is counted
        in the round trip that tells the shared cache whose it is (`count_as_owner`). A refusal
        takes the count back."""
        token = token.decode("utf-8")
        hashed = hashlib.blake2b(token.encode(), digest_size=20).hexdigest()
        key, owner_key = _KEPT_PREFIX + hashed, _OWNER_PREFIX + hashed
        user_id, read, found, asked_owner = _token_users.get(key), None, None, False
        if request is not None and user_id is not None:
            read = read_counting(request, user_id)
        elif request is not None:  # new to this process: whose it is may be in the shared cache
            reading = read_counting_as(request, owner_key)
            asked_owner = reading is not None
            looked_up = reading(person_kept_keys(key, user_id=PERSON, scope=Scope.ACCOUNT)) if reading else None
            if looked_up is not None:
                user_id, found = looked_up
                _remember(key, user_id)
        try:
            if user_id is None:
                auth_token = self._checked(token)
                _remember(key, auth_token.user_id)
                if asked_owner:  # the shared cache did not know whose it is: the other workers will
                    count_as_owner(request, auth_token.user_id, owner_key, _OWNER_SECONDS)
                return self._accepted(auth_token)
            return self._kept_or_checked(token, key, user_id, read, found)
        except exceptions.AuthenticationFailed:
            uncount(request)  # the count was the token's person's, and this request is not theirs
            raise

    def _kept_or_checked(self, token: str, key: str, user_id: int, read, found: dict | None):
        kept, scope_token = person_kept(key, user_id=user_id, scope=Scope.ACCOUNT, read=read, found=found)
        if kept is not None:
            auth_token = _token_from_kept(_token_plan(connections[DEFAULT_DB_ALIAS]), kept)
            if not _expired(auth_token) and compare_digest(_digest(token), auth_token.digest):
                if getattr(settings, "PERSON_CACHE_VERIFY", False):
                    _verify_kept(token, kept)
                return self._accepted(auth_token)
        auth_token = self._checked(token)
        accepted = self._accepted(auth_token)
        if auth_token.user_id == user_id:
            person_keep(key, auth_token._kept, token=scope_token)
        return accepted

    def _checked(self, token: str):
        """The token's row with its user, by query, or AuthenticationFailed (an expired one is deleted)."""
        for auth_token in tokens_with_users(token[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            if compare_digest(_digest(token), auth_token.digest):
                return auth_token
        raise exceptions.AuthenticationFailed(_INVALID)

    def _accepted(self, auth_token):
        if knox_settings.AUTO_REFRESH and auth_token.expiry:
            self.renew_token(auth_token)  # saves the token when it moves: that forgets the kept check
        return self.validate_user(auth_token)

    def _cleanup_token(self, auth_token) -> bool:
        if _expired(auth_token):
            auth_token.delete()
            return True
        return False


def is_token_scheme(word: bytes | str) -> bool:
    """Whether an `Authorization` header's first word names this scheme (`Token`, in any case, as knox reads it)."""
    if isinstance(word, bytes):
        word = word.decode(HTTP_HEADER_ENCODING, errors="replace")
    return word.lower() == knox_settings.AUTH_HEADER_PREFIX.lower()


_INVALID = _("Invalid token.")
_KEPT_PREFIX = "api-token-check:"
_TOKEN_USERS_MAX = 10_000  # tokens remembered per process; past it the memory starts again
_token_users: dict[str, int] = {}  # kept key -> the token's user id (never changes for a token)
# The shared cache's copy of that fact, for processes that have not checked the token yet (it
# names no secret: the key is a hash of the token, the value a user id).
_OWNER_PREFIX = "api-token-owner:"
_OWNER_SECONDS = 24 * 60 * 60


def _remember(key: str, user_id: int) -> None:
    if len(_token_users) >= _TOKEN_USERS_MAX:
        _token_users.clear()
    _token_users[key] = user_id


def _digest(token: str) -> str:
    try:
        return hash_token(token)
    except (TypeError, binascii.Error) as error:
        raise exceptions.AuthenticationFailed(_INVALID) from error


def _expired(auth_token) -> bool:
    return auth_token.expiry is not None and auth_token.expiry < timezone.now()


def _verify_kept(token: str, kept: tuple) -> None:
    """`PERSON_CACHE_VERIFY`: the kept check must equal the rows as they are (a missed forget fails)."""
    plan = _token_plan(connections[DEFAULT_DB_ALIAS])
    digest = kept[1][plan.token_digest]
    fresh = next(
        (
            auth_token._kept
            for auth_token in tokens_with_users(token[: CONSTANTS.TOKEN_KEY_LENGTH])
            if auth_token.digest == digest
        ),
        None,
    )
    if fresh != kept:
        raise StaleAnswer(
            f"The kept API token check of user {kept[1][plan.token_user]} is stale: {kept!r} != {fresh!r}"
        )


def tokens_with_users(token_key: str) -> list[Model]:
    """The tokens whose key starts so (knox's lookup), each with its user loaded, in one query.

    Every column is converted with the database's own converters, as the ORM converts it
    (e.g. SQLite's datetimes), and the rows become model instances with `from_db`. The user's
    password hash is not read (nothing a token check serves needs it; reading `password`
    loads it), so it is never kept in the cache. Each token carries the converted values as
    `_kept` (what the kept check holds). The SQL and the converters are worked out once per
    database connection (`_token_plan`).
    """
    plan = _token_plan(connections[DEFAULT_DB_ALIAS])
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [token_key])
        rows = cursor.fetchall()
    found = []
    for row in rows:
        values = converted_row(row, plan.converted, connection)
        found.append(_token_from_kept(plan, (tuple(values[: plan.user_count]), tuple(values[plan.user_count :]))))
    return found


def _token_from_kept(plan: "_TokenPlan", kept: tuple):
    user = plan.user_model.from_db(DEFAULT_DB_ALIAS, plan.user_names, kept[0])
    auth_token = plan.token_model.from_db(DEFAULT_DB_ALIAS, plan.token_names, kept[1])
    auth_token.user = user
    auth_token._kept = kept
    return auth_token


@dataclass(frozen=True)
class _TokenPlan:
    sql: str
    user_model: type[Model]
    token_model: type[Model]
    user_names: frozenset[str]  # all but the password: `from_db` defers it
    token_names: list[str]
    user_count: int
    token_digest: int  # index of the digest among the token's values
    token_user: int  # index of the user id among the token's values
    converted: list[tuple[int, object, list]]  # (column index, expression, converters): columns that have any


_plans: "weakref.WeakKeyDictionary[BaseDatabaseWrapper, _TokenPlan]" = weakref.WeakKeyDictionary()


def _token_plan(wrapper: BaseDatabaseWrapper) -> _TokenPlan:
    """The token check's SQL and per-column converters for this connection, made on its first use."""
    plan = _plans.get(wrapper)
    if plan is not None:
        return plan
    token_model, user_model = get_token_model(), get_user_model()
    users = [field for field in user_model._meta.concrete_fields if field.attname != "password"]
    tokens = token_model._meta.concrete_fields
    columns = [("u", user_model, field) for field in users] + [("t", token_model, field) for field in tokens]
    quote = wrapper.ops.quote_name
    user_table, token_table = quote(user_model._meta.db_table), quote(token_model._meta.db_table)
    token_user = quote(token_model._meta.get_field("user").column)
    token_key_column = quote(token_model._meta.get_field("token_key").column)
    sql = (
        f"SELECT {', '.join(f'{alias}.{quote(field.column)}' for alias, _, field in columns)} "  # noqa: S608 - names from the models
        f"FROM {token_table} t JOIN {user_table} u ON u.{quote(user_model._meta.pk.column)} = t.{token_user} "
        f"WHERE t.{token_key_column} = %s"
    )
    converted = column_converters(wrapper, [field.get_col(model._meta.db_table) for _alias, model, field in columns])
    token_names = [field.attname for field in tokens]
    plan = _TokenPlan(
        sql=sql,
        user_model=user_model,
        token_model=token_model,
        user_names=frozenset(field.attname for field in users),
        token_names=token_names,
        user_count=len(users),
        token_digest=token_names.index("digest"),
        token_user=token_names.index(token_model._meta.get_field("user").attname),
        converted=converted,
    )
    _plans[wrapper] = plan
    return plan


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for these tokens: `Authorization: Token <token>`, named as before."""

    target_class = "imatch.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )
