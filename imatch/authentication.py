"""API token authentication: django-rest-knox's tokens, one lean query per request."""

import binascii
from hmac import compare_digest

from django.contrib.auth import get_user_model
from django.db import connection
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
    (e.g. SQLite's datetimes), and the rows become model instances with `from_db`.
    """
    token_model, user_model = get_token_model(), get_user_model()
    users, tokens = user_model._meta.concrete_fields, token_model._meta.concrete_fields
    columns = [("u", user_model, field) for field in users] + [("t", token_model, field) for field in tokens]
    quote = connection.ops.quote_name
    user_table, token_table = quote(user_model._meta.db_table), quote(token_model._meta.db_table)
    token_user = quote(token_model._meta.get_field("user").column)
    token_key_column = quote(token_model._meta.get_field("token_key").column)
    sql = (
        f"SELECT {', '.join(f'{alias}.{quote(field.column)}' for alias, _, field in columns)} "  # noqa: S608 - names from the models
        f"FROM {token_table} t JOIN {user_table} u ON u.{quote(user_model._meta.pk.column)} = t.{token_user} "
        f"WHERE t.{token_key_column} = %s"
    )
    converters = [_converters(model, field) for _, model, field in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_key])
        rows = cursor.fetchall()
    found = []
    for row in rows:
        values = [_convert(value, field_converters) for value, field_converters in zip(row, converters, strict=True)]
        user = user_model.from_db(connection.alias, [f.attname for f in users], values[: len(users)])
        auth_token = token_model.from_db(connection.alias, [f.attname for f in tokens], values[len(users) :])
        auth_token.user = user
        found.append(auth_token)
    return found


def _converters(model: type[Model], field) -> tuple:
    expression = field.get_col(model._meta.db_table)
    return expression, connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)


def _convert(value, field_converters: tuple):
    expression, converters = field_converters
    for converter in converters:
        value = converter(value, expression, connection)
    return value


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for these tokens: `Authorization: Token <token>`, named as before."""

    target_class = "imatch.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )
