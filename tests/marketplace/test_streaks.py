"""Streaks: the rule on plain weeks, the facts that count, and the bonuses paid once per streak.

Facts in past weeks are made through the services and then moved back by whole weeks (7 days
moves an action exactly one calendar week back). Money tests: also run on PostgreSQL.
"""

import io
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from community import services as community
from currency.errors import NotRedeemable
from currency.models import EarningRule, PotTransaction
from currency.selectors import pot_rules_forget, wallet_summary
from currency.services import redemption_request
from imatch.weeks import calendar_week, calendar_week_start
from marketplace.models import Match, Rating
from marketplace.selectors import streak_action_weeks, streak_summary, streaks_of_people
from marketplace.services import engagements, matches, ratings
from marketplace.services.streaks import streak_bonuses_pay
from marketplace.streaks import BONUS_WEEKS, streak_of
from tests.community.conftest import old_verified_user
from tests.currency.factories import balance_of
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import confirmed_engagement, make_category, make_provider, make_seeker

MONDAY = date(2026, 11, 23)
WEEK = timedelta(days=7)


def weeks_back(*ago: int) -> set[date]:
    return {MONDAY - WEEK * k for k in ago}


# --- The rule, on plain weeks ------------------------------------------------------------


def test_a_calendar_week_runs_monday_to_monday_utc_whatever_the_time_zone():
    assert calendar_week(datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == MONDAY
    assert calendar_week(datetime(2026, 11, 29, 23, 59, tzinfo=UTC)) == MONDAY
    assert calendar_week(datetime(2026, 11, 22, 23, 59, tzinfo=UTC)) == MONDAY - WEEK
    # Monday 01:00 in Berlin is still Sunday in UTC: the week of the UTC day.
    berlin = datetime(2026, 11, 23, 0, 30, tzinfo=UTC).astimezone(timezone.get_fixed_timezone(60))
    assert calendar_week(berlin) == MONDAY
    assert calendar_week_start(MONDAY) == datetime(2026, 11, 23, tzinfo=UTC)


def test_no_action_no_streak():
    streak = streak_of(action_weeks=[], this_week=MONDAY)
    assert (streak.weeks, streak.start, streak.done_this_week, streak.at_risk) == (0, None, False, False)
    assert streak.next_bonus.weeks == 4 and streak.next_bonus.week == MONDAY + WEEK * 3
    assert streak.bonuses_due == []


def test_weeks_in_a_row_through_this_week():
    streak = streak_of(action_weeks=weeks_back(0, 1, 2, 3, 5), this_week=MONDAY)
    assert (streak.weeks, streak.start, streak.done_this_week) == (4, MONDAY - WEEK * 3, True)
    assert streak.bonuses_due == [4]
    assert streak.next_bonus.weeks == 12 and streak.next_bonus.week == MONDAY + WEEK * 8


def test_a_streak_through_last_week_is_alive_but_at_risk():
    streak = streak_of(action_weeks=weeks_back(1, 2, 3), this_week=MONDAY)
    assert (streak.weeks, streak.start, streak.at_risk) == (3, MONDAY - WEEK * 3, True)
    # Acting this week makes it 4: the bonus comes this week.
    assert streak.next_bonus.weeks == 4 and streak.next_bonus.week == MONDAY


def test_a_missed_week_ends_the_streak_and_the_next_action_starts_a_new_one():
    assert streak_of(action_weeks=weeks_back(2, 3, 4, 5), this_week=MONDAY).weeks == 0
    streak = streak_of(action_weeks=weeks_back(0, 2, 3, 4, 5), this_week=MONDAY)
    assert (streak.weeks, streak.start) == (1, MONDAY)


def test_after_the_last_bonus_there_is_no_next_one_and_future_weeks_do_not_count():
    streak = streak_of(action_weeks={MONDAY + WEEK, *weeks_back(*range(13))}, this_week=MONDAY)
    assert streak.weeks == 13 and streak.bonuses_due == list(BONUS_WEEKS) and streak.next_bonus is None


# --- The facts that count ----------------------------------------------------------------


def _move_back(match: Match, weeks: int) -> None:
    Match.objects.filter(pk=match.pk).update(
        introduced_at=match.introduced_at - WEEK * weeks, responded_at=match.responded_at - WEEK * weeks
    )


def lead(category, provider, *, answer: str = "accept", weeks_ago: int = 0, hours: float = 1) -> Match:
    """A new seeker's introduction to `provider`, answered after `hours`, `weeks_ago` weeks back."""
    seeker = make_seeker(category)
    [match] = [m for m in matches.match_run_for_seeker(seeker=seeker) if m.provider_id == provider.pk]
    matches.match_introduce(match=match, user=seeker.user)
    if answer == "accept":
        match = matches.match_accept(match=match, user=provider.user)
    elif answer == "decline":
        match = matches.match_decline(match=match, user=provider.user)
    else:
        match = matches.match_decline(match=match, user=seeker.user)
    Match.objects.filter(pk=match.pk).update(introduced_at=match.responded_at - timedelta(hours=hours))
    match.refresh_from_db()
    _move_back(match, weeks_ago)
    return match


def streak_weeks(category, provider, weeks_ago) -> None:
    """One lead declined within the hour in each of these weeks (declined: the provider's capacity stays free)."""
    for weeks in weeks_ago:
        lead(category, provider, answer="decline", weeks_ago=weeks)


@pytest.fixture
def category(db):
    return make_category()


@pytest.fixture
def provider(category):
    return make_provider(category, user=UserFactory(name="Paula Provider"))


this_week = calendar_week(timezone.now())


def test_a_lead_answered_within_24_hours_counts_either_way_and_only_for_the_provider(category, provider):
    lead(category, provider, answer="accept", weeks_ago=0, hours=23)
    lead(category, provider, answer="decline", weeks_ago=1, hours=23.9)
    lead(category, provider, answer="accept", weeks_ago=2, hours=25)  # too late
    withdrawn = lead(category, provider, answer="seeker-declines", weeks_ago=3, hours=1)
    weeks = streak_action_weeks(user_ids=[provider.user_id, withdrawn.seeker.user_id])
    assert weeks == {provider.user_id: {this_week, this_week - WEEK}, withdrawn.seeker.user_id: set()}


def test_an_expired_introduction_does_not_count(category, provider):
    match = lead(category, provider, weeks_ago=0)
    Match.objects.filter(pk=match.pk).update(status="expired")
    assert streak_action_weeks(user_ids=[provider.user_id])[provider.user_id] == set()


def test_a_rating_counts_for_the_rater_unless_the_engagement_is_cancelled(db):
    engagement = confirmed_engagement()
    seeker, provider_user = engagement.seeker.user, engagement.provider.user
    ratings.rating_create(engagement=engagement, user=seeker, stars=4)
    Match.objects.filter(pk=engagement.match_id).update(introduced_at=None)  # keep the lead out of the picture
    weeks = streak_action_weeks(user_ids=[seeker.pk, provider_user.pk])
    assert weeks == {seeker.pk: {this_week}, provider_user.pk: set()}
    # someone known to hold no provider profile: one query, their ratings still count
    with CaptureQueriesContext(connection) as one:
        assert streak_action_weeks(user_ids=[seeker.pk], provider_user_ids=[]) == {seeker.pk: {this_week}}
    assert len(one) == 1
    assert "1 week in a row" in _dashboard(seeker)
    engagements.engagement_cancel(engagement=engagement, user=UserFactory(is_staff=True), reason="Never happened.")
    assert streak_action_weeks(user_ids=[seeker.pk])[seeker.pk] == set()


def test_an_accepted_answer_counts_when_it_earned_pot_and_not_once_hidden(category, provider):
    asker = old_verified_user()
    question = community.question_ask(user=asker, category=category, title="How much to save?", body="I am 40.")
    answer = community.answer_post(user=provider.user, question_id=question.pk, body="15% of income.")
    community.answer_accept(user=asker, answer_id=answer.pk)
    assert streak_action_weeks(user_ids=[provider.user_id])[provider.user_id] == {this_week}
    # the dashboard says who holds a provider profile: the same weeks
    known = streak_action_weeks(user_ids=[provider.user_id, asker.pk], provider_user_ids=[provider.user_id])
    assert known == {provider.user_id: {this_week}, asker.pk: set()}
    community.answer_hide(operator=UserFactory(is_staff=True), answer_id=answer.pk, reason="Spam")
    assert streak_action_weeks(user_ids=[provider.user_id])[provider.user_id] == set()


def test_an_accepted_answer_that_earned_nothing_does_not_count(category, provider):
    asker = UserFactory()  # unverified email: the acceptance pays no award (community's farming limits)
    question = community.question_ask(user=asker, category=category, title="How much to save?", body="I am 40.")
    answer = community.answer_post(user=provider.user, question_id=question.pk, body="15% of income.")
    assert community.answer_accept(user=asker, answer_id=answer.pk).award is None
    assert streak_action_weeks(user_ids=[provider.user_id])[provider.user_id] == set()


def test_a_page_of_people_costs_three_queries(db, django_assert_num_queries):
    people = []
    for number in range(4):
        category = make_category(name=f"trade{number}", display_name=f"Trade {number}")
        people.append(make_provider(category))
        streak_weeks(category, people[-1], range(number + 1))
    with django_assert_num_queries(3):
        streaks = streaks_of_people(user_ids=[person.user_id for person in people])
    assert [streaks[person.user_id].weeks for person in people] == [1, 2, 3, 4]


# --- Bonuses -----------------------------------------------------------------------------


def pay_as_of(user, *, weeks_ago: int) -> list[PotTransaction]:
    """The bonus check as it ran `weeks_ago` weeks back (its ledger rows dated then too)."""
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - WEEK * weeks_ago):
        return streak_bonuses_pay(user=user)


def _bonus_rows(user):
    return list(PotTransaction.objects.filter(user=user, category="streak_bonus").order_by("id"))


def test_four_weeks_pay_the_4_week_bonus_once_as_promotional_pot(category, provider):
    streak_weeks(category, provider, [1, 2, 3])
    assert streak_bonuses_pay(user=provider.user) == []  # 3 weeks, through last week
    before = balance_of(provider.user)
    lead(category, provider, weeks_ago=0)
    [row] = streak_bonuses_pay(user=provider.user)
    assert (row.amount, row.promotional_amount, row.transaction_type, row.note) == (50, 50, "earn", "4-week streak")
    start = (this_week - WEEK * 3).isoformat()
    assert row.idempotency_key == f"award:streak_bonus_4_weeks:user:{provider.user_id}:from:{start}"
    assert balance_of(provider.user) == before + 50
    # Retries and the next actions of the same streak pay nothing more.
    lead(category, provider, weeks_ago=0)
    assert streak_bonuses_pay(user=provider.user) == [] and streak_bonuses_pay(user=provider.user) == []
    assert len(_bonus_rows(provider.user)) == 1
    assert wallet_summary(user=provider.user).promotional_balance >= 50


def test_twelve_weeks_pay_the_12_week_bonus_and_a_late_check_pays_both(category, provider):
    streak_weeks(category, provider, range(12))
    rows = streak_bonuses_pay(user=provider.user)
    assert [(row.category, row.amount) for row in rows] == [("streak_bonus", 50), ("streak_bonus", 150)]
    assert streak_bonuses_pay(user=provider.user) == []
    lead(category, provider, weeks_ago=0)
    assert streak_bonuses_pay(user=provider.user) == []


def test_a_broken_and_rebuilt_streak_earns_again(category, provider):
    streak_weeks(category, provider, [9, 8, 7, 6])  # four weeks, then two without an action
    assert len(pay_as_of(provider.user, weeks_ago=6)) == 1
    assert streak_bonuses_pay(user=provider.user) == []  # broken: no streak now
    streak_weeks(category, provider, [3, 2, 1, 0])
    [row] = streak_bonuses_pay(user=provider.user)
    assert row.idempotency_key.endswith(f":from:{(this_week - WEEK * 3).isoformat()}")
    assert len(_bonus_rows(provider.user)) == 2


def test_a_streak_whose_first_weeks_stop_counting_does_not_pay_again(db):
    engagement = confirmed_engagement()
    category, provider = engagement.category, engagement.provider
    Match.objects.filter(pk=engagement.match_id).update(introduced_at=None)
    ratings.rating_create(engagement=engagement, user=provider.user, stars=5)
    Rating.objects.filter(engagement=engagement).update(created_at=timezone.now() - WEEK * 4)
    streak_weeks(category, provider, [3, 2, 1])
    assert len(pay_as_of(provider.user, weeks_ago=1)) == 1  # weeks 4..1
    engagements.engagement_cancel(engagement=engagement, user=UserFactory(is_staff=True), reason="Never happened.")
    lead(category, provider, weeks_ago=0)  # weeks 3..0: four weeks from a later first week
    assert streak_bonuses_pay(user=provider.user) == []
    assert len(_bonus_rows(provider.user)) == 1


@override_settings(STREAK_BONUSES_PER_YEAR=2)
def test_the_yearly_limit_stops_the_bonuses(category, provider):
    streak_weeks(category, provider, [20, 19, 18, 17, 11, 10, 9, 8, 3, 2, 1, 0])
    for weeks_ago in (17, 8, 0):  # three streaks of four weeks, each checked in its own last week
        pay_as_of(provider.user, weeks_ago=weeks_ago)
    assert len(_bonus_rows(provider.user)) == 2


def test_an_inactive_rule_pays_nothing_and_an_operators_amount_is_what_pays(category, provider):
    streak_weeks(category, provider, range(4))
    EarningRule.objects.filter(key="streak_bonus_4_weeks").update(active=False)
    pot_rules_forget()
    assert streak_bonuses_pay(user=provider.user) == []
    EarningRule.objects.filter(key="streak_bonus_4_weeks").update(active=True, amount=75)
    pot_rules_forget()
    [row] = streak_bonuses_pay(user=provider.user)
    assert row.amount == 75


def test_the_action_pays_the_bonus_after_its_commit(category, provider, django_capture_on_commit_callbacks):
    streak_weeks(category, provider, [3, 2, 1])
    with django_capture_on_commit_callbacks(execute=True):
        lead(category, provider, weeks_ago=0)
    assert [row.amount for row in _bonus_rows(provider.user)] == [50]
    with django_capture_on_commit_callbacks(execute=True):  # a late answer does not even check
        match = lead(category, provider, weeks_ago=0, hours=30)
    assert match.responded_at - match.introduced_at > timedelta(hours=24)
    assert len(_bonus_rows(provider.user)) == 1


def test_a_rating_and_an_accepted_answer_trigger_the_check(category, provider, django_capture_on_commit_callbacks):
    streak_weeks(category, provider, [3, 2, 1])
    asker = old_verified_user()
    question = community.question_ask(user=asker, category=category, title="How much to save?", body="I am 40.")
    answer = community.answer_post(user=provider.user, question_id=question.pk, body="15% of income.")
    with django_capture_on_commit_callbacks(execute=True):
        community.answer_accept(user=asker, answer_id=answer.pk)
    assert [row.amount for row in _bonus_rows(provider.user)] == [50]
    engagement = confirmed_engagement(category=make_category(name="coaches", display_name="Coaches"))
    rater = engagement.seeker.user
    Match.objects.filter(pk=engagement.match_id).update(introduced_at=None)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ratings.rating_create(engagement=engagement, user=rater, stars=4)
    assert callbacks and _bonus_rows(rater) == []  # one week: checked, nothing due


def test_the_summary_says_what_keeps_it_going_and_what_comes_next(category, provider):
    streak_weeks(category, provider, [1, 2, 3])
    summary = streak_summary(user=provider.user)
    assert summary.streak.weeks == 3 and summary.streak.at_risk
    assert summary.next_bonus.weeks == 4 and summary.next_bonus_pot == 50
    assert summary.next_bonus_starts == calendar_week_start(this_week)
    assert summary.week_ends_at == calendar_week_start(this_week + WEEK)
    assert any("24 hours" in way for way in summary.ways)
    seeker_ways = streak_summary(user=UserFactory()).ways
    assert seeker_ways == ["Rate the other side of an engagement"]


# --- The dashboard ------------------------------------------------------------------------


def _dashboard(user) -> str:
    browser = Client()
    browser.force_login(user)
    return browser.get(reverse("dashboard")).content.decode()


def test_the_dashboard_shows_the_streak_what_keeps_it_and_the_next_bonus(category, provider):
    page = _dashboard(UserFactory())
    assert "No streak yet" in page and "Rate the other side of an engagement" in page and "50 POT" in page
    streak_weeks(category, provider, [1, 2, 3])
    page = _dashboard(provider.user)
    assert "3 weeks in a row" in page and "This week does not count yet" in page
    assert "within 24 hours" in page and "at 4 weeks" in page
    streak_weeks(category, provider, range(4, 12))
    streak_weeks(category, provider, [0])
    page = _dashboard(provider.user)
    assert "12 weeks in a row" in page and "This week counts already" in page and "earned both bonuses" in page


def test_the_dashboards_queries_do_not_grow_with_the_streak(category, provider, django_assert_num_queries):
    browser = Client()
    browser.force_login(provider.user)
    streak_weeks(category, provider, [0])
    browser.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as few:
        browser.get(reverse("dashboard"))
    streak_weeks(category, provider, range(1, 11))  # 11 weeks: the next bonus (12) is still read
    with django_assert_num_queries(len(few.captured_queries)):
        assert "11 weeks in a row" in browser.get(reverse("dashboard")).content.decode()


# --- The money path -----------------------------------------------------------------------


def test_one_person_with_own_seeker_accounts_gets_at_most_the_yearly_bonuses_all_promotional(category):
    """One person: a provider account, and a new seeker account of their own each week (a seeker is
    introduced to a provider once) whose introduction the provider declines within the hour. Over a
    year they build 12-week streaks with one week off between them, the pattern that pays most.
    Without the yearly limit that is 4 x (50 + 150) = 800 POT; with STREAK_BONUSES_PER_YEAR = 4 it
    is 2 x (50 + 150) = 400 POT, all promotional: spendable on features, never redeemable for USD
    until a paid commission covers it, so no USD leaves the platform that it did not receive."""
    provider = make_provider(category, user=UserFactory(email_verified_at=timezone.now()))
    start = balance_of(provider.user)
    for weeks_ago in range(51, -1, -1):
        if (51 - weeks_ago) % 13 == 12:
            continue  # the week off between two streaks
        lead(category, provider, answer="decline", weeks_ago=weeks_ago)
        pay_as_of(provider.user, weeks_ago=weeks_ago)
    rows = _bonus_rows(provider.user)
    assert [row.amount for row in rows] == [50, 150, 50, 150]
    assert all(row.promotional_amount == row.amount for row in rows)
    assert balance_of(provider.user) - start == 400
    summary = wallet_summary(user=provider.user)
    assert summary.redeemable == 0
    with pytest.raises(NotRedeemable):
        redemption_request(user=provider.user, pot_amount=500, payment_method="PayPal: me@example.com")
    # The seeker accounts earned nothing from streaks: asking for an introduction does not count.
    assert not PotTransaction.objects.filter(category="streak_bonus").exclude(user=provider.user).exists()


# --- The rules: seeded, and the operators' amounts ------------------------------------------


def test_seed_pot_knows_the_streak_rules_promotional(db):
    EarningRule.objects.filter(key__startswith="streak_bonus_").delete()
    call_command("seed_pot", stdout=io.StringIO())
    rules = {rule.key: rule for rule in EarningRule.objects.filter(reason="streak_bonus")}
    assert {key: (rule.amount, rule.promotional, rule.active) for key, rule in rules.items()} == {
        "streak_bonus_4_weeks": (50, True, True),
        "streak_bonus_12_weeks": (150, True, True),
    }


def test_an_operator_sets_the_4_week_amount_in_the_admin_and_the_next_bonus_pays_it(category, provider, admin_client):
    rule = EarningRule.objects.get(key="streak_bonus_4_weeks")
    form = {
        "name": rule.name,
        "description": rule.description,
        "reason": rule.reason,
        "audience": rule.audience,
        "amount": "80",
        "percent_of_deal_value": "",
        "promotional": "on",
        "active": "on",
    }
    response = admin_client.post(reverse("admin:currency_earningrule_change", args=[rule.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "80 POT" in _dashboard(provider.user)
    streak_weeks(category, provider, range(4))
    [row] = streak_bonuses_pay(user=provider.user)
    assert (row.amount, row.promotional_amount) == (80, 80)
    page = admin_client.get(reverse("admin:currency_pottransaction_changelist") + "?category=streak_bonus")
    assert page.status_code == 200 and provider.user.email in page.content.decode()


def test_a_failing_check_is_logged_and_never_undoes_the_action(category, provider, django_capture_on_commit_callbacks):
    failing = mock.patch("marketplace.services.streaks.streak_bonuses_pay", side_effect=RuntimeError("boom"))
    with failing as check, django_capture_on_commit_callbacks(execute=True):
        match = lead(category, provider, answer="accept")
    assert check.called
    match.refresh_from_db()
    assert match.status == "accepted" and _bonus_rows(provider.user) == []
