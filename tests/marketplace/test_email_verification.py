"""Email verification: the link sent at sign-up (web and API), the page that verifies it, resending,
and the referral awards that wait for it."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail, signing
from django.test import override_settings
from django.urls import reverse

from currency.models import PotTransaction
from marketplace.errors import VerificationLinkExpired, VerificationLinkInvalid
from marketplace.models import User
from marketplace.services import engagements, matches, profiles, verification
from tests.conftest import client_for
from tests.currency.factories import balance_of
from tests.marketplace.factories import PASSWORD, UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-long-and-unusual-passphrase"
NEEDS = "Help me plan for retirement."


def _link_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/verify-email/\S+/)", message.body).group(1)


def _token(message) -> str:
    return _link_path(message).split("/")[2]


def _referral_rows(referrer) -> list[tuple[str, int]]:
    rows = PotTransaction.objects.filter(user=referrer, category="referral").order_by("id")
    return [(row.idempotency_key, row.amount) for row in rows]


# --- Sign-up sends the link ----------------------------------------------------------------


def test_web_sign_up_emails_a_verification_link_that_verifies_the_address(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("signup"), {"email": "Pat@Example.com", "name": "Pat", "password": GOOD_PASSWORD}, follow=True
        )
    assert "We sent a link to pat@example.com" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["pat@example.com"] and message.subject == "I MATCH: please verify your email address"
    assert message.body.startswith("Hello Pat,") and f"works for {settings.EMAIL_VERIFICATION_MAX_AGE_DAYS} days" in (
        message.body
    )
    assert "Please verify your email address" in client.get(reverse("dashboard")).content.decode()

    page = client.get(_link_path(message))
    assert page.status_code == 200
    assert "Your email address is verified" in page.content.decode()
    assert User.objects.get(email="pat@example.com").email_verified_at is not None
    assert "Please verify your email address" not in client.get(reverse("dashboard")).content.decode()
    again = client.get(_link_path(message)).content.decode()  # opened twice: still fine, said so
    assert "was verified already" in again


def test_api_registration_emails_the_link_and_the_api_verifies_it(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/auth/register/",
            {"email": "dana@example.com", "password": GOOD_PASSWORD, "name": "Dana"},
            format="json",
        )
    assert response.status_code == 201
    [message] = mail.outbox
    assert message.to == ["dana@example.com"]
    me = client_for(User.objects.get(email="dana@example.com"))
    assert me.get("/api/v1/me/").json()["email_verified_at"] is None
    verified = api_client.post("/api/v1/auth/verify-email/", {"token": _token(message)}, format="json")
    assert verified.status_code == 200 and verified.json()["newly_verified"] is True
    assert me.get("/api/v1/me/").json()["email_verified_at"] is not None
    bad = api_client.post("/api/v1/auth/verify-email/", {"token": "nonsense"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "verification_link_invalid"


def test_a_refused_sign_up_sends_nothing(client, django_capture_on_commit_callbacks):
    UserFactory(email="taken@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signup"), {"email": "taken@example.com", "name": "Pat", "password": GOOD_PASSWORD})
    assert mail.outbox == []


# --- Expired and invalid links -------------------------------------------------------------


def test_an_expired_link_explains_and_offers_a_new_one(client, django_capture_on_commit_callbacks):
    person = UserFactory()
    token = verification.email_verification_token(user=person)
    later = signing.time.time() + timedelta(days=settings.EMAIL_VERIFICATION_MAX_AGE_DAYS, minutes=1).total_seconds()
    with mock.patch("django.core.signing.time.time", return_value=later):
        with pytest.raises(VerificationLinkExpired):
            verification.email_verify(token=token)
        anonymous = client.get(reverse("verify-email", args=[token]))
        assert anonymous.status_code == 400
        page = anonymous.content.decode()
        assert "This link has expired" in page and "Log in, then ask for a new link" in page
        client.force_login(person)
        page = client.get(reverse("verify-email", args=[token])).content.decode()
    assert "Send me a new link" in page and reverse("verify-email-resend") in page
    person.refresh_from_db()
    assert person.email_verified_at is None
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("verify-email-resend"), follow=True)
    assert f"We sent a new verification link to {person.email}" in response.content.decode()
    [message] = mail.outbox
    assert "Your email address is verified" in client.get(_link_path(message)).content.decode()


@pytest.mark.parametrize("tamper", ["cut", "other_email", "garbage"])
def test_an_invalid_link_explains_and_verifies_nothing(client, tamper):
    person = UserFactory()
    token = verification.email_verification_token(user=person)
    if tamper == "cut":
        token = token[:-3]
    elif tamper == "other_email":
        User.objects.filter(pk=person.pk).update(email="changed@example.com")
    else:
        token = "not-a-token"
    with pytest.raises(VerificationLinkInvalid):
        verification.email_verify(token=token)
    response = client.get(reverse("verify-email", args=[token]))
    assert response.status_code == 400 and "This link does not work" in response.content.decode()
    person.refresh_from_db()
    assert person.email_verified_at is None


def test_resend_is_refused_once_verified_and_needs_a_login(client, user_api):
    verified = UserFactory(verified=True)
    client.force_login(verified)
    response = client.post(reverse("verify-email-resend"), follow=True)
    assert "already verified" in response.content.decode() and mail.outbox == []
    assert client.get(reverse("verify-email-resend")).status_code == 405
    client.logout()
    assert client.post(reverse("verify-email-resend")).status_code == 302  # to the login page
    refused = client_for(verified).post("/api/v1/me/verify-email/resend/")
    assert refused.status_code == 400 and refused.json()["code"] == "already_verified"
    assert user_api.post("/api/v1/me/verify-email/resend/").status_code == 202


@override_settings(EMAIL_VERIFICATION_SENDS_PER_HOUR=2)
def test_resending_links_is_limited_per_person_on_the_web_and_the_api(client, django_capture_on_commit_callbacks):
    person = UserFactory()
    client.force_login(person)
    resend = reverse("verify-email-resend")
    with django_capture_on_commit_callbacks(execute=True):
        assert "We sent a new verification link" in client.post(resend, follow=True).content.decode()
        assert client_for(person).post("/api/v1/me/verify-email/resend/").status_code == 202
        assert "several verification links this hour" in client.post(resend, follow=True).content.decode()
        refused = client_for(person).post("/api/v1/me/verify-email/resend/")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert len(mail.outbox) == 2
    client.force_login(UserFactory())  # someone else's limit is their own
    assert "We sent a new verification link" in client.post(resend, follow=True).content.decode()


# --- Referral awards wait for the referred person's verified email -----------------------


def test_a_referred_person_who_verifies_with_only_a_profile_pays_the_referrer_nothing(seeded_categories):
    """Referral awards wait for the referred person's first paid engagement, not for a profile."""
    referrer = UserFactory()
    referred = UserFactory(referred_by=referrer)
    profiles.seeker_create(user=referred, category=seeded_categories["financial_advisors"], needs_description=NEEDS)
    token = verification.email_verification_token(user=referred)
    assert verification.email_verify(token=token).newly is True
    referred.refresh_from_db()
    profiles.provider_create(user=referred, category=seeded_categories["financial_advisors"], business_name="Two")
    assert _referral_rows(referrer) == []


def test_the_first_engagement_referral_award_waits_for_verification_too():
    referrer = UserFactory()
    category = make_category()
    seeker = make_seeker(category, user=UserFactory(referred_by=referrer))
    make_provider(category)
    match = matches.match_run_for_seeker(seeker=seeker)[0]
    matches.match_introduce(match=match, user=seeker.user)
    matches.match_accept(match=match, user=match.provider.user)
    engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="5000")
    engagement = engagements.engagement_confirm(engagement=engagement, user=match.provider.user)
    operator = UserFactory(is_staff=True)
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    engagements.engagement_mark_paid(engagement=engagement, operator=operator)  # the award is due now: it waits
    assert balance_of(referrer) == 0
    verification.email_verify(token=verification.email_verification_token(user=seeker.user))
    keys = dict(_referral_rows(referrer))
    assert keys == {
        f"award:referral_profile_created:user:{seeker.user_id}": 50,
        f"award:referral_first_engagement:user:{seeker.user_id}": 200,
    }
    first_engagement = PotTransaction.objects.get(idempotency_key__startswith="award:referral_first_engagement")
    assert (first_engagement.reference_type, first_engagement.reference_id) == ("engagement", engagement.pk)


def test_a_cancelled_engagement_pays_no_waiting_referral_award():
    referrer = UserFactory()
    category = make_category()
    seeker = make_seeker(category, user=UserFactory(referred_by=referrer))
    make_provider(category)
    match = matches.match_run_for_seeker(seeker=seeker)[0]
    matches.match_introduce(match=match, user=seeker.user)
    matches.match_accept(match=match, user=match.provider.user)
    engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="100")
    engagement = engagements.engagement_confirm(engagement=engagement, user=match.provider.user)
    engagements.engagement_cancel(engagement=engagement, user=seeker.user, reason="Fell through")  # a request
    engagements.engagement_cancel(engagement=engagement, user=match.provider.user, reason="Agreed")  # cancelled
    verification.email_verify(token=verification.email_verification_token(user=seeker.user))
    assert _referral_rows(referrer) == []


def test_logging_in_with_the_factory_password_still_works_for_unverified_people(client):
    """Verification gates redemptions and referral awards, not the account itself."""
    person = UserFactory()
    response = client.post(reverse("login"), {"username": person.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
