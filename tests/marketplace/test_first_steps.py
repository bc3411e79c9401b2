"""Getting to matches in one sitting: search → category → need + inline account → matches; the provider's path."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from marketplace.models import Match, Provider, Seeker, User
from tests.marketplace.factories import PASSWORD, UserFactory
from tests.marketplace.loop import make_provider, make_seeker

GOOD_PASSWORD = "a-long-and-unusual-passphrase"
NEED = {
    "specialties": ["retirement-planning"],
    "needs_description": "A plan to retire at 60.",
    "budget_min": "100",
    "budget_max": "300",
    "city": "Austin",
    "state": "TX",
    "remote_ok": "on",
}
ACCOUNT = {
    "account-name": "Dana Park",
    "account-email": "Dana@Example.com",
    "account-password": GOOD_PASSWORD,
    "account-time_zone": "America/Chicago",
}


@pytest.fixture
def advisors(seeded_categories):
    return seeded_categories["financial_advisors"]


def seeker_url(category) -> str:
    return f"{reverse('seeker-create')}?category={category.name}"


def test_home_search_leads_to_the_fitting_category_with_what_was_typed(client, advisors):
    response = client.get(reverse("search"), {"need": "Retirement planning for my pension", "where": "Austin, TX"})
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == reverse("seeker-create")
    assert parse_qs(target.query) == {
        "category": ["financial_advisors"],
        "need": ["Retirement planning for my pension"],
        "where": ["Austin, TX"],
    }
    form = client.get(response["Location"]).context["form"]
    assert form.initial["needs_description"] == "Retirement planning for my pension"
    assert (form.initial["city"], form.initial["state"]) == ("Austin", "TX")


def test_home_search_without_a_fitting_category_offers_the_choice_and_keeps_the_words(client, advisors):
    page = client.get(reverse("search"), {"need": "zebra grooming", "where": "remote"}).content.decode()
    assert "We could not tell which category" in page
    assert "category=financial_advisors&amp;need=zebra+grooming&amp;where=remote" in page
    assert client.get(reverse("search")).status_code == 302  # nothing typed: back home


def test_an_anonymous_seeker_signs_up_inline_and_sees_matches_at_once(client, advisors):
    provider = make_provider(advisors, verified=True, specialties=["retirement-planning"])
    response = client.post(seeker_url(advisors), {**NEED, **ACCOUNT})
    user = User.objects.get(email="dana@example.com")
    seeker = Seeker.objects.get(user=user)
    assert response.status_code == 302 and response["Location"] == f"{reverse('matches')}#seeker-{seeker.pk}"
    assert user.time_zone == "America/Chicago" and user.check_password(GOOD_PASSWORD)
    assert Match.objects.filter(seeker=seeker, provider=provider).exists()
    page = client.get(response["Location"]).content.decode()  # logged in now
    assert "1 new match." in page and provider.business_name in page


def test_a_refused_account_keeps_everything_typed_and_creates_nothing(client, advisors):
    UserFactory(email="dana@example.com")
    response = client.post(seeker_url(advisors), {**NEED, **ACCOUNT})
    assert response.status_code == 200
    assert response.context["account"].errors == {"email": ["An account with this email already exists."]}
    assert response.context["form"]["needs_description"].value() == "A plan to retire at 60."
    assert not Seeker.objects.exists()


def test_a_refused_need_creates_no_account_either(client, advisors):
    response = client.post(seeker_url(advisors), {**NEED, "budget_min": "500", **ACCOUNT})
    assert response.context["form"].errors == {"budget_max": ["The minimum must not be more than the maximum."]}
    assert not User.objects.filter(email="dana@example.com").exists()


def test_choosing_to_log_in_keeps_the_need_and_comes_back_to_the_form(client, advisors):
    user = UserFactory(email="pat@example.com")
    response = client.post(seeker_url(advisors), {**NEED, "account-password": "typed-secret", "intent": "login"})
    assert response.status_code == 302
    login_url = response["Location"]
    assert login_url.startswith(reverse("login")) and "next=" in login_url
    back = client.post(login_url, {"username": user.email, "password": PASSWORD, "next": seeker_url(advisors)})
    assert back["Location"] == seeker_url(advisors)
    form = client.get(back["Location"]).context["form"]
    assert form.initial["needs_description"] == "A plan to retire at 60."
    assert form.initial["specialties"] == ["retirement-planning"] and form.initial["remote_ok"] is True
    assert "typed-secret" not in str(client.session.items())  # a password is never kept
    response = client.post(seeker_url(advisors), NEED)
    assert Seeker.objects.get(user=user).needs_description == "A plan to retire at 60."
    assert client.get(seeker_url(advisors)).status_code == 302  # the draft is gone with the profile


def test_the_new_profile_page_of_a_category_where_one_exists_opens_its_edit_form(client, advisors, user):
    seeker = make_seeker(advisors, user=user, specialties=["retirement-planning"])
    provider = make_provider(advisors, user=user, specialties=["retirement-planning"])
    client.force_login(user)
    assert client.get(seeker_url(advisors))["Location"] == reverse("seeker-edit", args=[seeker.pk])
    provider_url = f"{reverse('provider-create')}?category={advisors.name}"
    assert client.get(provider_url)["Location"] == reverse("provider-edit", args=[provider.pk])


def test_an_anonymous_provider_signs_up_inline_and_learns_where_they_stand(client, advisors):
    profile = {
        "business_name": "Park Planning",
        "specialties": ["retirement-planning"],
        "license_number": "CRD-1",
        "max_active_clients": "5",
        "accepting_clients": "on",
    }
    response = client.post(
        f"{reverse('provider-create')}?category={advisors.name}", {**profile, **ACCOUNT}, follow=True
    )
    provider = Provider.objects.get(user__email="dana@example.com")
    assert response.redirect_chain[-1][0] == reverse("provider-edit", args=[provider.pk])
    page = response.content.decode()
    assert "Waiting for license verification" in page and "CRD-1" in page
    assert "Profile strength" in page and "A verified license" in page


def test_signup_keeps_next(client, advisors):
    target = seeker_url(advisors)
    page = client.get(reverse("signup"), {"next": target}).content.decode()
    assert 'name="next"' in page
    response = client.post(
        reverse("signup"), {"email": "lee@example.com", "name": "Lee", "password": GOOD_PASSWORD, "next": target}
    )
    assert response["Location"] == target
    response = client.post(reverse("logout"))
    off_site = client.post(
        reverse("signup"),
        {"email": "kim@example.com", "name": "Kim", "password": GOOD_PASSWORD, "next": "https://evil.example/"},
    )
    assert off_site["Location"] == reverse("dashboard")


def test_category_page_says_how_it_works_in_three_steps(client, advisors):
    page = client.get(reverse("category-detail", args=[advisors.name])).content.decode()
    assert "How it works" in page and page.count("<li><strong>") >= 3
    assert f'href="{seeker_url(advisors)}"' in page
