"""`manage.py invite_v1`: each Phase 1 person gets one "account is ready" email with a one-time link (issue 10)."""

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import CommandError, call_command
from django.utils import timezone

from marketplace.errors import NotImported
from marketplace.legacy.invitations import invitation_tokens, user_invite
from marketplace.models import User
from tests.marketplace.factories import PASSWORD, UserFactory
from tests.marketplace.test_import_v1 import customer, legacy_file, provider, run_import

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://\S+/welcome/\S+/")


@pytest.fixture
def imported(seeded_categories, tmp_path):
    """A customer with a need, one without, and an advisor, imported from a Phase 1 file."""
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[customer(1, "need@example.com"), customer(2, "noneed@example.com", needs_description="")],
        providers=[provider(1, "advisor@example.com")],
    )
    run_import(path)
    return {user.email: user for user in User.objects.filter(imported_at__isnull=False)}


def invite(*args: str) -> str:
    out = StringIO()
    call_command("invite_v1", *args, stdout=out, stderr=out)
    return out.getvalue()


def sent_to() -> dict[str, str]:
    return {message.to[0]: message.body for message in mail.outbox}


def test_everyone_imported_is_invited_once_with_their_first_step(imported):
    signed_up = UserFactory(email="signed-up@example.com")  # chose a password at sign-up: not invited
    output = invite()
    bodies = sent_to()
    assert set(bodies) == {"need@example.com", "noneed@example.com", "advisor@example.com"}
    assert {message.subject for message in mail.outbox} == {"Your I MATCH account is ready"}
    assert "Add your license number" in bodies["advisor@example.com"]
    assert "As a Phase 1 advisor you are listed and matched until" in bodies["advisor@example.com"]
    assert "Tell us what you need" in bodies["noneed@example.com"]
    assert "See your matches" in bodies["need@example.com"]
    assert all(LINK.search(body) for body in bodies.values())
    assert "[##############################] 3/3" in output
    assert "Invited 3 of 3; 0 failed" in output
    assert User.objects.filter(imported_at__isnull=False, invited_at__isnull=False).count() == 3
    assert User.objects.get(pk=signed_up.pk).invited_at is None

    mail.outbox.clear()
    assert "Nobody to invite" in invite()  # the second run sends nothing
    assert mail.outbox == []


def test_dry_run_and_limit(imported):
    assert "3 people would be invited" in invite("--dry-run")
    assert mail.outbox == [] and not User.objects.filter(invited_at__isnull=False).exists()
    invite("--limit", "1")
    assert len(mail.outbox) == 1
    invite("--limit", "5")
    assert len(mail.outbox) == 3
    with pytest.raises(CommandError, match="at least 1"):
        invite("--limit", "0")


def test_resend_goes_only_to_those_who_never_logged_in(imported):
    invite()
    User.objects.filter(email="need@example.com").update(last_login=timezone.now())
    mail.outbox.clear()
    invite("--resend")
    assert set(sent_to()) == {"noneed@example.com", "advisor@example.com"}


class FailingForOneBackend(EmailBackend):
    """The mail server refuses one address."""

    def send_messages(self, messages):
        import smtplib

        for message in messages:
            if message.to == ["noneed@example.com"]:
                raise smtplib.SMTPRecipientsRefused({"noneed@example.com": (550, b"no such user")})
        return super().send_messages(messages)


def test_a_mail_server_error_for_one_never_stops_the_others_and_is_reported(imported, settings):
    settings.EMAIL_BACKEND = "tests.marketplace.test_invite_v1.FailingForOneBackend"
    out = StringIO()
    with pytest.raises(CommandError, match="1 invitations could not be sent"):
        call_command("invite_v1", stdout=out, stderr=out)
    failed = User.objects.get(email="noneed@example.com")
    assert f"user {failed.pk}: not sent: SMTPRecipientsRefused" in out.getvalue()
    assert "Invited 2 of 3; 1 failed" in out.getvalue()
    assert set(sent_to()) == {"need@example.com", "advisor@example.com"}
    assert failed.invited_at is None  # the next run tries again

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    invite()
    assert set(sent_to()) == {"noneed@example.com"}


def test_only_imported_people_can_be_invited(db):
    with pytest.raises(NotImported):
        user_invite(user=UserFactory())


def _link_for(email: str) -> str:
    """The emailed link, as a path on the test server."""
    return "/" + LINK.search(sent_to()[email]).group(0).split("://", 1)[1].split("/", 1)[1]


@pytest.mark.parametrize(
    ("email", "lands_on"),
    [
        ("advisor@example.com", "/providers/"),
        ("noneed@example.com", "/seekers/new/"),
        ("need@example.com", "/matches/"),
    ],
)
def test_the_link_sets_the_password_logs_in_and_leads_to_the_next_step(imported, client, email, lands_on):
    invite()
    link = _link_for(email)
    form_page = client.get(link, follow=True)
    assert b"Your I MATCH account is ready" in form_page.content
    set_password_url = form_page.redirect_chain[-1][0]
    response = client.post(set_password_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(lands_on)
    person = User.objects.get(email=email)
    assert person.check_password(PASSWORD)
    next_page = client.get(response["Location"])
    assert next_page.status_code == 200 and "Welcome to I MATCH" in next_page.content.decode()  # logged in
    assert next_page.wsgi_request.user == person

    client.logout()
    used = client.get(link, follow=True)
    assert b"no longer valid" in used.content  # the link works once


def test_the_link_expires(imported, client, settings, monkeypatch):
    invite()
    link = _link_for("need@example.com")
    later = invitation_tokens._now() + timezone.timedelta(days=settings.V1_INVITE_VALID_DAYS, hours=1)
    monkeypatch.setattr(invitation_tokens, "_now", lambda: later)
    assert b"no longer valid" in client.get(link, follow=True).content
