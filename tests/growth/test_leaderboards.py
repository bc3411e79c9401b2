"""Leaderboards: the ranking (pure), each board's figures in a month, anonymity, the cache, queries."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community import services as community_services
from community.models import Question
from growth import leaderboards
from growth.errors import ErrorCode
from growth.leaderboards import BOARDS, board_key, connectors_board, contributors_board, providers_board
from growth.ranking import Entry, Month, ranked
from imatch.errors import DomainError
from marketplace.models import (
    AccountType,
    Engagement,
    EngagementStatus,
    Match,
    MatchStatus,
    Referral,
    ReferralStatus,
    User,
)
from tests.library.factories import PublishedArticleFactory
from tests.marketplace.factories import ProviderFactory, SeekerFactory, UserFactory
from tests.marketplace.loop import confirmed_engagement, make_category

NOVEMBER = Month(2026, 11)
MID_NOVEMBER = datetime(2026, 11, 15, 12, tzinfo=UTC)
_names = itertools.count()


# --- Months and ranking (pure) -------------------------------------------------------------------


def test_a_month_is_a_utc_calendar_month_with_its_neighbours():
    assert (NOVEMBER.start, NOVEMBER.end) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert Month(2026, 12).end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Month(2027, 1).previous() == Month(2026, 12) and Month(2026, 12).following() == Month(2027, 1)
    assert NOVEMBER.key == "2026-11" and NOVEMBER.label == "November 2026"
    # 23:30 on Nov 30 in Chicago is already December in UTC.
    chicago = datetime(2026, 11, 30, 23, 30, tzinfo=timezone.get_fixed_timezone(-360))
    assert Month.of(chicago) == Month(2026, 12)
    assert [month.key for month in Month(2026, 2).recent(3)] == ["2026-02", "2026-01", "2025-12"]
    assert Month(2000, 2).recent(5) == [Month(2000, 2), Month(2000, 1)]


@pytest.mark.parametrize("text", ["2026-11", "0001-01", "2026-12"])
def test_month_parse_accepts_yyyy_mm(text):
    assert Month.parse(text).key == text


@pytest.mark.parametrize(
    "text", ["", "2026-13", "2026-00", "2026-1", "26-11", "2026/11", "2026-11-01", " 2026-11", "x"]
)
def test_month_parse_refuses_anything_else(text):
    assert Month.parse(text) is None


def test_ranking_orders_by_figures_shares_ranks_between_equals_and_cuts_at_the_size():
    entries = [
        Entry(7, (3, 4.1)),
        Entry(3, (5, 3.0)),
        Entry(9, (3, 4.1)),  # equal to 7: shares its rank, listed after the smaller id
        Entry(4, (3, 4.5)),  # same count as 7 and 9, better rating: before them
        Entry(5, (0, 5.0)),  # nothing counted: not on the board
        Entry(6, (1, 1.0)),
    ]
    board = ranked(entries, size=4)
    assert [(rank, entry.person_id) for rank, entry in board] == [(1, 3), (2, 4), (3, 7), (3, 9)]
    assert [(rank, entry.person_id) for rank, entry in ranked(entries, size=10)][-1] == (5, 6)


def test_ranking_is_the_same_whatever_the_order_it_is_given():
    entries = [Entry(person, (person % 3, 0)) for person in range(1, 30)]
    assert ranked(entries, size=10) == ranked(list(reversed(entries)), size=10)


# --- Input: category and month ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_month_defaults_to_the_current_one_and_refuses_bad_or_future_months():
    now = datetime(2026, 11, 28, 10, tzinfo=UTC)
    assert leaderboards.leaderboard_month(text="", now=now) == NOVEMBER
    assert leaderboards.leaderboard_month(text="2024-02", now=now) == Month(2024, 2)
    for text, words in [("2026-12", "not started"), ("2026-13", "YYYY-MM"), ("1999-12", "2000-01"), ("nov", "YYYY")]:
        with pytest.raises(DomainError) as refused:
            leaderboards.leaderboard_month(text=text, now=now)
        assert refused.value.field == "month" and refused.value.code == ErrorCode.INVALID_MONTH
        assert words in refused.value.message


@pytest.mark.django_db
def test_the_category_must_be_launched():
    make_category(name="planners")
    make_category(name="sleepers", active=False)
    assert leaderboards.leaderboard_category(name="planners").name == "planners"
    for name, code in [
        ("sleepers", ErrorCode.UNKNOWN_CATEGORY),
        ("nothing", ErrorCode.UNKNOWN_CATEGORY),
        ("", "required"),
    ]:
        with pytest.raises(DomainError) as refused:
            leaderboards.leaderboard_category(name=name)
        assert refused.value.field == "category" and refused.value.code == code


# --- Builders -------------------------------------------------------------------------------------


def _engagement(provider, *, at: datetime, status: str = EngagementStatus.CONFIRMED) -> Engagement:
    """An engagement of `provider` confirmed at `at` (rows written directly: these tests read them)."""
    seeker = SeekerFactory(category=provider.category)
    match = Match.objects.create(
        seeker=seeker, provider=provider, category=provider.category, status=MatchStatus.ACCEPTED, score=0.5, rank=1
    )
    return Engagement.objects.create(
        match=match,
        seeker=seeker,
        provider=provider,
        category=provider.category,
        category_name=provider.category.display_name,
        status=status,
        deal_value_usd=Decimal("500.00"),
        commission_rate=Decimal("0.20"),
        commission_usd=Decimal("100.00"),
        reported_by=seeker.user,
        confirmed_at=at,
    )


def _provider(category, *, name: str | None = None, opt_in: bool | None = None, **fields):
    user = UserFactory(account_type=AccountType.PROVIDER, leaderboard_opt_in=opt_in)
    return ProviderFactory(category=category, user=user, business_name=name or f"Firm {next(_names)}", **fields)


def _accepted_answer(provider, *, at: datetime, hidden: bool = False) -> Question:
    asker = UserFactory()
    question = community_services.question_ask(user=asker, category=provider.category, title="Fees?", body="How?")
    answer = community_services.answer_post(user=provider.user, question_id=question.pk, body="Hourly.")
    community_services.answer_accept(user=asker, answer_id=answer.pk)
    Question.objects.filter(pk=question.pk).update(accepted_at=at)
    if hidden:
        answer.hidden, answer.hidden_reason = True, "Spam"
        answer.save(update_fields=["hidden", "hidden_reason"])
    return question


def _referral(referrer, *, category, at: datetime | None, status: str = ReferralStatus.ACTIVATED) -> Referral:
    referred = UserFactory(referred_by=referrer)
    if category is not None:
        SeekerFactory(user=referred, category=category)
    return Referral.objects.create(referrer=referrer, referred=referred, code=referrer.referral_code, status=status,
                                   activated_at=at)  # fmt: skip


def _board(rows) -> list[tuple]:
    return [(row.rank, row.name, row.figures) for row in rows]


# --- The providers board --------------------------------------------------------------------------


@pytest.mark.django_db
def test_providers_rank_by_engagements_confirmed_in_the_month_then_rating():
    category, elsewhere = make_category(name="planners"), make_category(name="coaches")
    busy = _provider(category, name="Busy Planning", rating_avg=Decimal("4.00"), rating_count=10)
    loved = _provider(category, name="Loved Planning", rating_avg=Decimal("4.90"), rating_count=30)
    fresh = _provider(category, name="Fresh Planning")
    for _ in range(3):
        _engagement(busy, at=MID_NOVEMBER)
    for _ in range(2):
        _engagement(loved, at=MID_NOVEMBER)
    _engagement(fresh, at=MID_NOVEMBER)
    _engagement(fresh, at=MID_NOVEMBER)  # two, like Loved: Loved's rating ranks it first
    _engagement(fresh, at=MID_NOVEMBER, status=EngagementStatus.CANCELLED)  # does not count
    _engagement(fresh, at=MID_NOVEMBER, status=EngagementStatus.REPORTED)  # not confirmed: does not count
    _engagement(fresh, at=NOVEMBER.start - timedelta(microseconds=1))  # October
    _engagement(fresh, at=NOVEMBER.end)  # December
    _engagement(_provider(elsewhere), at=MID_NOVEMBER)  # another category

    board = providers_board(category=category, month=NOVEMBER, now=MID_NOVEMBER)

    assert _board(board.rows) == [
        (1, "Busy Planning", {"engagements": 3, "rating": Decimal("4.00"), "rating_count": 10}),
        (2, "Loved Planning", {"engagements": 2, "rating": Decimal("4.90"), "rating_count": 30}),
        (3, "Fresh Planning", {"engagements": 2, "rating": None, "rating_count": 0}),
    ]
    assert board.rows[0].provider_id == busy.pk


@pytest.mark.django_db
def test_the_first_and_last_moment_of_the_month_count_and_no_other():
    category = make_category()
    first, last, neither = _provider(category), _provider(category), _provider(category)
    _engagement(first, at=NOVEMBER.start)
    _engagement(last, at=NOVEMBER.end - timedelta(microseconds=1))
    _engagement(neither, at=NOVEMBER.end)
    _engagement(neither, at=NOVEMBER.start - timedelta(microseconds=1))
    november = providers_board(category=category, month=NOVEMBER, now=MID_NOVEMBER)
    assert {row.user_id for row in november.rows} == {first.user_id, last.user_id}
    december = providers_board(category=category, month=Month(2026, 12), now=MID_NOVEMBER)
    october = providers_board(category=category, month=Month(2026, 10), now=MID_NOVEMBER)
    assert [row.user_id for row in december.rows] == [row.user_id for row in october.rows] == [neither.user_id]


@pytest.mark.django_db
def test_an_engagement_confirmed_through_the_services_counts_in_the_month_it_was_confirmed():
    engagement = confirmed_engagement()
    now = timezone.now()
    board = providers_board(category=engagement.category, month=Month.of(now), now=now)
    assert [(row.user_id, row.figures["engagements"]) for row in board.rows] == [(engagement.provider.user_id, 1)]


@pytest.mark.django_db
def test_a_deactivated_account_is_left_off_the_boards(settings):
    category = make_category()
    gone = _provider(category)
    _engagement(gone, at=MID_NOVEMBER)
    User.objects.filter(pk=gone.user_id).update(is_active=False)
    assert providers_board(category=category, month=NOVEMBER, now=MID_NOVEMBER).rows == ()


@pytest.mark.django_db
def test_each_board_lists_the_top_leaderboard_size(settings):
    settings.LEADERBOARD_SIZE = 2
    category = make_category()
    for count in (1, 2, 3):
        provider = _provider(category)
        for _ in range(count):
            _engagement(provider, at=MID_NOVEMBER)
    rows = providers_board(category=category, month=NOVEMBER, now=MID_NOVEMBER).rows
    assert [row.figures["engagements"] for row in rows] == [3, 2]


# --- The contributors board -------------------------------------------------------------------------


@pytest.mark.django_db
def test_contributors_rank_by_accepted_answers_plus_published_articles_in_the_month():
    category, elsewhere = make_category(name="planners"), make_category(name="coaches")
    writer = _provider(category, name="Writer & Co")
    answerer = _provider(category, name="Answer Co")
    both = _provider(category, name="Both Co")
    for _ in range(2):
        PublishedArticleFactory(author=writer, published_at=MID_NOVEMBER)
    PublishedArticleFactory(author=writer, published_at=NOVEMBER.end)  # December
    PublishedArticleFactory(author=writer, status="submitted", published_at=None)  # not published
    for _ in range(2):
        _accepted_answer(answerer, at=MID_NOVEMBER)
    _accepted_answer(answerer, at=MID_NOVEMBER, hidden=True)  # hidden by an operator: does not count
    _accepted_answer(both, at=MID_NOVEMBER)
    PublishedArticleFactory(author=both, published_at=MID_NOVEMBER)
    PublishedArticleFactory(author=both, published_at=MID_NOVEMBER)
    other = _provider(elsewhere)
    PublishedArticleFactory(author=other, published_at=MID_NOVEMBER)

    rows = contributors_board(category=category, month=NOVEMBER, now=MID_NOVEMBER).rows

    assert _board(rows) == [
        (1, "Both Co", {"contributions": 3, "accepted_answers": 1, "published_articles": 2}),
        # Equal contributions: more accepted answers first.
        (2, "Answer Co", {"contributions": 2, "accepted_answers": 2, "published_articles": 0}),
        (3, "Writer & Co", {"contributions": 2, "accepted_answers": 0, "published_articles": 2}),
    ]


# --- The connectors board ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_connectors_rank_by_referrals_activated_in_the_month_with_a_profile_in_the_category():
    category, elsewhere = make_category(name="planners"), make_category(name="coaches")
    ana = UserFactory(name="Ana Connector", leaderboard_opt_in=True)
    ben = UserFactory(name="Ben Connector", leaderboard_opt_in=True)
    for _ in range(3):
        _referral(ana, category=category, at=MID_NOVEMBER)
    _referral(ana, category=category, at=MID_NOVEMBER, status=ReferralStatus.ENGAGED)  # engaged since: counts
    _referral(ana, category=elsewhere, at=MID_NOVEMBER)  # a profile in another category only
    _referral(ana, category=None, at=None, status=ReferralStatus.SIGNED_UP)  # no profile yet
    _referral(ana, category=category, at=NOVEMBER.end)  # December
    gone = _referral(ana, category=category, at=MID_NOVEMBER)
    User.objects.filter(pk=gone.referred_id).update(is_active=False)  # a deactivated (farm) account
    _referral(ben, category=category, at=MID_NOVEMBER)

    rows = connectors_board(category=category, month=NOVEMBER, now=MID_NOVEMBER).rows

    assert _board(rows) == [
        (1, "Ana Connector", {"activated_referrals": 4}),
        (2, "Ben Connector", {"activated_referrals": 1}),
    ]


# --- Anonymity ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_people_shown_by_name_have_a_name_badges_a_rating_or_a_link():
    category = make_category()
    public = _provider(category, name="Public Planning", rating_avg=Decimal("4.80"), rating_count=5)
    private = _provider(category, name="Private Planning", opt_in=False, rating_avg=Decimal("4.20"), rating_count=5,
                        license_verified=True, license_verified_at=MID_NOVEMBER)  # fmt: skip
    for provider in (public, private):
        _engagement(provider, at=MID_NOVEMBER)
    seeker = UserFactory(name="Sam Seeker")  # a seeker: anonymous unless they opt in
    chosen = UserFactory(name="Cleo Chosen", leaderboard_opt_in=True)
    for referrer in (seeker, chosen):
        _referral(referrer, category=category, at=MID_NOVEMBER)

    providers = providers_board(category=category, month=NOVEMBER, now=MID_NOVEMBER).rows
    connectors = connectors_board(category=category, month=NOVEMBER, now=MID_NOVEMBER).rows

    [shown] = [row for row in providers if row.user_id == public.user_id]
    [hidden] = [row for row in providers if row.user_id == private.user_id]
    assert (shown.name, shown.provider_id, shown.figures["rating"]) == ("Public Planning", public.pk, Decimal("4.80"))
    assert hidden.anonymous and hidden.name is None and hidden.provider_id is None and hidden.badges == ()
    assert hidden.figures == {"engagements": 1, "rating": None, "rating_count": None}
    assert {row.name for row in connectors} == {"Cleo Chosen", None}


@pytest.mark.django_db
def test_the_name_setting_defaults_by_role_and_the_choice_wins():
    assert not UserFactory(account_type=AccountType.SEEKER).leaderboard_name_shown
    assert UserFactory(account_type=AccountType.PROVIDER).leaderboard_name_shown
    assert UserFactory(account_type=AccountType.BOTH).leaderboard_name_shown
    assert UserFactory(account_type=AccountType.SEEKER, leaderboard_opt_in=True).leaderboard_name_shown
    assert not UserFactory(account_type=AccountType.PROVIDER, leaderboard_opt_in=False).leaderboard_name_shown


# --- The cache --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_boards_are_kept_and_recomputed_at_most_every_ten_minutes(settings, django_assert_num_queries):
    assert settings.LEADERBOARD_CACHE_SECONDS == 600
    category = make_category()
    provider = _provider(category, name="Quiet Planning")
    _engagement(provider, at=MID_NOVEMBER)
    start = MID_NOVEMBER + timedelta(days=1)

    first = leaderboards.leaderboards(category=category, month=NOVEMBER, now=start)
    assert [row.name for row in first["providers"].rows] == ["Quiet Planning"]

    # The provider opts out and gets another engagement: the kept boards do not move for 10 minutes.
    User.objects.filter(pk=provider.user_id).update(leaderboard_opt_in=False)
    _engagement(provider, at=MID_NOVEMBER)
    with django_assert_num_queries(0):
        kept = leaderboards.leaderboards(category=category, month=NOVEMBER, now=start + timedelta(seconds=599))
    assert kept == first

    later = leaderboards.leaderboards(category=category, month=NOVEMBER, now=start + timedelta(seconds=600))
    [row] = later["providers"].rows
    assert row.anonymous and row.figures["engagements"] == 2
    assert later["providers"].computed_at == start + timedelta(seconds=600)


@pytest.mark.django_db
def test_each_board_category_and_month_has_its_own_key():
    category, other = make_category(name="planners"), make_category(name="coaches")
    leaderboards.leaderboards(category=category, month=NOVEMBER, now=MID_NOVEMBER)
    for kind in BOARDS:
        assert cache.get(board_key(kind, category, NOVEMBER)).kind == kind
        assert cache.get(board_key(kind, other, NOVEMBER)) is None
        assert cache.get(board_key(kind, category, Month(2026, 10))) is None


@pytest.mark.django_db
def test_while_another_process_recomputes_a_board_the_previous_one_is_served():
    category = make_category()
    provider = _provider(category)
    leaderboards.leaderboards(category=category, month=NOVEMBER, now=MID_NOVEMBER)
    _engagement(provider, at=MID_NOVEMBER)
    later = MID_NOVEMBER + timedelta(minutes=11)
    key = board_key("providers", category, NOVEMBER)
    cache.add(f"{key}:recomputing", 1, 60)  # another process took the lock
    assert leaderboards.leaderboards(category=category, month=NOVEMBER, now=later)["providers"].rows == ()
    cache.delete(f"{key}:recomputing")
    assert len(leaderboards.leaderboards(category=category, month=NOVEMBER, now=later)["providers"].rows) == 1


@pytest.mark.django_db
def test_without_a_kept_board_a_request_computes_it_even_while_locked():
    category = make_category()
    _engagement(_provider(category), at=MID_NOVEMBER)
    cache.add(f"{board_key('providers', category, NOVEMBER)}:recomputing", 1, 60)
    assert len(leaderboards.leaderboards(category=category, month=NOVEMBER, now=MID_NOVEMBER)["providers"].rows) == 1


# --- Queries: a fixed number however many people are ranked -------------------------------------------------


def _world(category, people: int) -> None:
    for number in range(people):
        provider = _provider(category, opt_in=bool(number % 2))
        _engagement(provider, at=MID_NOVEMBER)
        PublishedArticleFactory(author=provider, published_at=MID_NOVEMBER)
        _referral(provider.user, category=category, at=MID_NOVEMBER)


def _computing_queries(category) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        leaderboards.leaderboards(category=category, month=NOVEMBER, now=MID_NOVEMBER)
    return len(queries)


@pytest.mark.django_db
def test_computing_the_three_boards_takes_the_same_queries_for_2_or_12_people():
    small, large = make_category(name="small"), make_category(name="large")
    _world(small, 2)
    _world(large, 12)
    # Per board: the figures (2 for contributors), the ranked people, and the badges of those shown by name (7).
    assert _computing_queries(small) == _computing_queries(large) == 3 * 9 + 1
