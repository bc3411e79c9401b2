"""API token authentication: django-rest-knox's tokens, one lean query per request."""

import binascii
import weakref
from dataclasses import dataclass
from hmac import compare_digest

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
from rest_framework import exceptions

from imatch.db import column_converters, converted_row


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's `Authorization: Token <token>` check, minus its sweep of the person's other tokens.

    knox reads every token of the person on every request to delete expired ones (one more
    query per API call). Here only the presented token's own expiry is checked; expired
    tokens of other devices are deleted when a new token is issued
    (`marketplace.services.tokens.api_token_issue`). The token and its user are read by one
    SQL query written out (`tokens_with_users`): built by the ORM, that query cost ~0.8 ms of
    CPU per API call, more than the bare view's whole request. Relies on knox's
    `authenticate_credentials` and `_cleanup_token` of the pinned version
    (tests/api/test_api_tokens.py covers expiry, revocation and inactive accounts).
    """

    def authenticate_credentials(self, token: bytes):
        """knox's own loop (same refusals, same order), over `tokens_with_users`."""
        message = _("Invalid token.")
        token = token.decode("utf-8")
        for auth_token in tokens_with_users(token[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error) as error:
                raise exceptions.AuthenticationFailed(message) from error
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(message)

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


def tokens_with_users(token_key: str) -> list[Model]:
    """The tokens whose key starts so (knox's lookup), each with its user loaded, in one query.

    Every column is converted with the database's own converters, as the ORM converts it
    (e.g. SQLite's datetimes), and the rows become model instances with `from_db`. The SQL and
    the converters are worked out once per database connection (`_token_plan`).
    """
    plan = _token_plan(connections[DEFAULT_DB_ALIAS])
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [token_key])
        rows = cursor.fetchall()
    found = []
    for row in rows:
        values = converted_row(row, plan.converted, connection)
        user = plan.user_model.from_db(connection.alias, plan.user_names, values[: plan.user_count])
        auth_token = plan.token_model.from_db(connection.alias, plan.token_names, values[plan.user_count :])
        auth_token.user = user
        found.append(auth_token)
    return found


@dataclass(frozen=True)
class _TokenPlan:
    sql: str
    user_model: type[Model]
    token_model: type[Model]
    user_names: list[str]
    token_names: list[str]
    user_count: int
    converted: list[tuple[int, object, list]]  # (column index, expression, converters): columns that have any


_plans: "weakref.WeakKeyDictionary[BaseDatabaseWrapper, _TokenPlan]" = weakref.WeakKeyDictionary()


def _token_plan(wrapper: BaseDatabaseWrapper) -> _TokenPlan:
    """The token check's SQL and per-column converters for this connection, made on its first use."""
    plan = _plans.get(wrapper)
    if plan is not None:
        return plan
    token_model, user_model = get_token_model(), get_user_model()
    users, tokens = user_model._meta.concrete_fields, token_model._meta.concrete_fields
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
    plan = _TokenPlan(
        sql=sql,
        user_model=user_model,
        token_model=token_model,
        user_names=[field.attname for field in users],
        token_names=[field.attname for field in tokens],
        user_count=len(users),
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
