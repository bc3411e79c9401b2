"""The `referrals` table: one row per referred person, its steps, the awards linked to it, refusals.

Money tests (awards exactly once, linked to their ledger rows): also run on PostgreSQL.
"""

import importlib
import itertools

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from currency.models import PotTransaction
from currency.services import pot_award_reverse
from imatch.errors import DomainError
from marketplace import selectors
from marketplace.errors import ErrorCode
from marketplace.models import Referral, ReferralStatus, User
from marketplace.services import engagements, matches, profiles, verification
from marketplace.services.referrals import referral_cause, referral_code_use
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-long-and-unusual-passphrase"
_names = itertools.count()


def _register(email: str, code: str | None) -> User:
    return profiles.user_register(email=email, password=GOOD_PASSWORD, name="Friend", referral_code=code)


def _engagement(person: User, *, confirm: bool = True):
    """`person` (as a seeker, a profile in a new category) reports a deal with a new provider, confirmed."""
    category = make_category(name=f"planners{next(_names)}")
    seeker = make_seeker(category, user=person)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=person)
    matches.match_accept(match=match, user=match.provider.user)
    engagement = engagements.engagement_report(match=match, user=person, deal_value_usd="5000.00")
    if confirm:
        engagement = engagements.engagement_confirm(engagement=engagement, user=match.provider.user)
    return engagement


def _pay(engagement, operator):
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    return engagements.engagement_mark_paid(engagement=engagement, operator=operator)


def test_sign_up_with_a_code_records_the_referral_and_each_step_once(operator):
    referrer = UserFactory(verified=True)
    friend = _register("friend@example.com", referrer.referral_code.lower())
    referral = Referral.objects.get(referred=friend)
    assert (referral.referrer, referral.code, referral.status) == (referrer, referrer.referral_code, "signed_up")
    assert referral.signed_up_at == friend.date_joined and referral.activated_at is None

    engagement = _engagement(friend, confirm=False)  # the first profile activates
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACTIVATED and referral.activated_at is not None
    activated_at = referral.activated_at
    make_seeker(make_category(name="other"), user=friend)  # a second profile changes nothing
    referral.refresh_from_db()
    assert referral.activated_at == activated_at

    engagements.engagement_confirm(engagement=engagement, user=engagement.provider.user)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ENGAGED and referral.engaged_at is not None
    assert referral.activation_award is None and referral.engagement_award is None  # nothing paid yet


def test_a_sign_up_without_a_code_records_no_referral():
    person = _register("alone@example.com", None)
    assert not Referral.objects.filter(referred=person).exists()


def test_paid_commission_links_the_referrers_awards_to_the_referral_exactly_once(operator):
    referrer = UserFactory(verified=True)
    friend = _register("friend@example.com", referrer.referral_code)
    verification.email_verify(token=verification.email_verification_token(user=friend))
    engagement = _pay(_engagement(friend), operator)
    referral = Referral.objects.select_related("activation_award", "engagement_award").get(referred=friend)
    assert referral.activation_award.idempotency_key == f"award:referral_profile_created:user:{friend.pk}"
    assert referral.engagement_award.idempotency_key == f"award:referral_first_engagement:user:{friend.pk}"
    assert (referral.activation_award.user, referral.activation_award.amount) == (referrer, 50)
    assert referral.engagement_award.amount == 200
    assert referral.engagement_award.reference_id == engagement.pk

    _pay(_engagement(friend), operator)  # a second paid engagement: no second award, same links
    referral.refresh_from_db()
    assert PotTransaction.objects.filter(user=referrer, category="referral").count() == 2
    summary = selectors.referral_summary(user=referrer)
    assert (summary.signed_up, summary.activated, summary.engaged) == (1, 1, 1)
    assert (summary.activation_pot, summary.engagement_pot, summary.pot_earned) == (50, 200, 250)


def test_a_reversed_referral_award_no_longer_counts_in_the_summary(operator):
    referrer = UserFactory(verified=True)
    friend = UserFactory(verified=True, referred_by=referrer)
    referral = Referral.objects.create(referrer=referrer, referred=friend, code=referrer.referral_code)
    _pay(_engagement(friend), operator)
    assert selectors.referral_summary(user=referrer).pot_earned == 250
    pot_award_reverse(cause=referral_cause("referral_first_engagement", friend.pk), reason="Operator correction")
    summary = selectors.referral_summary(user=referrer)
    assert (summary.activation_pot, summary.engagement_pot) == (50, 0)
    # the same figures as the annotated rows the admin and the API list show
    shown = selectors.referrals_visible_to(user=referrer)
    assert [(row.activation_pot, row.engagement_pot) for row in shown] == [(50, 0)]
    referral.refresh_from_db()
    assert referral.engagement_award is not None  # the link to the ledger row stays


def test_one_person_with_several_accounts_earns_no_referral_pot_from_them(operator):
    """A farm: the same person signs up five accounts with their own code and makes profiles: 0 POT."""
    main = UserFactory(email="main@example.com", verified=True)
    farm = [_register(f"throwaway{n}@example.com", main.referral_code) for n in range(5)]
    for account in farm:
        User.objects.filter(pk=account.pk).update(email_verified_at=timezone.now())
        make_seeker(make_category(name=f"farm{next(_names)}"), user=account)
    _pay(_engagement(main), operator)  # the person's own paid engagement releases nothing for the farm
    summary = selectors.referral_summary(user=main)
    assert (summary.signed_up, summary.activated, summary.pot_earned) == (5, 5, 0)
    assert not PotTransaction.objects.filter(user=main, category="referral").exists()
    # An address of the referrer's own in disguise earns nothing even with a paid commission.
    disguised = _register("main+alt@example.com", main.referral_code)
    User.objects.filter(pk=disguised.pk).update(email_verified_at=timezone.now())
    _pay(_engagement(User.objects.get(pk=disguised.pk)), operator)
    assert selectors.referral_summary(user=main).pot_earned == 0


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("own", ErrorCode.OWN_REFERRAL_CODE),
        ("unknown", ErrorCode.INVALID_REFERRAL),
        ("already_referred", ErrorCode.ALREADY_REFERRED),
        ("after_signup", ErrorCode.REFERRAL_AFTER_SIGNUP),
    ],
)
def test_a_code_is_refused_for_an_existing_account_saying_why(case, code):
    friend = UserFactory()
    person = UserFactory(referred_by=friend if case == "already_referred" else None)
    given = {"own": person.referral_code.lower(), "unknown": "ZZZZ9999"}.get(case, friend.referral_code)
    with pytest.raises(DomainError) as refused:
        referral_code_use(user=person, code=given)
    assert refused.value.code == code
    assert not Referral.objects.exists()


def test_web_sign_up_with_an_unknown_code_goes_on_and_says_so(client):
    response = client.post(
        reverse("signup") + "?ref=NOPE2345",
        {"email": "new@example.com", "name": "New", "password": GOOD_PASSWORD, "referral_code": "NOPE2345"},
    )
    assert response.status_code == 302
    person = User.objects.get(email="new@example.com")
    assert person.referred_by is None and not Referral.objects.exists()
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("NOPE2345 is not one we know" in text for text in texts)


def test_join_link_leads_to_sign_up_with_the_code(client):
    referrer = UserFactory()
    response = client.get(reverse("join") + f"?ref={referrer.referral_code}")
    assert response.status_code == 302 and response.url == f"/signup/?ref={referrer.referral_code}"
    page = client.get(response.url).content.decode()
    assert f'value="{referrer.referral_code}"' in page


def test_join_link_when_logged_in_says_why_the_code_does_not_apply(client):
    person = UserFactory()
    client.force_login(person)
    response = client.get(reverse("join") + f"?ref={person.referral_code}", follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "This is your own referral link" in response.content.decode()


def test_dashboard_panel_shows_the_link_and_each_steps_people_and_pot(client, operator):
    referrer = UserFactory(verified=True)
    friend = UserFactory(verified=True, referred_by=referrer)
    Referral.objects.create(referrer=referrer, referred=friend, code=referrer.referral_code)
    _register("later@example.com", referrer.referral_code)
    _pay(_engagement(User.objects.get(pk=friend.pk)), operator)
    client.force_login(referrer)
    page = client.get(reverse("dashboard")).content.decode()
    assert f"/join/?ref={referrer.referral_code}" in page
    assert 'data-copy-target="referral-link"' in page and "js/copy-link.js" in page
    panel = page.split('data-testid="referral-panel"')[1].split("</section>")[0]
    assert "<td>Signed up</td><td>2</td>" in panel
    assert "<td>Created a profile</td><td>1</td><td>50 POT</td>" in panel
    assert "<td>First engagement</td><td>1</td><td>200 POT</td>" in panel


def test_dashboard_query_count_does_not_grow_with_referrals(client, django_assert_max_num_queries):
    referrer = UserFactory()
    client.force_login(referrer)
    _register("one@example.com", referrer.referral_code)
    with django_assert_max_num_queries(30) as few:
        assert client.get(reverse("dashboard")).status_code == 200
    for n in range(5):
        _register(f"more{n}@example.com", referrer.referral_code)
    with django_assert_max_num_queries(len(few)):
        assert client.get(reverse("dashboard")).status_code == 200


def test_the_data_migration_gives_earlier_referred_people_their_rows(operator):
    """0011: one row per `referred_by`, with its steps and the awards already in the ledger."""
    referrer = UserFactory(verified=True)
    signed = UserFactory(referred_by=referrer)
    activated = UserFactory(referred_by=referrer)
    make_seeker(make_category(name="mig0"), user=activated)
    engaged = UserFactory(referred_by=referrer, verified=True)
    engagement = _pay(_engagement(engaged), operator)
    Referral.objects.all().delete()  # as before the table existed

    migration = importlib.import_module("marketplace.migrations.0013_referrals_from_referred_by")
    migration.referrals_create(apps, None)

    rows = {row.referred_id: row for row in Referral.objects.all()}
    assert {pk: row.status for pk, row in rows.items()} == {
        signed.pk: "signed_up",
        activated.pk: "activated",
        engaged.pk: "engaged",
    }
    assert all(row.referrer == referrer and row.code == referrer.referral_code for row in rows.values())
    assert rows[signed.pk].signed_up_at == signed.date_joined
    assert rows[activated.pk].activated_at == activated.seekers.get().created_at
    engagement.refresh_from_db()
    assert rows[engaged.pk].engaged_at == engagement.confirmed_at
    assert rows[engaged.pk].activation_award.idempotency_key == f"award:referral_profile_created:user:{engaged.pk}"
    assert rows[engaged.pk].engagement_award.amount == 200
    assert rows[signed.pk].activation_award is None
