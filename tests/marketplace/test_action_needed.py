"""The dashboard leads with "Action needed", computed from facts; an empty state says what to do first."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conversations import services as conversation_services
from currency import services as pot_services
from marketplace.models import Match, User
from marketplace.selectors import PROFILE_BIO_MIN_CHARS, actions_needed, provider_strength
from marketplace.services import engagements, matches, ratings
from tests.currency.factories import funded_user
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import accepted_match, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def kinds(user) -> list[str]:
    return [item.kind for item in actions_needed(user=user)]


@pytest.fixture
def category():
    return make_category()


COMPLETE_BIO = "Fee-only planner: retirement income for families. " * 5


def complete_provider(category, **fields):
    """A provider whose profile strength is 100% (photo, long bio, ...): no "profile" action."""
    provider = make_provider(category, bio=COMPLETE_BIO, **fields)
    User.objects.filter(pk=provider.user_id).update(photo="photos/complete.webp")
    provider.user.refresh_from_db()
    return provider


def test_a_lead_shows_the_hours_left_before_it_expires(category):
    seeker = make_seeker(category)
    provider = complete_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=seeker.user)
    Match.objects.filter(pk=match.pk).update(introduced_at=timezone.now() - timedelta(hours=10, minutes=30))

    [item] = actions_needed(user=provider.user)
    assert (item.kind, item.hours_left, item.link) == ("lead", 62, reverse("leads"))
    assert "answer within 62 hours" in item.text and seeker.user.name in item.text
    assert kinds(seeker.user) == []  # the seeker waits: nothing to do
    page = browser_of(provider.user).get(reverse("dashboard")).content.decode()
    assert 'data-testid="action-lead"' in page and "answer within 62 hours" in page
    assert page.index("Action needed") < page.index("What you are looking for")


def test_confirm_then_rate_each_side(category):
    match = accepted_match(category, bio=COMPLETE_BIO)
    User.objects.filter(pk=match.provider.user_id).update(photo="photos/complete.webp")
    seeker, provider = match.seeker.user, match.provider.user
    engagement = engagements.engagement_report(match=match, user=seeker, deal_value_usd="1200.00")
    assert kinds(provider) == ["confirm"] and kinds(seeker) == []
    [item] = actions_needed(user=provider)
    assert "$1,200.00" in item.text and "confirm it" in item.text

    engagement = engagements.engagement_confirm(engagement=engagement, user=provider)
    assert kinds(provider) == ["rate"] and kinds(seeker) == ["rate"]
    assert actions_needed(user=seeker)[0].link == reverse("engagement-rate", args=[engagement.pk])
    ratings.rating_create(engagement=engagement, user=seeker, stars=5)
    assert kinds(seeker) == [] and kinds(provider) == ["rate"]

    engagements.engagement_cancel(engagement=engagement, user=seeker, reason="Moved away")
    assert kinds(provider) == ["cancel_request"]


def test_an_incomplete_profile_and_a_license_waiting_for_verification():
    licensed = make_category(name="therapists", display_name="Therapists", requires_license=True)
    provider = make_provider(licensed, bio="Hi", specialties=[], pricing_min=None, pricing_max=None)
    [item] = actions_needed(user=provider.user)
    assert item.kind == "profile" and item.link == reverse("provider-edit", args=[provider.pk])
    assert (
        f"add a profile photo, a bio of at least {PROFILE_BIO_MIN_CHARS} characters, your specialties, "
        "your prices, your license number." in item.text
    )

    complete = complete_provider(licensed, license_number="LIC-4")
    [item] = actions_needed(user=complete.user)
    assert item.kind == "license" and "waits for an operator's verification" in item.text


def test_the_action_item_and_the_strength_meter_share_one_rule(category):
    """A bio of 150 characters and no photo: incomplete for the meter, so the dashboard asks for both."""
    provider = make_provider(category, bio="b" * 150)
    strength = provider_strength(provider=provider)
    assert strength.missing == ["A profile photo", f"A bio of at least {PROFILE_BIO_MIN_CHARS} characters"]
    [item] = actions_needed(user=provider.user)
    assert item.kind == "profile" and f"{strength.percent}% complete" in item.text
    assert f"add a profile photo, a bio of at least {PROFILE_BIO_MIN_CHARS} characters." in item.text
    page = browser_of(provider.user).get(reverse("provider-edit", args=[provider.pk])).content.decode()
    assert f"Profile strength: {strength.percent}%" in page

    complete = complete_provider(category)
    assert provider_strength(provider=complete).missing == [] and actions_needed(user=complete.user) == []


def test_unread_messages_show_per_thread_with_a_link_after_the_leads(category):
    provider = complete_provider(category)
    threads = []
    for name in ("Ana Ortiz", "Ben Cho"):
        seeker = make_seeker(category, user=UserFactory(name=name))
        match = next(m for m in matches.match_run_for_seeker(seeker=seeker) if m.provider_id == provider.pk)
        threads.append(matches.match_introduce(match=match, user=seeker.user))
    first, second = threads
    conversation_services.message_post(match_id=first.pk, user=first.seeker.user, body="Hello?")
    conversation_services.message_post(match_id=first.pk, user=first.seeker.user, body="Are you there?")
    conversation_services.message_post(match_id=second.pk, user=second.seeker.user, body="Hi")

    page = browser_of(provider.user).get(reverse("dashboard")).content.decode()
    assert page.count('data-testid="action-message"') == 2 and page.count('data-testid="action-lead"') == 2
    assert "2 unread messages from Ana Ortiz" in page and "1 unread message from Ben Cho" in page
    assert reverse("thread", args=[first.pk]) in page and reverse("thread", args=[second.pk]) in page
    assert page.rindex('data-testid="action-lead"') < page.index('data-testid="action-message"')
    seeker_page = browser_of(first.seeker.user).get(reverse("dashboard")).content.decode()
    assert 'data-testid="action-message"' not in seeker_page  # they wrote them: nothing unread for them

    conversation_services.thread_mark_read(match_id=first.pk, user=provider.user)
    page = browser_of(provider.user).get(reverse("dashboard")).content.decode()
    assert page.count('data-testid="action-message"') == 1 and "from Ana Ortiz" not in page


def test_unread_messages_alone_are_action_needed_not_the_empty_state(category):
    seeker = make_seeker(category)
    provider = complete_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=seeker.user)
    matches.match_accept(match=match, user=provider.user)
    conversation_services.message_post(match_id=match.pk, user=provider.user, body="Thanks, when suits you?")
    page = browser_of(seeker.user).get(reverse("dashboard")).content.decode()
    assert 'data-testid="action-message"' in page and 'data-testid="action-none"' not in page


def test_a_redemption_in_progress_until_it_is_paid(operator):
    person = funded_user(1000, verified=True)
    redemption = pot_services.redemption_request(user=person, pot_amount=500, payment_method="x").redemption
    [item] = actions_needed(user=person)
    assert item.kind == "redemption" and "waits for an operator's approval" in item.text
    pot_services.redemption_approve(redemption_id=redemption.pk, operator=operator, payout_reference="PP-3")
    assert "payout reference PP-3" in actions_needed(user=person)[0].text
    pot_services.redemption_mark_paid(redemption_id=redemption.pk, operator=operator)
    assert actions_needed(user=person) == []


def test_the_empty_states_say_what_to_do_first(category):
    newcomer = browser_of(UserFactory()).get(reverse("dashboard")).content.decode()
    assert 'data-testid="action-first"' in newcomer and reverse("seeker-create") in newcomer
    seeker = make_seeker(category)
    page = browser_of(seeker.user).get(reverse("dashboard")).content.decode()
    assert 'data-testid="action-none"' in page


def test_the_dashboard_query_count_is_pinned(category, django_assert_num_queries):
    provider = make_provider(category)
    browser = browser_of(provider.user)
    browser.get(reverse("dashboard"))  # warm the session

    def lead() -> Match:
        seeker = make_seeker(category)
        [match] = matches.match_run_for_seeker(seeker=seeker)
        match = matches.match_introduce(match=match, user=seeker.user)
        conversation_services.message_post(match_id=match.pk, user=seeker.user, body="Hello")
        return match

    lead()
    # 15, and the streak: its three facts, the rules and options (the profiles are read once for
    # the page: badges and "Action needed" reuse them, and the referral count); and for keeping the
    # page (marketplace.web.dashboard): when Pro starts or ends, and the rules' digest (the rules
    # again here: the tests keep no copy of them, POT_RULES_CACHE_SECONDS = 0)
    with django_assert_num_queries(23) as few:
        browser.get(reverse("dashboard"))
    for number in range(6):
        match = lead()
        if number % 2:  # three of them became engagements the seeker reported: the provider confirms
            matches.match_accept(match=match, user=provider.user)
            engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="500.00")
    with django_assert_num_queries(len(few.captured_queries)):
        response = browser.get(reverse("dashboard"))
    page = response.content.decode()
    assert page.count('data-testid="action-lead"') == 4 and page.count('data-testid="action-confirm"') == 3
    assert page.count('data-testid="action-message"') == 7 and page.count('data-testid="action-profile"') == 1


def test_a_seekers_dashboard_skips_what_only_a_provider_has(category, django_assert_num_queries):
    """Someone without a provider profile has no leads, answered leads, early engagements,
    accepted answers or articles: those queries are not made, and the page says the same."""
    match = accepted_match(category)
    browser = browser_of(match.seeker.user)
    browser.get(reverse("dashboard"))  # warm the session
    conversation_services.message_post(match_id=match.pk, user=match.provider.user, body="Hello")
    # user, profiles (2), referrals, engagements, redemptions, the streak's ratings, the rules and
    # options, the wallet, the bell, unread threads, Pro; when Pro starts or ends and the rules again
    # (the kept page's fresh_until and variant)
    with django_assert_num_queries(16):
        page = browser.get(reverse("dashboard")).content.decode()
    assert page.count('data-testid="action-message"') == 1 and "No streak yet" in page
    assert "Leads to answer" not in page and "No provider profile yet." in page
