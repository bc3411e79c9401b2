"""A deactivated account is gone from the marketplace: not listed, not matched, given no matches, no login.

Operators deactivate and reactivate accounts through `user_deactivate` / `user_reactivate`
(admin action, staff API); each change is recorded, and every worker's cached provider
index sees it on its next match request (the two-process tests are in
test_user_deactivation_workers.py).
"""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from imatch.errors import DomainError, PermissionDenied
from marketplace import selectors
from marketplace.errors import AccountInactive, ErrorCode, InvalidTransition, ProviderUnavailable
from marketplace.models import AccountAction, AccountStatusChange, Match, MatchStatus, User
from marketplace.services import matches, profiles
from tests.conftest import client_for
from tests.marketplace.factories import PASSWORD, UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


def deactivate(user: User, operator: User, reason: str = "Fraud report #12") -> User:
    return profiles.user_deactivate(user=user, operator=operator, reason=reason)


# --- Matching ---------------------------------------------------------------------------


def test_a_warm_pool_stops_matching_a_deactivated_provider_at_once(operator):
    category = make_category(matches_per_request=2)
    leaving, staying = make_provider(category), make_provider(category)
    first = make_seeker(category)
    assert {m.provider_id for m in matches.match_run_for_seeker(seeker=first)} == {leaving.pk, staying.pk}

    deactivate(leaving.user, operator)  # the pool of this process is warm: it must notice

    second = make_seeker(category)
    assert [m.provider_id for m in matches.match_run_for_seeker(seeker=second)] == [staying.pk]
    assert not selectors.provider_directory().filter(pk=leaving.pk).exists()


def test_open_matches_of_a_deactivated_provider_are_closed_and_seekers_get_the_next_provider(
    operator, django_capture_on_commit_callbacks
):
    category = make_category(matches_per_request=1)
    leaving = make_provider(category, pricing_min=150, pricing_max=200)
    introduced_seeker, suggested_seeker = make_seeker(category), make_seeker(category)
    [introduced] = matches.match_run_for_seeker(seeker=introduced_seeker)
    [suggested] = matches.match_run_for_seeker(seeker=suggested_seeker)
    assert introduced.provider_id == suggested.provider_id == leaving.pk
    matches.match_introduce(match=introduced, user=introduced_seeker.user)
    accepted_seeker = make_seeker(category)
    [accepted] = matches.match_run_for_seeker(seeker=accepted_seeker)
    matches.match_introduce(match=accepted, user=accepted_seeker.user)
    matches.match_accept(match=accepted, user=leaving.user)
    other = make_provider(category)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        deactivate(leaving.user, operator)

    for match in (introduced, suggested):
        match.refresh_from_db()
        assert match.status == MatchStatus.DECLINED and match.declined_by == operator
        assert Match.objects.get(seeker=match.seeker, status=MatchStatus.SUGGESTED).provider_id == other.pk
    accepted.refresh_from_db()
    assert accepted.status == MatchStatus.ACCEPTED  # a client relationship: left to the operator
    # The seeker who had been introduced is told; the one with a mere suggestion had told nobody.
    assert [m.to for m in mail.outbox] == [[introduced_seeker.user.email]]
    assert "no longer on I MATCH" in mail.outbox[0].body


def test_a_deactivated_seeker_gets_no_matches_and_their_leads_are_closed(operator, django_capture_on_commit_callbacks):
    category = make_category(matches_per_request=1)
    provider = make_provider(category)
    leaving, staying = make_seeker(category), make_seeker(category)
    [lead] = matches.match_run_for_seeker(seeker=leaving)
    matches.match_introduce(match=lead, user=leaving.user)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        deactivate(leaving.user, operator)

    lead.refresh_from_db()
    assert lead.status == MatchStatus.DECLINED
    assert [m.to for m in mail.outbox] == [[provider.user.email]]  # the provider is told, nobody is re-matched
    assert list(selectors.seekers_with_free_slots(category=category)) == [staying]
    run = matches.match_run_for_category(category=category)
    assert (run.seekers, run.matches) == (1, 1)
    with pytest.raises(AccountInactive):
        matches.match_run_for_seeker(seeker=leaving)
    assert not Match.objects.filter(seeker=leaving, status=MatchStatus.SUGGESTED).exists()


def test_an_introduction_to_a_provider_whose_account_is_off_is_refused():
    """Defence in depth: even if an account were switched off around the service, no introduction."""
    category = make_category(matches_per_request=1)
    provider = make_provider(category)
    seeker = make_seeker(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    User.objects.filter(pk=provider.user_id).update(is_active=False)
    with pytest.raises(ProviderUnavailable, match="no longer on I MATCH"):
        matches.match_introduce(match=match, user=seeker.user)
    match.refresh_from_db()
    assert match.status == MatchStatus.SUGGESTED


def test_reactivation_lists_and_matches_again_and_both_changes_are_recorded(operator):
    category = make_category(matches_per_request=1)
    provider = make_provider(category)
    deactivate(provider.user, operator, reason="  Chargebacks  ")
    assert matches.match_run_for_seeker(seeker=make_seeker(category)) == []

    user = profiles.user_reactivate(user=provider.user, operator=operator, reason="Cleared by support")

    assert user.is_active and User.objects.get(pk=user.pk).is_active
    assert selectors.provider_directory().filter(pk=provider.pk).exists()
    [match] = matches.match_run_for_seeker(seeker=make_seeker(category))
    assert match.provider_id == provider.pk
    history = list(AccountStatusChange.objects.filter(user=user).order_by("id"))
    assert [(h.action, h.operator, h.reason) for h in history] == [
        (AccountAction.DEACTIVATED, operator, "Chargebacks"),
        (AccountAction.REACTIVATED, operator, "Cleared by support"),
    ]
    assert all(h.created_at is not None for h in history)


# --- Refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "target", "reason", "error", "code"),
    [
        ("person", "person", "Spam", PermissionDenied, "permission_denied"),  # not an operator
        ("staff", "staff", "Left the company", PermissionDenied, "permission_denied"),  # an operator: superusers only
        ("superuser", "self", "Oops", DomainError, ErrorCode.SELF_DEACTIVATION),
        ("superuser", "person", "   ", DomainError, "required"),
        ("superuser", "person", "x" * 1001, DomainError, "too_long"),
        ("superuser", "inactive", "Again", InvalidTransition, ErrorCode.INVALID_TRANSITION),
    ],
)
def test_deactivation_refusals_change_nothing(who, target, reason, error, code):
    operators = {
        "person": UserFactory(),
        "staff": UserFactory(is_staff=True),
        "superuser": UserFactory(is_staff=True, is_superuser=True),
    }
    operator = operators[who]
    user = {
        "person": UserFactory(),
        "staff": UserFactory(is_staff=True),
        "self": operator,
        "inactive": UserFactory(is_active=False),
    }[target]
    with pytest.raises(error) as refused:
        deactivate(user, operator, reason)
    assert refused.value.code == code
    assert User.objects.get(pk=user.pk).is_active == (target != "inactive")
    assert not AccountStatusChange.objects.exists()


def test_reactivation_refusals_change_nothing(operator):
    active = UserFactory()
    with pytest.raises(InvalidTransition):
        profiles.user_reactivate(user=active, operator=operator, reason="Why not")
    inactive = UserFactory(is_active=False)
    with pytest.raises(PermissionDenied):
        profiles.user_reactivate(user=inactive, operator=UserFactory(), reason="Let me in")
    with pytest.raises(DomainError) as blank:
        profiles.user_reactivate(user=inactive, operator=operator, reason="")
    assert blank.value.code == "required" and blank.value.field == "reason"
    assert not User.objects.get(pk=inactive.pk).is_active
    assert not AccountStatusChange.objects.exists()


# --- Login, sessions and API tokens (Django and DRF refuse inactive users) -------------


def test_a_deactivated_person_cannot_log_in_and_their_session_ends(client, operator):
    person = UserFactory(email="pat@example.com")
    session = Client()
    session.force_login(person)
    assert session.get(reverse("dashboard")).status_code == 200

    deactivate(person, operator)

    assert session.get(reverse("dashboard")).status_code == 302  # logged out: back to the login page
    refused = client.post(reverse("login"), {"username": "pat@example.com", "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    profiles.user_reactivate(user=person, operator=operator, reason="Appeal accepted")
    welcomed = client.post(reverse("login"), {"username": "pat@example.com", "password": PASSWORD})
    assert welcomed.status_code == 302 and client.session["_auth_user_id"] == str(person.pk)


def test_a_deactivated_persons_api_token_is_refused(api_client, operator):
    person = UserFactory(email="dana@example.com")
    api = client_for(person)
    assert api.get("/api/v1/me/").status_code == 200

    deactivate(person, operator)

    refused = api.get("/api/v1/me/")
    assert refused.status_code == 401 and refused.json()["code"] == "authentication_failed"
    token = api_client.post("/api/v1/auth/token/", {"email": "dana@example.com", "password": PASSWORD}, format="json")
    assert token.status_code == 400 and "token" not in token.json()


# --- The staff API ----------------------------------------------------------------------


def test_operators_deactivate_and_reactivate_through_the_api(operator, operator_api):
    category = make_category()
    provider = make_provider(category)

    response = operator_api.post(
        f"/api/v1/users/{provider.user_id}/deactivate/", {"reason": "Fake reviews"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == provider.user_id and body["is_active"] is False
    assert [(c["action"], c["operator"], c["reason"]) for c in body["status_changes"]] == [
        ("deactivated", operator.pk, "Fake reviews")
    ]
    assert operator_api.get(f"/api/v1/providers/{provider.pk}/").status_code == 200  # staff still see the profile
    assert Client().get(f"/providers/{provider.pk}/").status_code == 404

    again = operator_api.post(f"/api/v1/users/{provider.user_id}/reactivate/", {"reason": "Resolved"}, format="json")
    assert again.status_code == 200 and again.json()["is_active"] is True
    assert Client().get(f"/providers/{provider.pk}/").status_code == 200


def test_the_staff_api_refusals(operator, operator_api, user, user_api):
    url = f"/api/v1/users/{user.pk}/deactivate/"
    assert user_api.post(f"/api/v1/users/{operator.pk}/deactivate/", {"reason": "x"}, format="json").status_code == 403
    assert operator_api.post("/api/v1/users/999999/deactivate/", {"reason": "x"}, format="json").status_code == 404
    blank = operator_api.post(url, {"reason": " "}, format="json")
    assert blank.status_code == 400 and blank.json()["code"] == "required" and "reason" in blank.json()["fields"]
    missing = operator_api.post(url, {}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"
    itself = operator_api.post(f"/api/v1/users/{operator.pk}/deactivate/", {"reason": "x"}, format="json")
    assert itself.status_code == 400 and itself.json()["code"] == "self_deactivation"
    assert operator_api.post(url, {"reason": "Spam"}, format="json").status_code == 200
    twice = operator_api.post(url, {"reason": "Spam"}, format="json")
    assert twice.status_code == 400 and twice.json()["code"] == "invalid_transition"
    active = operator_api.post(f"/api/v1/users/{operator.pk}/reactivate/", {"reason": "x"}, format="json")
    assert active.status_code == 400 and active.json()["code"] == "invalid_transition"


def test_staff_cannot_run_matching_for_a_deactivated_seeker(operator, operator_api):
    seeker = make_seeker(make_category())
    deactivate(seeker.user, operator)
    refused = operator_api.post(f"/api/v1/seekers/{seeker.pk}/match/")
    assert refused.status_code == 400 and refused.json()["code"] == "account_inactive"
    assert not Match.objects.exists()


def test_the_schema_documents_the_staff_operations():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for verb, codes in (
        ("deactivate", {"invalid_transition", "self_deactivation", "required", "too_long", "invalid"}),
        ("reactivate", {"invalid_transition", "required", "too_long", "invalid"}),
    ):
        operation = schema["paths"][f"/api/v1/users/{{id}}/{verb}/"]["post"]
        assert {"200", "400", "401", "403", "404"} <= set(operation["responses"])
        description = operation["responses"]["400"]["description"]
        assert {code.strip(" `.") for code in description.split("Codes: ")[1].split(",")} >= codes
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "AccountChangeRequest"
        )


# --- The Users admin --------------------------------------------------------------------


@pytest.fixture
def admin_client(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def test_the_users_admin_deactivates_with_a_reason_and_shows_the_history(admin_client, operator):
    category = make_category()
    provider = make_provider(category)
    url = "/admin/marketplace/user/"
    selected = {"action": "deactivate_accounts", "_selected_action": [provider.user_id]}

    asked = admin_client.post(url, selected)
    assert asked.status_code == 200 and "Reason (kept in the account" in asked.content.decode()
    assert User.objects.get(pk=provider.user_id).is_active  # nothing happens before the reason is given
    no_reason = admin_client.post(url, {**selected, "apply": "1", "reason": ""})
    assert no_reason.status_code == 200 and "This field is required" in no_reason.content.decode()

    done = admin_client.post(url, {**selected, "apply": "1", "reason": "Identity theft"}, follow=True)

    assert "Deactivated 1 account." in done.content.decode()
    assert not User.objects.get(pk=provider.user_id).is_active
    assert not selectors.provider_directory().filter(pk=provider.pk).exists()
    page = admin_client.get(f"/admin/marketplace/user/{provider.user_id}/change/").content.decode()
    assert "Identity theft" in page and operator.email in page
    assert 'name="is_active"' not in page  # read-only: only the actions change it

    back = admin_client.post(
        url, {"action": "reactivate_accounts", "_selected_action": [provider.user_id], "apply": "1", "reason": "OK"}
    )
    assert back.status_code == 302 and User.objects.get(pk=provider.user_id).is_active


def test_the_users_admin_shows_refusals(admin_client, operator):
    selected = {"action": "deactivate_accounts", "_selected_action": [operator.pk], "apply": "1", "reason": "Me"}
    page = admin_client.post("/admin/marketplace/user/", selected, follow=True).content.decode()
    assert "You cannot deactivate your own account." in page
    assert User.objects.get(pk=operator.pk).is_active


def test_the_user_change_form_cannot_switch_the_account_off(admin_client):
    person = UserFactory()
    form = {
        "email": person.email,
        "name": person.name,
        "is_active": "",  # a crafted post: the field is read-only, so it is ignored
        "status_changes-TOTAL_FORMS": "0",
        "status_changes-INITIAL_FORMS": "0",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
    }
    response = admin_client.post(f"/admin/marketplace/user/{person.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=person.pk).is_active
