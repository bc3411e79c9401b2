"""API token authentication: django-rest-knox's tokens, one query per request."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's `Authorization: Token <token>` check, minus its sweep of the person's other tokens.

    knox reads every token of the person on every request to delete expired ones (one more
    query per API call). Here only the presented token's own expiry is checked; expired
    tokens of other devices are deleted when a new token is issued
    (`marketplace.services.tokens.api_token_issue`). Relies on knox's `_cleanup_token`
    hook of the pinned version (tests/api/test_api_tokens.py covers expiry).
    """

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for these tokens: `Authorization: Token <token>`, named as before."""

    target_class = "imatch.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )
