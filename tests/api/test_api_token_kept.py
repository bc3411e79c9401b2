"""The kept API token check (imatch.authentication): no query on a kept read, and every way a
token goes or an account changes is seen on the very next request.

The forget tests serve kept checks as production does (`no_verify`): with the forget removed
the kept check answers and the test fails. `PERSON_CACHE_VERIFY` (on elsewhere) rebuilds every
kept check and compares, so the whole suite catches a write that forgets nothing.
"""

import pickle
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from imatch.person_cache import StaleAnswer
from marketplace.models import AccountType, User
from marketplace.services import referrals
from marketplace.services.profiles import provider_create
from marketplace.services.tokens import api_token_issue, api_token_revoke, api_tokens_revoke_all
from tests.marketplace.factories import ProviderFactory, UserFactory
from tests.marketplace.test_import_v1 import customer, legacy_file, report_of

pytestmark = pytest.mark.django_db

BALANCE = "/api/v1/pot/balance/"
ME = "/api/v1/me/"


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _kept(user: User) -> tuple[APIClient, str]:
    """A client whose token check is kept: its first check in a process reads it, the second keeps it."""
    token = api_token_issue(user=user)
    api = _client(token)
    assert api.get(ME).status_code == 200
    assert api.get(ME).status_code == 200
    return api, token


def _hit_makes_no_query(api: APIClient, django_assert_num_queries) -> None:
    api.get(BALANCE)  # keeps the balance too
    with django_assert_num_queries(0):
        assert api.get(BALANCE).status_code == 200


def test_a_kept_check_makes_no_query_and_answers_the_same_bytes(no_verify, django_assert_num_queries):
    user = UserFactory(time_zone="America/Chicago", email_verified_at=timezone.now())
    token = api_token_issue(user=user)
    api = _client(token)
    first, keeping, kept = api.get(ME), api.get(ME), api.get(ME)
    assert first.status_code == 200
    assert first.content == keeping.content == kept.content
    _hit_makes_no_query(api, django_assert_num_queries)


def test_a_kept_user_is_the_users_row_without_the_password_hash(no_verify, django_assert_num_queries):
    """The password hash never reaches the cache; code that reads it on a kept user loads it."""
    from imatch.authentication import TokenAuthentication

    user = UserFactory()
    _api, token = _kept(user)
    kept_user, auth_token = TokenAuthentication().authenticate_credentials(token.encode())
    fresh = User.objects.get(pk=user.pk)
    assert kept_user.get_deferred_fields() == {"password"}
    for field in User._meta.concrete_fields:
        if field.attname != "password":
            assert getattr(kept_user, field.attname) == getattr(fresh, field.attname), field.attname
    assert auth_token.pk == AuthToken.objects.get().pk and auth_token.user_id == user.pk
    with django_assert_num_queries(1):
        assert kept_user.password == fresh.password


def test_the_cache_holds_neither_the_token_nor_the_password_hash(no_verify):
    user = UserFactory()
    _api, token = _kept(user)
    stored = AuthToken.objects.get()
    entries = cache._cache  # the tests' local-memory cache: key -> pickled value
    assert any("api-token-check:" in key for key in entries)
    for key, value in entries.items():
        assert token not in key and stored.token_key not in key
        held = repr(pickle.loads(value))  # noqa: S301 - this test's own cache
        assert token not in held and user.password not in held


# --- A token that goes is refused on the very next request ----------------------------


def _logout(api, user, settings):
    assert api.post("/api/v1/auth/logout/").status_code == 204


def _revoke(api, user, settings):
    api_token_revoke(token=AuthToken.objects.get(user=user))


def _revoke_all(api, user, settings):
    api_tokens_revoke_all(user=user)


def _dropped_past_the_limit(api, user, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 1}
    api_token_issue(user=user)


def _admin_bulk_delete(api, user, settings):
    AuthToken.objects.filter(user=user).delete()  # the admin's "delete selected"


def _admin_delete_one(api, user, settings):
    AuthToken.objects.get(user=user).delete()  # the admin's delete page


def _password_change(api, user, settings):
    user.set_password("a-long-and-unusual-passphrase")
    user.save()


@pytest.mark.parametrize(
    "goes",
    [_logout, _revoke, _revoke_all, _dropped_past_the_limit, _admin_bulk_delete, _admin_delete_one, _password_change],
)
def test_a_token_that_goes_is_refused_on_the_next_request(no_verify, settings, goes):
    user = UserFactory()
    api, _token = _kept(user)
    goes(api, user, settings)
    response = api.get(ME)
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


def test_a_deleted_person_is_refused_on_the_next_request(no_verify):
    user = UserFactory()
    api, _token = _kept(user)
    user.delete()  # the cascade deletes the tokens
    assert api.get(ME).status_code == 401


def test_an_expired_kept_token_is_refused_and_deleted(no_verify, monkeypatch):
    user = UserFactory()
    api, _token = _kept(user)
    expiry = AuthToken.objects.get().expiry
    monkeypatch.setattr(timezone, "now", lambda: expiry + timedelta(seconds=1))
    response = api.get(ME)
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"
    assert not AuthToken.objects.exists()


@pytest.mark.usefixtures("no_verify")
@pytest.mark.parametrize("verify", [False, True])
def test_auto_refresh_still_renews_a_kept_token(settings, monkeypatch, verify):
    settings.REST_KNOX = {**settings.REST_KNOX, "AUTO_REFRESH": True}
    settings.PERSON_CACHE_VERIFY = verify
    user = UserFactory()
    api, _token = _kept(user)
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert api.get(ME).status_code == 200
    assert AuthToken.objects.get().expiry == later + settings.REST_KNOX["TOKEN_TTL"]
    assert api.get(ME).status_code == 200  # the renewal forgot the kept check: no stale expiry served


# --- A change of the account is seen on the next request ------------------------------


def test_a_deactivated_account_is_refused_on_the_next_request(no_verify):
    user = UserFactory()
    api, _token = _kept(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = api.get(ME)
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


def test_a_saved_user_is_seen_on_the_next_request(no_verify):
    user = UserFactory(name="Before")
    api, _token = _kept(user)
    user.name, user.is_staff, user.time_zone = "After", True, "Asia/Kolkata"
    user.save()
    me = api.get(ME).json()
    assert (me["name"], me["is_staff"], me["time_zone"]) == ("After", True, "Asia/Kolkata")


def test_the_account_type_a_new_profile_updates_is_seen_on_the_next_request(no_verify, seeded_categories):
    user = UserFactory(account_type=AccountType.SEEKER)
    api, _token = _kept(user)
    provider_create(user=user, category=seeded_categories["financial_advisors"], business_name="Advice Co")
    assert User.objects.get(pk=user.pk).account_type == AccountType.PROVIDER
    assert api.get(ME).json()["account_type"] == AccountType.PROVIDER


def test_the_account_type_the_legacy_import_updates_is_seen_on_the_next_request(no_verify, seeded_categories, tmp_path):
    user = UserFactory(email="kim@example.com", account_type=AccountType.PROVIDER)
    ProviderFactory(user=user, category=seeded_categories["career_coaches"])
    api, _token = _kept(user)
    path = legacy_file(tmp_path / "phase1.sqlite3", customers=[customer(1, "kim@example.com", name="Kim Legacy")])
    report_of(path, tmp_path)
    assert User.objects.get(pk=user.pk).account_type == AccountType.BOTH
    assert api.get(ME).json()["account_type"] == AccountType.BOTH


def test_a_referral_over_the_limit_is_seen_on_the_next_request(settings):
    """Verified (PERSON_CACHE_VERIFY): the kept user row must equal the row after the update."""
    settings.REFERRAL_MONTHLY_LIMIT = 0
    referrer = UserFactory()
    person = UserFactory(referred_by=referrer)
    api, _token = _kept(person)
    assert not referrals._referral_within_limit(person=person, referrer=referrer)
    assert User.objects.get(pk=person.pk).referral_over_limit_at is not None
    assert api.get(ME).status_code == 200


def test_verification_catches_a_change_that_forgets_nothing():
    user = UserFactory(name="Before")
    api, _token = _kept(user)
    User.objects.filter(pk=user.pk).update(name="After")  # no service, no forget
    with pytest.raises(StaleAnswer):
        api.get(ME)
