"""Two third-party middlewares with the work every request repeated done once, or only when needed.

- `ContentSecurityPolicyMiddleware` (django-csp's): the policy of a response that neither a view
  nor a decorator changed (no `csp_update`/`csp_replace`/`csp_exempt`, no nonce) is the settings'
  own, so it is built once per process instead of twice per response (`dataclasses.asdict`,
  copies and joins: ~20 % of a bare view's request). Responses that change it, and nonces, go
  through django-csp unchanged. Rebuilt when the CSP settings change (tests).
- `MessageMiddleware` (Django's): the message storage (a signed-cookie storage and a session
  storage) is made when something reads or adds a message, not on every request; a request that
  never touched it has nothing to store, as Django's own `update` would find.
"""

import functools
import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.signals import setting_changed
from django.utils.functional import SimpleLazyObject, empty

_PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


@functools.cache
def _settings_policies() -> tuple[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...]]]:
    """(policy, excluded prefixes) for the header and for the report-only header, from the settings."""

    def prefixes(name: str) -> tuple[str, ...]:
        return tuple((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())

    return (
        (build_policy(), prefixes("CONTENT_SECURITY_POLICY")),
        (build_policy(report_only=True), prefixes("CONTENT_SECURITY_POLICY_REPORT_ONLY")),
    )


def _forget_policies(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        _settings_policies.cache_clear()


setting_changed.connect(_forget_policies, dispatch_uid="imatch.cheap_middleware.csp")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware; the settings' policy built once (see the module's docstring)."""

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _PER_RESPONSE
        ):
            return super().process_response(request, response)
        # What django-csp does for a response without its own policy, in the same order.
        if response.status_code in _DEBUG_EXEMPT and settings.DEBUG:
            return response
        enforced, report_only = _settings_policies()
        path = request.path_info
        for header, (policy, excluded), exempt in (
            (HEADER, enforced, "_csp_exempt"),
            (HEADER_REPORT_ONLY, report_only, "_csp_exempt_ro"),
        ):
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not path.startswith(excluded)
            ):
                response[header] = policy
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's, with the storage made on first use (see the module's docstring)."""

    def process_request(self, request) -> None:
        request._messages = SimpleLazyObject(functools.partial(default_storage, request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if type(messages) is SimpleLazyObject and messages._wrapped is empty:
            return response  # never read nor added to: nothing to store
        return super().process_response(request, response)
