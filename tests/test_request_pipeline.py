"""What every request pays, made cheaper without changing an answer (README "Performance").

The settings' Content-Security-Policy built once per process (imatch.cheap_middleware), the
message storage made on first use, the token check's SQL worked out once per connection
(imatch.authentication), the balance's representation without DRF's per-call field copies,
/health's cache check in one Redis round trip.
"""

from contextlib import contextmanager
from unittest import mock

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE, NONE, SELF
from csp.utils import build_policy
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.cache import SessionStore
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.utils.functional import empty
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from currency.api.serializers import BalanceSerializer
from currency.selectors import WalletSummary
from imatch.cheap_middleware import ContentSecurityPolicyMiddleware, MessageMiddleware
from marketplace.services.tokens import api_tokens_revoke_all
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory
from tests.test_shared_cache import shared_redis_cache  # noqa: F401 - a fixture


@contextmanager
def redis_round_trips():
    """The Redis round trips made inside: each command's name (an MGET with its number of keys), or
    "pipeline"; through redis-py's client or on the held connection (`imatch.redis_held`)."""
    import redis

    from imatch import redis_held

    trips = []
    execute_command, pipeline_execute = redis.Redis.execute_command, redis.client.Pipeline.execute
    held_command = redis_held.command

    def counted_command(self, *args, **kwargs):
        trips.append(args[0] if args[0] != "MGET" else ("MGET", len(args) - 1))
        return execute_command(self, *args, **kwargs)

    def counted_held(*args):
        trips.append(args[0])
        return held_command(*args)

    def counted_pipeline(self, *args, **kwargs):
        trips.append("pipeline")
        return pipeline_execute(self, *args, **kwargs)

    with (
        mock.patch.object(redis.Redis, "execute_command", counted_command),
        mock.patch.object(redis.client.Pipeline, "execute", counted_pipeline),
        mock.patch.object(redis_held, "command", counted_held),
    ):
        yield trips


pytestmark = pytest.mark.django_db


# --- The Content-Security-Policy --------------------------------------------------------


def test_a_plain_answer_carries_the_settings_policy_as_django_csp_builds_it(client):
    response = client.get("/api/v1/categories/")
    assert response[HEADER] == build_policy()
    assert not response.has_header(HEADER_REPORT_ONLY)


def test_an_answer_that_changes_the_policy_gets_django_csps_own(client):
    redoc = client.get("/api/v1/redoc/")  # csp_update: inline styles and blob: workers
    assert redoc.status_code == 200
    assert "'unsafe-inline'" in redoc[HEADER] and "blob:" in redoc[HEADER]
    assert "'unsafe-inline'" not in client.get("/api/v1/categories/")[HEADER]


def test_a_changed_setting_is_the_new_policy_and_report_only_is_sent_when_set(client):
    policy = {"DIRECTIVES": {"default-src": [NONE]}}
    report_only = {"DIRECTIVES": {"default-src": [SELF], "report-uri": ["/csp-report"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy, CONTENT_SECURITY_POLICY_REPORT_ONLY=report_only):
        response = client.get("/api/v1/categories/")
        assert response[HEADER] == "default-src 'none'"
        assert response[HEADER_REPORT_ONLY] == "default-src 'self'; report-uri /csp-report"
    assert client.get("/api/v1/categories/")[HEADER] == build_policy()


def test_exempt_answers_and_a_header_already_set_are_left_alone():
    request = RequestFactory().get("/")
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse())
    exempt = HttpResponse()
    exempt._csp_exempt = True
    assert not middleware.process_response(request, exempt).has_header(HEADER)
    own = HttpResponse()
    own[HEADER] = "default-src 'none'"
    assert middleware.process_response(request, own)[HEADER] == "default-src 'none'"


def test_a_nonce_asked_for_is_in_the_policy():
    request = RequestFactory().get("/")
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse())
    middleware.process_request(request)
    nonce = str(request.csp_nonce)
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": [SELF, NONCE]}}):
        response = middleware.process_response(request, HttpResponse())
    assert f"script-src 'self' 'nonce-{nonce}'" in response[HEADER]


# --- Messages ---------------------------------------------------------------------------


def _request_with_session():
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    return request


def test_messages_are_stored_when_added_and_nothing_is_done_otherwise():
    middleware = MessageMiddleware(lambda request: HttpResponse())
    untouched = _request_with_session()
    middleware.process_request(untouched)
    response = middleware.process_response(untouched, HttpResponse())
    assert "messages" not in response.cookies and untouched._messages._wrapped is empty  # never made

    added = _request_with_session()
    middleware.process_request(added)
    messages.success(added, "Saved.")
    response = middleware.process_response(added, HttpResponse())
    assert "messages" in response.cookies  # the cookie storage holds it for the next page
    assert [str(message) for message in messages.get_messages(added)] == ["Saved."]


# --- The token check --------------------------------------------------------------------


def test_a_revoked_token_and_a_deactivated_account_are_refused_on_the_next_call():
    user = UserFactory()
    api = client_for(user)
    assert api.get("/api/v1/pot/balance/").status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert api.get("/api/v1/pot/balance/").status_code == 401
    other = UserFactory()
    other_api = client_for(other)
    assert other_api.get("/api/v1/pot/balance/").status_code == 200
    api_tokens_revoke_all(user=other)
    assert other_api.get("/api/v1/pot/balance/").status_code == 401


# --- The balance ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "summary",
    [
        WalletSummary(user_id=1, balance=0, lifetime_earned=0),
        WalletSummary(user_id=2, balance=1234, lifetime_earned=99, email_verified=True),
        WalletSummary(user_id=3, balance=777, lifetime_earned=100, promotional_balance=50, email_verified=True),
        WalletSummary(user_id=4, balance=3, lifetime_earned=15_000, debt=12, paid_engagement=True),
        WalletSummary(user_id=5, balance=10**12, lifetime_earned=4_999, email_verified=True, paid_engagement=True),
    ],
)
def test_the_balance_answers_what_drfs_generic_serializer_answers(summary):
    generic = serializers.Serializer.to_representation(BalanceSerializer(summary), summary)
    fast = BalanceSerializer(summary).data
    assert fast == generic
    assert JSONRenderer().render(fast) == JSONRenderer().render(generic)  # the same bytes: order and types


# --- /health on Redis -------------------------------------------------------------------


def test_health_checks_redis_in_one_round_trip_and_leaves_no_key(shared_redis_cache, client):  # noqa: F811
    from django.core.cache import cache

    from imatch.health import cache_check

    client_redis = cache.client.get_client(write=True)
    before = set(client_redis.keys("*health:*"))
    assert cache_check() == "ok"
    assert set(client_redis.keys("*health:*")) == before
    response = client.get("/health")
    assert response.status_code == 200 and response.json()["cache"] == "ok"


# --- The connection health check (PostgreSQL) --------------------------------------------


def _request(wrapper, sql: str = "SELECT 1") -> None:
    """What a request does to the connection: Django's check at its start and end, a query between."""
    wrapper.close_if_unusable_or_obsolete()
    try:
        with wrapper.cursor() as cursor:
            cursor.execute(sql)
    finally:
        wrapper.close_if_unusable_or_obsolete()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_that_answered_a_moment_ago_is_not_checked_again(monkeypatch):
    from django.db import DatabaseError, connections

    from imatch.postgresql import base

    wrapper = connections["default"]
    assert isinstance(wrapper, base.DatabaseWrapper)
    # A connection of its own: one that earlier tests opened may be past CONN_MAX_AGE, and
    # Django would replace it (a new connection needs no check) instead of checking it.
    wrapper.close()
    wrapper.ensure_connection()
    monkeypatch.setattr(wrapper, "health_check_enabled", True)
    wrapper.fresh_until, wrapper.used_in_request = 0.0, False  # as after an idle while
    checks = []
    is_usable = wrapper.is_usable
    monkeypatch.setattr(wrapper, "is_usable", lambda: checks.append(1) or is_usable())

    _request(wrapper)
    assert len(checks) == 1  # nothing known of it: checked as Django checks
    _request(wrapper)
    _request(wrapper)
    assert len(checks) == 1  # it answered a moment ago
    now = base.time.monotonic()
    monkeypatch.setattr(base.time, "monotonic", lambda: now + base.FRESH_SECONDS + 1)
    _request(wrapper)
    assert len(checks) == 2  # idle longer than FRESH_SECONDS: checked again
    with pytest.raises(DatabaseError):
        _request(wrapper, "SELECT * FROM no_such_table")
    checks.clear()
    _request(wrapper)
    assert len(checks) == 1  # after an error: checked again


# --- The catalogue's version read with the throttle count (Redis) ------------------------


def test_an_anonymous_catalogue_read_makes_one_redis_round_trip(shared_redis_cache, client, seeded_categories):  # noqa: F811
    client.get("/api/v1/categories/")  # warm: the version and the categories are in the cache
    with redis_round_trips() as trips:
        response = client.get("/api/v1/categories/")
    assert response.status_code == 200 and trips == ["EVALSHA"]


def test_a_catalogue_change_in_the_request_that_read_the_version_is_seen_at_once(shared_redis_cache, seeded_categories):  # noqa: F811
    from categories.selectors import CATALOG_VERSION_KEY, catalog_forget, catalog_version
    from imatch import throttling

    first = catalog_version()
    throttling._count("throttle:anon:192.0.2.9:1", 61)  # what the API's throttle does first
    assert throttling.read_alongside(CATALOG_VERSION_KEY) == first == catalog_version()
    catalog_forget()
    assert throttling.read_alongside(CATALOG_VERSION_KEY) is None
    assert catalog_version() != first
    throttling._forget_all()  # the end of the request


def test_a_catalogue_change_through_a_service_shows_on_the_next_api_read(shared_redis_cache, client, seeded_categories):  # noqa: F811
    from categories.services import category_deactivate

    names = {category["name"] for category in client.get("/api/v1/categories/").json()["results"]}
    gone = sorted(names)[0]
    category_deactivate(category=seeded_categories[gone])
    assert gone not in {category["name"] for category in client.get("/api/v1/categories/").json()["results"]}


# --- The URL patterns -------------------------------------------------------------------


def test_empty_prefix_includes_are_flattened_in_order_and_others_kept():
    from django.urls import include, path

    from imatch.urls import _flat

    def view(request):
        return HttpResponse()

    inner = [path("a/", view, name="a"), path("", include([path("b/", view, name="b")]))]
    namespaced = path("", include(([path("c/", view, name="c")], "app"), namespace="app"))
    prefixed = path("d/", include([path("e/", view, name="e")]))
    flat = _flat([path("", include(inner)), namespaced, prefixed, path("f/", view, name="f")])
    assert [getattr(pattern, "name", None) for pattern in flat] == ["a", "b", None, None, "f"]
    assert flat[2] is namespaced and flat[3] is prefixed


@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/v1/categories/", "api:category-list"), ("/api/v1/pot/balance/", "api:api-pot-balance"), ("/", "home")],
)
def test_addresses_resolve_to_their_views(path, name):
    from django.urls import resolve, reverse

    assert resolve(path).view_name == name and reverse(name) == path


# --- One row by a unique column, written out (imatch.db.row_values) ---------------------


def test_row_values_answers_what_the_orm_answers_converted_alike():
    from django.utils import timezone

    from currency.models import Wallet
    from imatch.db import row_values
    from tests.currency.factories import pot_fund

    user = UserFactory()
    fields = ("balance", "lifetime_earned", "promotional_balance", "debt", "paid_engagement_at")
    assert row_values(Wallet, fields, unique="user", value=user.pk) is None
    pot_fund(user, 120)
    Wallet.objects.filter(user=user).update(paid_engagement_at=timezone.now())
    orm = Wallet.objects.filter(user_id=user.pk).values_list(*fields).first()
    written = row_values(Wallet, fields, unique="user", value=user.pk)
    assert written == orm and isinstance(written[4], type(orm[4])) and written[4].tzinfo is not None
    with pytest.raises(ValueError, match="not unique"):
        row_values(Wallet, fields, unique="balance", value=0)


@override_settings(PERSON_CACHE_VERIFY=False, POT_RULES_CACHE_SECONDS=30)  # as production serves it
def test_a_kept_dashboard_is_read_with_the_session_user_and_catalogue_version(shared_redis_cache, seeded_categories):  # noqa: F811
    from categories.selectors import CATALOG_VERSION_KEY, catalog_version
    from imatch import throttling

    browser = Client()
    browser.force_login(UserFactory())
    assert browser.get("/dashboard/").status_code == 200  # warm: the session's user and the page are kept
    with redis_round_trips() as trips:
        response = browser.get("/dashboard/")
    assert response.status_code == 200
    # The session; the session's user, its scope's token, the catalogue's version and the page
    # with its seven scopes' tokens (the account's among them) in one MGET. No GET of the version of its own.
    assert trips == ["GET", ("MGET", 10)]
    throttling._forget_all()
    version = catalog_version()
    with mock.patch.object(throttling, "_read_along", throttling.ContextVar("t", default=None)):
        assert throttling.get_many_along(["absent"]) == {}  # the version is not in the answer
        assert throttling.read_alongside(CATALOG_VERSION_KEY) == version
        assert throttling.get_many_along([CATALOG_VERSION_KEY]) == {CATALOG_VERSION_KEY: version}  # read once


@override_settings(PERSON_CACHE_VERIFY=False)  # as production serves it
def test_a_kept_wallet_page_is_read_with_the_session_user_in_one_round_trip(shared_redis_cache, seeded_categories):  # noqa: F811
    browser = Client()
    browser.force_login(UserFactory())
    first = browser.get("/wallet/")  # warm: the session's user, the ledger data and the page are kept
    with redis_round_trips() as trips:
        second = browser.get("/wallet/")
    assert first.status_code == second.status_code == 200
    # The session; the session's user (with the catalogue's version), the ledger's and the
    # notifications' tokens, the ledger data and the page, in one MGET.
    assert trips == ["GET", ("MGET", 7)]
    with redis_round_trips() as trips:
        assert browser.get("/wallet/?page=2").status_code == 200  # another page of the history: other keys
        assert trips[:2] == ["GET", ("MGET", 7)] and ("MGET", 4) not in trips  # read with the session's user
        trips.clear()
        assert browser.get("/notifications/").status_code == 200
        assert trips[:2] == ["GET", ("MGET", 3)]  # a page that names no keys: the session's user alone
