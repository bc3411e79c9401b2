"""The web pages through Django's test client: what a visitor sees and what a form does."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from marketplace.models import Provider, Seeker, User
from tests.marketplace.factories import PASSWORD, ProviderFactory, SeekerFactory, UserFactory

GOOD_PASSWORD = "a-long-and-unusual-passphrase"


def test_home_lists_active_categories_only(client, seeded_categories):
    page = client.get("/").content.decode()
    assert "Financial Advisors" in page
    assert "Career Coaches" not in page and "Therapists" not in page


def test_category_page_and_its_directory(client, seeded_categories):
    advisors = seeded_categories["financial_advisors"]
    listed = ProviderFactory(category=advisors, license_verified=True, business_name="Listed Planning")
    ProviderFactory(category=advisors, license_verified=False, business_name="Hidden Planning")
    page = client.get(reverse("category-detail", args=["financial_advisors"])).content.decode()
    assert "Listed Planning" in page and "Hidden Planning" not in page
    assert reverse("provider-detail", args=[listed.pk]) in page


def test_inactive_or_unknown_category_page_is_404(client, seeded_categories):
    assert client.get(reverse("category-detail", args=["therapists"])).status_code == 404
    assert client.get(reverse("category-detail", args=["nope"])).status_code == 404


def test_directory_page_filters(client, seeded_categories):
    advisors = seeded_categories["financial_advisors"]
    ProviderFactory(category=advisors, license_verified=True, business_name="Texan", state="TX")
    ProviderFactory(category=advisors, license_verified=True, business_name="Coloradan", state="CO", city="Denver")
    page = client.get(reverse("category-detail", args=["financial_advisors"]) + "?state=CO").content.decode()
    assert "Coloradan" in page and "Texan" not in page
    invalid = client.get(reverse("category-detail", args=["financial_advisors"]) + "?max_price=abc")
    assert invalid.status_code == 200 and "Enter a number." in invalid.content.decode()


def test_directory_page_query_count_is_pinned(client, seeded_categories, django_assert_max_num_queries):
    advisors = seeded_categories["financial_advisors"]
    for _ in range(25):
        ProviderFactory(category=advisors, license_verified=True).specialties.add(*advisors.specialties.all()[:3])
    with django_assert_max_num_queries(9):  # + the library's newest articles of the category
        response = client.get(reverse("category-detail", args=["financial_advisors"]))
    assert response.content.decode().count('<article class="provider-card"') == 20  # one page


def test_public_provider_page(client, seeded_categories):
    advisors = seeded_categories["financial_advisors"]
    listed = ProviderFactory(category=advisors, license_verified=True, business_name="Listed", certifications="CFP")
    hidden = ProviderFactory(category=advisors, license_verified=False)
    page = client.get(reverse("provider-detail", args=[listed.pk])).content.decode()
    assert "Listed" in page and "CFP" in page and listed.user.email not in page
    assert client.get(reverse("provider-detail", args=[hidden.pk])).status_code == 404
    assert client.get("/providers/99999999999999999999/").status_code == 404


def test_signup_shows_errors_next_to_fields_and_keeps_input(client, db):
    UserFactory(email="taken@example.com")
    response = client.post(reverse("signup"), {"email": "TAKEN@example.com", "name": "Pat", "password": GOOD_PASSWORD})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"email": ["An account with this email already exists."]}
    assert 'value="TAKEN@example.com"' in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


def test_signup_with_ref_link_prefills_and_records_the_referrer(client, user):
    page = client.get(reverse("signup") + f"?ref={user.referral_code}").content.decode()
    assert f'value="{user.referral_code}"' in page
    response = client.post(
        reverse("signup"),
        {
            "email": "new@example.com",
            "name": "New Person",
            "password": GOOD_PASSWORD,
            "referral_code": user.referral_code,
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert User.objects.get(email="new@example.com").referred_by == user


def test_login_with_email_and_logout(client, db):
    UserFactory(email="pat@example.com", name="Pat Lee")
    bad = client.post(reverse("login"), {"username": "pat@example.com", "password": "wrong"})
    assert bad.status_code == 200 and "correct" in bad.content.decode()
    response = client.post(reverse("login"), {"username": "PAT@example.com", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "Welcome back, Pat." in response.content.decode()
    response = client.post(reverse("logout"), follow=True)
    assert "You are logged out" in response.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302


def test_password_reset_sends_an_email_with_a_working_link(client, db):
    user = UserFactory(email="pat@example.com")
    response = client.post(reverse("password_reset"), {"email": "pat@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["pat@example.com"]
    assert mail.outbox[0].subject == "Reset your I MATCH password"
    link = re.search(r"https://imatch\.test(/password-reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)


def test_dashboard_needs_login_and_lists_profiles_in_every_category(client, user, seeded_categories):
    assert client.get(reverse("dashboard")).status_code == 302
    client.force_login(user)
    SeekerFactory(user=user, category=seeded_categories["financial_advisors"])
    ProviderFactory(user=user, category=seeded_categories["career_coaches"], business_name="Coach Co")
    page = client.get(reverse("dashboard")).content.decode()
    assert "Financial Advisors" in page and "Coach Co" in page
    assert f"?ref={user.referral_code}" in page


def test_seeker_form_creates_the_profile(client, user, seeded_categories):
    client.force_login(user)
    picker = client.get(reverse("seeker-create")).content.decode()
    assert "?category=financial_advisors" in picker and "career_coaches" not in picker
    url = reverse("seeker-create") + "?category=financial_advisors"
    response = client.post(
        url,
        {
            "specialties": ["tax-planning"],
            "needs_description": "Taxes",
            "budget_min": "50",
            "budget_max": "80",
            "city": "Austin",
            "state": "TX",
            "remote_ok": "on",
        },
    )
    assert response.status_code == 302
    seeker = Seeker.objects.get(user=user)
    assert seeker.location == "Austin, TX" and seeker.remote_ok


def test_seeker_form_refusals_stay_on_the_form(client, user, seeded_categories):
    client.force_login(user)
    url = reverse("seeker-create") + "?category=financial_advisors"
    response = client.post(url, {"budget_min": "-5", "needs_description": "Keep me"})
    assert response.status_code == 200 and "budget_min" in response.context["form"].errors
    assert "Keep me" in response.content.decode()
    response = client.post(url, {"specialties": ["anxiety"]})
    assert "specialties" in response.context["form"].errors
    assert not Seeker.objects.exists()
    # An inactive category shows the picker again rather than a form.
    page = client.get(reverse("seeker-create") + "?category=therapists").content.decode()
    assert "That category is not open" in page


def test_provider_form_creates_and_edits_the_profile(client, user, seeded_categories):
    client.force_login(user)
    url = reverse("provider-create") + "?category=financial_advisors"
    response = client.post(
        url,
        {
            "business_name": "Pat Plans",
            "specialties": ["tax-planning"],
            "license_number": "CRD-9",
            "pricing_min": "100",
            "pricing_max": "90",
            "max_active_clients": "5",
        },
    )
    assert response.context["form"].errors == {"pricing_max": ["The minimum must not be more than the maximum."]}
    response = client.post(
        url,
        {
            "business_name": "Pat Plans",
            "specialties": ["tax-planning"],
            "license_number": "CRD-9",
            "pricing_min": "100",
            "pricing_max": "190",
            "max_active_clients": "5",
            "accepting_clients": "on",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "It waits for license verification" in page and "Waiting for license verification" in page
    assert response.redirect_chain[-1][0] == reverse("provider-edit", args=[Provider.objects.get(user=user).pk])
    provider = Provider.objects.get(user=user)
    assert User.objects.get(pk=user.pk).account_type == "provider"

    edit = reverse("provider-edit", args=[provider.pk])
    assert 'value="Pat Plans"' in client.get(edit).content.decode()
    form = {"business_name": "Pat Plans LLC", "license_number": "CRD-9", "max_active_clients": "5"}
    client.post(edit, form)
    assert Provider.objects.get(pk=provider.pk).business_name == "Pat Plans LLC"


def test_editing_someone_elses_profile_is_404(client, user, seeded_categories):
    client.force_login(user)
    seeker = SeekerFactory(category=seeded_categories["financial_advisors"])
    provider = ProviderFactory(category=seeded_categories["financial_advisors"])
    assert client.get(reverse("seeker-edit", args=[seeker.pk])).status_code == 404
    assert client.post(reverse("provider-edit", args=[provider.pk]), {"business_name": "x"}).status_code == 404
    assert Provider.objects.get(pk=provider.pk).business_name != "x"


@pytest.mark.parametrize("url", ["/", "/signup/", "/login/", "/password-reset/"])
def test_every_public_page_has_a_title_and_navigation(client, seeded_categories, url):
    page = client.get(url).content.decode()
    assert re.search(r"<title>[^<]+· I MATCH</title>", page)
    assert '<nav aria-label="Main">' in page
