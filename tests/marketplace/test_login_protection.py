"""The log-in page and the password-reset form cannot be used to guess passwords or probe emails."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.marketplace.factories import PASSWORD, UserFactory

NEW_PASSWORD = "a-long-and-unusual-passphrase"


def _log_in(client, email: str, password: str = "wrong", **extra):  # noqa: S107 - a wrong guess
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def test_the_login_locks_an_email_after_repeated_failures_from_any_address(client, db, settings):
    UserFactory(email="pat@example.com")
    answers = [
        _log_in(client, "PAT@example.com" if n % 2 else "pat@example.com", REMOTE_ADDR=f"203.0.113.{n}")
        for n in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert [answer.status_code for answer in answers[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    locked = answers[-1]
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "<title>Log-in paused" in page and "Try again in 15 minutes" in page
    assert 'href="/password-reset/"' in page

    right_password = _log_in(client, "pat@example.com", PASSWORD)
    assert right_password.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("dashboard")).status_code == 302


def test_another_email_can_still_log_in(client, db, settings):
    UserFactory(email="pat@example.com")
    UserFactory(email="sam@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, "pat@example.com")
    response = _log_in(client, "sam@example.com", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")


def test_the_lockout_page_is_the_same_for_an_email_without_an_account(client, db, settings):
    UserFactory(email="pat@example.com")
    pages = {}
    for email in ("pat@example.com", "nobody@example.com"):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _log_in(client, email)
        response = _log_in(client, email)
        pages[email] = (response.status_code, response.content.decode().replace(email, "EMAIL"))
    assert pages["pat@example.com"] == pages["nobody@example.com"]
    assert pages["pat@example.com"][0] == 429


def test_failures_below_the_limit_still_show_the_form_and_a_success_logs_in(client, db, settings):
    UserFactory(email="pat@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert "correct" in _log_in(client, "pat@example.com").content.decode()
    assert _log_in(client, "pat@example.com", PASSWORD).status_code == 302


def _reset(client, email: str, **extra):
    return client.post(reverse("password_reset"), {"email": email}, **extra)


def test_password_reset_emails_are_limited_per_email_with_the_same_page(client, db, settings):
    UserFactory(email="pat@example.com")
    answers = [_reset(client, "pat@example.com", REMOTE_ADDR=f"203.0.113.{n}") for n in range(4)]
    assert all(a.status_code == 302 and a["Location"] == reverse("password_reset_done") for a in answers)
    assert len(mail.outbox) == settings.PASSWORD_RESET_LIMIT_PER_EMAIL == 3
    assert _reset(client, "PAT@Example.com")["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 3
    page = client.get(reverse("password_reset_done")).content.decode()
    assert "If an account uses that address" in page


def test_password_reset_requests_are_limited_per_client_address(client, db, settings):
    settings.PASSWORD_RESET_LIMIT_PER_IP = 2
    people = [UserFactory(email=f"p{n}@example.com") for n in range(3)]
    answers = [_reset(client, person.email, REMOTE_ADDR="203.0.113.9") for person in people]
    assert all(a["Location"] == reverse("password_reset_done") for a in answers)
    assert [message.to for message in mail.outbox] == [["p0@example.com"], ["p1@example.com"]]
    # A forged X-Forwarded-For does not make a new client; another socket address does.
    _reset(client, "p2@example.com", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert len(mail.outbox) == 2
    _reset(client, "p2@example.com", REMOTE_ADDR="203.0.113.10")
    assert [message.to for message in mail.outbox][-1] == ["p2@example.com"]


@pytest.mark.parametrize("email", ["nobody@example.com", "pat@example.com"])
def test_password_reset_answers_the_same_for_unknown_and_known_emails(client, db, email):
    UserFactory(email="pat@example.com")
    response = _reset(client, email)
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")


def test_the_login_page_is_throttled_per_client_address(client, db, settings):
    """Many emails from one address (credential stuffing) meet the per-address limit; a forged
    X-Forwarded-For does not make a new client, another socket address does."""
    settings.LOGIN_ATTEMPTS_PER_MINUTE = 5
    UserFactory(email="pat@example.com")
    answers = [
        _log_in(client, f"guess{n}@example.com", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        for n in range(6)
    ]
    assert [answer.status_code for answer in answers] == [200] * 5 + [429]
    assert "Too many log-in attempts from your network" in answers[-1].content.decode()
    assert _log_in(client, "pat@example.com", PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert _log_in(client, "pat@example.com", PASSWORD, REMOTE_ADDR="203.0.113.10").status_code == 302


def test_a_password_reset_lifts_the_lockout_of_that_email_only(client, db, settings):
    UserFactory(email="pat@example.com")
    for email in ("pat@example.com", "sam@example.com"):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _log_in(client, email)
    _reset(client, "pat@example.com")
    link = re.search(r"https://imatch\.test(/password-reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert _log_in(client, "pat@example.com", NEW_PASSWORD).status_code == 302
    client.logout()
    assert _log_in(client, "sam@example.com").status_code == 429
