"""The core loop's web pages: what each side sees, what each button does, and the flash that follows."""

import pytest
from django.test import Client
from django.urls import reverse

from marketplace.models import BillingStatus, Engagement, EngagementStatus, Match, MatchStatus, Rating
from marketplace.services import engagements, matches
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import accepted_match, confirmed_engagement, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def flash(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.fixture
def category():
    return make_category()


def test_the_dashboard_links_to_the_loop(category):
    provider = make_provider(category)
    page = browser_of(provider.user).get(reverse("dashboard")).content.decode()
    for name in ("matches", "leads", "engagements", "commission-statement"):
        assert reverse(name) in page


def test_find_matches_then_introduce_from_the_matches_page(category):
    seeker = make_seeker(category)
    provider = make_provider(category, business_name="Reyes Planning")
    browser = browser_of(seeker.user)

    response = browser.post(reverse("seeker-match", args=[seeker.pk]), follow=True)
    assert "1 new match." in flash(response)
    page = response.content.decode()
    assert "Reyes Planning" in page and "Specializes in retirement planning" in page and "Introduce me" in page
    match = Match.objects.get(seeker=seeker)

    response = browser.post(reverse("match-introduce", args=[match.pk]), follow=True)
    assert "We introduced you to Reyes Planning" in flash(response)
    assert "72 hours" in flash(response)
    # The seeker lands in the conversation; the provider's email is shared only once they accept.
    assert response.redirect_chain[-1][0] == reverse("thread", args=[match.pk])
    assert provider.user.email not in response.content.decode()
    assert Match.objects.get(pk=match.pk).status == MatchStatus.INTRODUCED
    assert provider.user.email not in browser.get(reverse("matches")).content.decode()


def test_a_full_set_of_matches_says_so(category):
    seeker = make_seeker(category)
    make_provider(category)
    matches.match_run_for_seeker(seeker=seeker)
    response = browser_of(seeker.user).post(reverse("seeker-match", args=[seeker.pk]), follow=True)
    assert "Your match slots are full" in flash(response)


def test_someone_else_s_match_is_a_404(category):
    seeker = make_seeker(category)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    stranger = browser_of(UserFactory())
    for name in ("match-introduce", "match-decline", "match-accept"):
        assert stranger.post(reverse(name, args=[match.pk])).status_code == 404
    assert stranger.get(reverse("engagement-report", args=[match.pk])).status_code == 404
    assert stranger.post(reverse("seeker-match", args=[seeker.pk])).status_code == 404


def test_a_refused_action_is_explained(category):
    seeker = make_seeker(category)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=seeker.user)
    response = browser_of(seeker.user).post(reverse("match-introduce", args=[match.pk]), follow=True)
    assert "Only a suggested match can be introduced." in flash(response)


def test_the_provider_accepts_a_lead_from_the_leads_page(category):
    seeker = make_seeker(category, needs_description="Retire at 60 and travel.")
    provider = make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    browser = browser_of(provider.user)
    assert "No introductions yet" in browser.get(reverse("leads")).content.decode()
    matches.match_introduce(match=match, user=seeker.user)

    page = browser.get(reverse("leads")).content.decode()
    assert "Retire at 60 and travel." in page and seeker.user.email not in page
    assert "Email shared once you accept" in page and reverse("thread", args=[match.pk]) in page

    response = browser.post(reverse("match-accept", args=[match.pk]), follow=True)
    assert "You accepted" in flash(response) and "reports the engagement" in flash(response)
    assert Match.objects.get(pk=match.pk).status == MatchStatus.ACCEPTED
    assert seeker.user.email in browser.get(reverse("leads")).content.decode()
    assert provider.user.email in browser_of(seeker.user).get(reverse("matches")).content.decode()


def test_the_provider_declines_and_the_flash_says_what_happens_next(category):
    seeker = make_seeker(category)
    provider = make_provider(category)
    make_provider(category)
    made = matches.match_run_for_seeker(seeker=seeker)
    mine = next(m for m in made if m.provider_id == provider.pk)
    matches.match_introduce(match=mine, user=seeker.user)
    response = browser_of(provider.user).post(
        reverse("match-decline", args=[mine.pk]), {"reason": "Fully booked"}, follow=True
    )
    assert "The seeker gets the next-best provider." in flash(response)
    assert Match.objects.get(pk=mine.pk).decline_reason == "Fully booked"


def test_report_an_engagement_keeps_input_and_shows_errors():
    match = accepted_match()
    browser = browser_of(match.seeker.user)
    url = reverse("engagement-report", args=[match.pk])
    response = browser.post(url, {"deal_value_usd": "-5"})
    assert response.status_code == 200 and 'value="-5"' in response.content.decode()
    assert "errorlist" in response.content.decode()
    assert not Engagement.objects.exists()

    response = browser.post(url, {"deal_value_usd": "1500"}, follow=True)
    assert "Engagement reported." in flash(response) and "confirm" in flash(response)
    assert Engagement.objects.get().deal_value_usd == 1500


def test_confirm_complete_and_rate_from_the_engagements_page():
    match = accepted_match()
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="800")
    provider_browser, seeker_browser = browser_of(match.provider.user), browser_of(match.seeker.user)
    assert "Confirm" in provider_browser.get(reverse("engagements")).content.decode()

    response = provider_browser.post(reverse("engagement-confirm", args=[engagement.pk]), follow=True)
    assert "Engagement confirmed." in flash(response) and "pending" in flash(response)
    assert "in your wallet" not in flash(response)
    page = response.content.decode()
    assert "40 POT" in page and "pending: paid when the commission is paid" in page  # 5% of 800 USD
    response = seeker_browser.post(reverse("engagement-complete", args=[engagement.pk]), follow=True)
    assert "Marked as completed." in flash(response)

    rate_url = reverse("engagement-rate", args=[engagement.pk])
    response = seeker_browser.post(rate_url, {"stars": "9"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    response = seeker_browser.post(rate_url, {"stars": "5", "review": "Excellent plan"}, follow=True)
    assert "your rating of" in flash(response)
    assert "You rated it" in response.content.decode()
    response = seeker_browser.post(rate_url, {"stars": "4"})
    assert "You already rated this engagement." in response.content.decode()
    assert Rating.objects.count() == 1
    public = Client().get(reverse("provider-detail", args=[match.provider_id])).content.decode()
    assert "Excellent plan" in public


def test_a_reported_engagement_is_cancelled_alone():
    match = accepted_match()
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="800")
    browser = browser_of(match.provider.user)
    url = reverse("engagement-cancel", args=[engagement.pk])
    assert "you can cancel it alone" in browser.get(url).content.decode()
    assert browser.post(url, {"reason": ""}).status_code == 200  # a reason is required here
    response = browser.post(url, {"reason": "Moved abroad"}, follow=True)
    assert "no commission is owed" in flash(response)
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.CANCELLED


def test_after_confirmation_one_side_asks_and_the_other_agrees():
    engagement = confirmed_engagement()
    seeker_browser, provider_browser = browser_of(engagement.seeker.user), browser_of(engagement.provider.user)
    url = reverse("engagement-cancel", args=[engagement.pk])
    assert "Ask to cancel" in seeker_browser.get(url).content.decode()
    assert seeker_browser.post(url, {"reason": ""}).status_code == 200  # a reason is required here
    response = seeker_browser.post(url, {"reason": "Moved abroad"}, follow=True)
    assert "Cancellation requested." in flash(response)
    assert "waiting for the other side" in response.content.decode()
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.CANCEL_REQUESTED

    page = provider_browser.get(reverse("engagements")).content.decode()
    assert "Moved abroad" in page and "Agree to cancel" in page and "Dispute…" in page
    response = provider_browser.post(url, {"reason": ""}, follow=True)  # agreeing needs no reason
    assert "no commission is owed" in flash(response)
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.CANCELLED


def test_the_other_side_disputes_a_cancellation_from_the_page():
    engagement = confirmed_engagement()
    engagements.engagement_cancel(engagement=engagement, user=engagement.seeker.user, reason="Moved abroad")
    browser = browser_of(engagement.provider.user)
    url = reverse("engagement-dispute", args=[engagement.pk])
    assert "Moved abroad" in browser.get(url).content.decode()
    assert browser.post(url, {"reason": ""}).status_code == 200
    response = browser.post(url, {"reason": "The plan is delivered"}, follow=True)
    assert "an operator reads both reasons" in flash(response)
    assert "an operator reads both reasons and decides" in response.content.decode()
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.DISPUTED
    # The side who asked cannot dispute their own request.
    response = browser_of(engagement.seeker.user).post(url, {"reason": "no"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()


def test_a_deal_above_the_threshold_shows_as_under_review():
    category = make_category(deal_review_threshold_usd="5000")
    match = accepted_match(category)
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="9000")
    response = browser_of(match.provider.user).post(reverse("engagement-confirm", args=[engagement.pk]), follow=True)
    assert "an operator reviews it before it counts" in flash(response)
    page = response.content.decode()
    assert "Under review" in page and "$5,000.00" in page
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.UNDER_REVIEW


def test_the_commission_statement(operator):
    engagement = confirmed_engagement("1000.00")
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    page = browser_of(engagement.provider.user).get(reverse("commission-statement")).content.decode()
    assert "$200.00" in page and "Invoiced" in page
    assert Engagement.objects.get().billing_status == BillingStatus.INVOICED
    other = browser_of(UserFactory()).get(reverse("commission-statement")).content.decode()
    assert "No confirmed engagement yet." in other


def test_the_matches_page_query_count_does_not_grow(category, django_assert_max_num_queries):
    seeker = make_seeker(category)
    for _ in range(3):
        make_provider(category)
    matches.match_run_for_seeker(seeker=seeker)
    browser = browser_of(seeker.user)
    browser.get(reverse("matches"))
    with django_assert_max_num_queries(12) as few:
        browser.get(reverse("matches"))
    for _ in range(3):
        make_provider(category)
    more = make_seeker(make_category(name="more", display_name="More"), user=seeker.user)
    for _ in range(3):
        make_provider(more.category)
    matches.match_run_for_seeker(seeker=more)
    with django_assert_max_num_queries(len(few)):
        browser.get(reverse("matches"))


def test_the_pages_need_a_login():
    for name in ("matches", "leads", "engagements", "commission-statement"):
        response = Client().get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_engagements_page_query_count_does_not_grow_with_the_new_states(django_assert_max_num_queries):
    provider_user = UserFactory()

    def engagement_in(name: str, deal_value: str = "800"):
        category = make_category(name=name, deal_review_threshold_usd="5000")
        match = accepted_match(category, user=provider_user)
        engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd=deal_value)
        return engagements.engagement_confirm(engagement=engagement, user=provider_user)

    engagement_in("reviewed", "9000")
    requested = engagement_in("requested")
    engagements.engagement_cancel(engagement=requested, user=requested.seeker.user, reason="Moved away")
    browser = browser_of(provider_user)
    browser.get(reverse("engagements"))
    with django_assert_max_num_queries(12) as few:
        page = browser.get(reverse("engagements")).content.decode()
    assert "Under review" in page and "Moved away" in page and "Agree to cancel" in page

    disputed = engagement_in("disputed")
    engagements.engagement_cancel(engagement=disputed, user=disputed.seeker.user, reason="Too slow")
    engagements.engagement_cancel_dispute(engagement=disputed, user=provider_user, reason="On schedule")
    engagement_in("more", "9500")
    with django_assert_max_num_queries(len(few)):
        page = browser.get(reverse("engagements")).content.decode()
    assert "Cancellation disputed" in page
