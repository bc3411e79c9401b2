"""The session's user kept per person (imatch.session_auth): no user row read on a hit, and every
change that must log a session out does so on the very next request.

The tests run with `no_verify` (as production serves kept users): each fails if the forget or the
check it is about is removed.
"""

import pickle

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from imatch.session_auth import _secret_digest, session_user
from marketplace.models import User
from tests.marketplace.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_verify")]


@pytest.fixture
def person():
    return UserFactory(verified=True, account_type="seeker")


@pytest.fixture
def browser(person):
    client = Client()
    client.force_login(person)
    client.get(reverse("wallet"))  # keeps the session's user
    return client


def _logged_in(client) -> bool:
    return client.get(reverse("wallet")).status_code == 200


def test_a_kept_session_user_reads_no_row(browser):
    with CaptureQueriesContext(connection) as queries:
        assert _logged_in(browser)
    assert not [query for query in queries if '"users"' in query["sql"]]


def test_the_password_hash_never_goes_to_the_cache(browser, person):
    kept = cache.get(f"session-user:{_secret_digest()}:{person.pk}")
    assert kept is not None
    assert User.objects.get(pk=person.pk).password.encode() not in pickle.dumps(kept)


def test_a_password_changed_elsewhere_logs_the_session_out(browser, person):
    person.set_password("a-brand-new-passphrase-42")
    person.save()
    assert not _logged_in(browser)


def test_a_deactivated_account_is_logged_out_at_once(browser, person):
    person.is_active = False
    person.save(update_fields=["is_active"])
    assert not _logged_in(browser)


def test_a_new_secret_key_logs_every_session_out(browser):
    with override_settings(SECRET_KEY="a-rotated-secret-key-with-no-fallback-0123456789", SECRET_KEY_FALLBACKS=[]):
        assert not _logged_in(browser)


def test_a_tampered_session_hash_is_refused(browser):
    session = browser.session
    session["_auth_user_hash"] = "0" * 64
    session.save()
    assert not _logged_in(browser)


def test_a_name_change_is_shown_at_once(browser, person):
    person.name = "Someone Renamed"
    person.save(update_fields=["name"])
    assert b"Someone Renamed" in browser.get(reverse("wallet")).content


def test_the_kept_user_still_answers_whether_its_password_is_usable(browser, person, django_assert_num_queries):
    request = browser.get(reverse("wallet")).wsgi_request
    with django_assert_num_queries(0):
        user = session_user(request)
        assert user.pk == person.pk and user.has_usable_password()
