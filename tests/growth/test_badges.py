"""Badges: computed from facts (rules at their thresholds), for a page of people in fixed queries, shown with rules."""

import itertools
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from growth.badges import BADGES, PersonFacts, ProviderRating, badges_earned
from growth.selectors import badges_of_people, people_facts
from marketplace.models import Referral, ReferralStatus, User
from marketplace.services import engagements, matches
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

_names = itertools.count()


def _keys(facts: PersonFacts) -> list[str]:
    return [badge.key for badge in badges_earned(facts)]


# --- The rules (pure) ------------------------------------------------------------------------


def test_no_facts_no_badges():
    assert _keys(PersonFacts()) == []


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (PersonFacts(license_verified=True), ["verified"]),
        # Bayesian (prior 3.5 weighing 5 ratings): 20 five-star ratings make 4.7, 19 do not.
        (PersonFacts(ratings=[ProviderRating(5.0, 20)]), ["top_rated"]),
        (PersonFacts(ratings=[ProviderRating(5.0, 19)]), []),
        (PersonFacts(ratings=[ProviderRating(4.69, 1000)]), []),
        (PersonFacts(ratings=[ProviderRating(3.0, 50), ProviderRating(4.9, 200)]), ["top_rated"]),
        (PersonFacts(early_engagements=3), ["rising_star"]),
        (PersonFacts(early_engagements=2), []),
        (PersonFacts(activated_referrals=5), ["connector"]),
        (PersonFacts(activated_referrals=4), []),
        (PersonFacts(categories={1, 2}), ["multi_category"]),
        (PersonFacts(categories={1}), []),
        (PersonFacts(early_adopter=True), ["early_adopter"]),
    ],
)
def test_each_rule_at_its_threshold(facts, expected):
    assert _keys(facts) == expected


def test_every_badge_states_its_rule():
    assert len({badge.key for badge in BADGES}) == len(BADGES)
    assert all(badge.rule.endswith(".") and len(badge.rule) > 20 for badge in BADGES)


# --- The facts (database) --------------------------------------------------------------------


def _engagement_with(provider_user: User, *, confirm: bool = True, cancel: bool = False):
    category = make_category(name=f"rising{next(_names)}")
    seeker = make_seeker(category)
    make_provider(category, user=provider_user)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=seeker.user)
    matches.match_accept(match=match, user=provider_user)
    engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="800.00")
    engagement = engagements.engagement_confirm(engagement=engagement, user=provider_user)
    if cancel:
        engagements.engagement_cancel(engagement=engagement, user=UserFactory(is_staff=True), reason="Mistake")
    return engagement


@pytest.mark.django_db
def test_facts_come_from_profiles_engagements_and_referrals():
    star, late = UserFactory(), UserFactory()
    for _ in range(3):
        _engagement_with(star)
    _engagement_with(late)
    _engagement_with(late)
    _engagement_with(late, cancel=True)  # cancelled: does not count
    _engagement_with(late)
    User.objects.filter(pk=late.pk).update(date_joined=timezone.now() - timedelta(days=91))

    connector = UserFactory()
    for status in [ReferralStatus.ACTIVATED] * 3 + [ReferralStatus.ENGAGED] * 2 + [ReferralStatus.SIGNED_UP]:
        friend = UserFactory(referred_by=connector)
        Referral.objects.create(referrer=connector, referred=friend, code=connector.referral_code, status=status)

    early_bird, latecomer = UserFactory(), UserFactory()
    make_seeker(make_category(name="new", launched_at=timezone.now() - timedelta(days=29)), user=early_bird)
    make_seeker(make_category(name="old", launched_at=timezone.now() - timedelta(days=31)), user=latecomer)
    verified = make_provider(make_category(name="licensed", requires_license=True), verified=True).user

    facts = people_facts(user_ids=[star.pk, late.pk, connector.pk, early_bird.pk, latecomer.pk, verified.pk])
    assert facts[star.pk].early_engagements == 3 and len(facts[star.pk].categories) == 3
    assert facts[late.pk].early_engagements == 0
    assert facts[connector.pk].activated_referrals == 5
    assert facts[early_bird.pk].early_adopter and not facts[latecomer.pk].early_adopter
    assert facts[verified.pk].license_verified and not facts[star.pk].license_verified

    held = {user_id: [badge.key for badge in badges] for user_id, badges in badges_of_people(user_ids=facts).items()}
    assert "rising_star" in held[star.pk] and "rising_star" not in held[late.pk]
    assert held[connector.pk] == ["connector"]
    assert held[early_bird.pk] == ["early_adopter"] and held[latecomer.pk] == []
    assert "verified" in held[verified.pk]
    for user_id, keys in held.items():  # the dashboard reads them from its own profiles and referrals
        browser = Client()
        browser.force_login(User.objects.get(pk=user_id))
        panel = browser.get(reverse("dashboard")).content.decode().split('data-testid="dashboard-badges"')[1]
        assert re.findall(r'data-badge="([a-z_]+)"', panel.split("</section>")[0]) == keys


@pytest.mark.django_db
def test_badges_for_a_page_of_people_take_a_fixed_number_of_queries(django_assert_num_queries):
    people = [make_provider(make_category(name=f"page{n}"), verified=True).user for n in range(6)]
    for person in people[1:]:
        make_seeker(make_category(name=f"also{person.pk}"), user=person)
    # six queries however many people: four for the marketplace facts, Pro, community answers, library articles
    with django_assert_num_queries(7):
        one = badges_of_people(user_ids=[people[0].pk])
    with django_assert_num_queries(7):
        many = badges_of_people(user_ids=[person.pk for person in people])
    assert [badge.key for badge in one[people[0].pk]] == ["verified", "early_adopter"]
    assert [badge.key for badge in many[people[1].pk]] == ["verified", "multi_category", "early_adopter"]


# --- The pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_badges_page_shows_every_rule(client):
    page = client.get(reverse("badges")).content.decode()
    for badge in BADGES:
        assert f'id="{badge.key}"' in page and escape(badge.rule) in page
    assert "Sign up" in page


@pytest.mark.django_db
def test_the_badges_page_says_which_ones_the_person_holds(client):
    person = make_provider(make_category(name="licensed", requires_license=True), verified=True).user
    client.force_login(person)
    page = client.get(reverse("badges")).content.decode()
    assert "You hold 2 of 9." in page
    verified_row = page.split('data-badge="verified"')[1].split("</tr>")[0]
    assert "<strong>Held</strong>" in verified_row
    connector_row = page.split('data-badge="connector"')[1].split("</tr>")[0]
    assert "Not yet" in connector_row


@pytest.mark.django_db
def test_the_provider_page_and_the_dashboard_show_badges_with_their_rule_on_hover(client):
    provider = make_provider(make_category(name="licensed", requires_license=True), verified=True)
    page = client.get(reverse("provider-detail", args=[provider.pk])).content.decode()
    assert 'data-badge="verified"' in page
    assert 'title="Verified: An operator verified the person&#x27;s professional license."' in page
    client.force_login(provider.user)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="dashboard-badges"' in dashboard and 'data-badge="verified"' in dashboard


@pytest.mark.django_db
def test_author_badge_from_three_published_articles():
    from library.models import ArticleStatus
    from tests.library.factories import ArticleFactory, PublishedArticleFactory

    author = make_provider(make_category(name="writers"))
    PublishedArticleFactory(author=author)
    PublishedArticleFactory(author=author)
    ArticleFactory(author=author, status=ArticleStatus.SUBMITTED)
    assert "author" not in [badge.key for badge in badges_of_people(user_ids=[author.user_id])[author.user_id]]
    PublishedArticleFactory(author=author)
    assert "author" in [badge.key for badge in badges_of_people(user_ids=[author.user_id])[author.user_id]]
