"""Matches through the services: runs, slots, introductions, answers, expiry, emails."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from currency.selectors import extra_matches_available
from currency.services import pot_spend
from imatch.errors import DomainError
from marketplace.candidates import clear_pool_cache
from marketplace.errors import InvalidTransition, WrongSide
from marketplace.models import Match, MatchStatus
from marketplace.services import matches
from tests.currency.factories import pot_fund
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import hours_ago, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


@pytest.fixture
def category():
    return make_category()


def test_a_run_suggests_the_best_providers_with_score_and_reasons(category):
    seeker = make_seeker(category)
    best = make_provider(category, city="Austin")
    good = make_provider(category, city="Dallas")
    remote = make_provider(category, city="Denver", state="CO", remote=True)
    far = make_provider(category, city="Denver", state="CO", remote=False)
    make_provider(category, city="Houston", specialties=["tax"], bio="Taxes for small businesses.")

    made = matches.match_run_for_seeker(seeker=seeker)

    # Dallas is about 290 km from Austin, beyond the seeker's 25 km: a remote provider fits better.
    assert [m.provider_id for m in made] == [best.pk, remote.pk, good.pk]
    assert far.pk not in {m.provider_id for m in made}
    first = Match.objects.get(pk=made[0].pk)
    assert first.status == MatchStatus.SUGGESTED
    assert Decimal("0") < first.score <= Decimal("1")
    assert [m.rank for m in made] == [1, 2, 3]
    assert "Specializes in retirement planning" in first.reasons and "Under 1 km away" in first.reasons
    assert set(first.breakdown) >= {"need", "budget", "location", "quality", "capacity"}


def test_running_again_keeps_matches_and_refills_only_freed_slots(category):
    seeker = make_seeker(category)
    providers = [make_provider(category) for _ in range(5)]
    first = matches.match_run_for_seeker(seeker=seeker)
    assert matches.match_run_for_seeker(seeker=seeker) == []
    matches.match_decline(match=first[0], user=seeker.user, reason="Not for me")

    [refill] = matches.match_run_for_seeker(seeker=seeker)

    assert refill.provider_id not in {m.provider_id for m in first}
    assert refill.rank == 4
    assert Match.objects.filter(seeker=seeker).count() == 4
    assert len(providers) == 5


def test_extra_matches_give_three_more_once(category):
    seeker = make_seeker(category)
    for _ in range(8):
        make_provider(category)
    matches.match_run_for_seeker(seeker=seeker)
    pot_fund(seeker.user, 500)
    pot_spend(user=seeker.user, option_key="extra_matches")

    assert len(matches.match_run_for_seeker(seeker=seeker)) == 3
    assert matches.match_run_for_seeker(seeker=seeker) == []  # used up
    assert Match.objects.filter(seeker=seeker).count() == 6


def test_extra_matches_are_kept_while_no_provider_can_fill_them(category):
    seeker = make_seeker(category)
    for _ in range(3):
        make_provider(category)
    matches.match_run_for_seeker(seeker=seeker)
    pot_fund(seeker.user, 500)
    pot_spend(user=seeker.user, option_key="extra_matches")
    assert matches.match_run_for_seeker(seeker=seeker) == []
    assert extra_matches_available(user=seeker.user) == 3
    make_provider(category)
    assert len(matches.match_run_for_seeker(seeker=seeker)) == 1
    assert extra_matches_available(user=seeker.user) == 0


def test_a_provider_with_a_profile_boost_is_featured(category):
    seeker = make_seeker(category)
    plain = make_provider(category)
    boosted = make_provider(category)
    pot_fund(boosted.user, 500)
    pot_spend(user=boosted.user, option_key="profile_boost")

    made = {m.provider_id: m for m in matches.match_run_for_seeker(seeker=seeker)}

    assert made[boosted.pk].featured and "Featured" in made[boosted.pk].reasons
    assert not made[plain.pk].featured
    assert made[boosted.pk].rank == 1  # identical otherwise: the boost decides


def test_no_matches_in_an_inactive_category(category):
    seeker = make_seeker(category)
    make_provider(category)
    category.active = False
    category.save()
    with pytest.raises(DomainError) as refused:
        matches.match_run_for_seeker(seeker=seeker)
    assert refused.value.code == "category_inactive"
    assert not Match.objects.exists()


def test_unverified_providers_are_not_matched_where_a_license_is_required():
    category = make_category(name="advisors", requires_license=True)
    seeker = make_seeker(category)
    make_provider(category)
    verified = make_provider(category, verified=True)
    assert [m.provider_id for m in matches.match_run_for_seeker(seeker=seeker)] == [verified.pk]


def test_a_person_is_never_matched_with_themselves_or_someone_who_declined(category):
    seeker = make_seeker(category)
    make_provider(category, user=seeker.user)  # the same person offers the service too
    other_category = make_category(name="coaches", display_name="Coaches")
    declined_user = UserFactory()
    earlier = make_provider(other_category, user=declined_user)
    earlier_seeker = make_seeker(other_category, user=seeker.user)
    [old] = matches.match_run_for_seeker(seeker=earlier_seeker)
    assert old.provider_id == earlier.pk
    matches.match_introduce(match=old, user=seeker.user)
    matches.match_decline(match=old, user=declined_user)
    make_provider(category, user=declined_user)

    assert matches.match_run_for_seeker(seeker=seeker) == []


def test_the_number_of_queries_does_not_grow_with_the_providers(category):
    def queries_for(providers: int) -> int:
        seeker = make_seeker(category)
        for _ in range(providers):
            make_provider(category)
        clear_pool_cache()  # both cold: the index and the answering histories are read
        with CaptureQueriesContext(connection) as captured:
            made = matches.match_run_for_seeker(seeker=seeker)
        assert made
        return len(captured)

    few = queries_for(2)
    many = queries_for(30)
    assert many == few
    assert many <= 20


# --- A batch run over a category -------------------------------------------------------


def test_a_category_run_fills_open_seekers_and_counts_them(category, monkeypatch):
    providers = [make_provider(category) for _ in range(4)]
    for _ in range(4):
        make_seeker(category)
    stranded = make_seeker(category, state="CA", remote_ok=False)  # no provider in CA
    full = make_seeker(category)
    matches.match_run_for_seeker(seeker=full)  # already has its 3 matches: not open
    monkeypatch.setattr(matches, "PROGRESS_EVERY", 2)
    reports = []

    run = matches.match_run_for_category(
        category=category, progress=lambda done, total, made: reports.append((done, total, made))
    )

    assert run == matches.CategoryMatchRun(seekers=5, matched=4, unmatched=1, matches=12)
    assert reports == [(2, 5, 6), (4, 5, 12), (5, 5, 12)]
    assert not Match.objects.filter(seeker=stranded).exists()
    # One shared pool: each seeker's new leads weigh on the next, so leads are spread.
    leads = [Match.objects.filter(provider=p).count() for p in providers]
    assert max(leads) - min(leads) <= 1
    assert matches.match_run_for_category(category=category) == matches.CategoryMatchRun(
        seekers=1, matched=0, unmatched=1, matches=0
    )  # only the stranded seeker is still open


def test_a_category_run_queries_do_not_grow_with_the_providers():
    def queries_for(providers: int) -> int:
        category = make_category(name=f"planners_{providers}")
        for _ in range(providers):
            make_provider(category)
        for _ in range(3):
            make_seeker(category)
        with CaptureQueriesContext(connection) as captured:
            run = matches.match_run_for_category(category=category)
        assert (run.seekers, run.matches) == (3, 3 * min(providers, 3))
        return len(captured)

    assert queries_for(2) == queries_for(30)


def test_no_category_run_in_an_inactive_category(category):
    make_provider(category)
    make_seeker(category)
    category.active = False
    category.save(update_fields=["active"])
    with pytest.raises(DomainError, match="not open"):
        matches.match_run_for_category(category=category)
    assert not Match.objects.exists()


# --- Introduce, accept, decline -------------------------------------------------------


@pytest.fixture
def suggested(category):
    seeker = make_seeker(category)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    mail.outbox.clear()
    return match


def test_the_seeker_asks_for_an_introduction_and_both_get_an_email(suggested, django_capture_on_commit_callbacks):
    seeker_user, provider_user = suggested.seeker.user, suggested.provider.user
    with django_capture_on_commit_callbacks(execute=True):
        match = matches.match_introduce(match=suggested, user=seeker_user)

    assert match.status == MatchStatus.INTRODUCED and match.introduced_at
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {seeker_user.email, provider_user.email}
    # Emails are shared only once the provider accepts: until then the two talk in the thread.
    assert provider_user.email not in by_recipient[seeker_user.email].body
    assert seeker_user.email not in by_recipient[provider_user.email].body
    thread = f"https://imatch.test/conversations/{match.pk}/"  # SITE_URL
    assert thread in by_recipient[seeker_user.email].body and thread in by_recipient[provider_user.email].body
    assert "Specializes in retirement planning" in by_recipient[provider_user.email].body
    assert "retire at 60" in by_recipient[provider_user.email].body


@pytest.mark.parametrize("who", ["provider", "stranger"])
def test_only_the_seeker_introduces(suggested, who, django_capture_on_commit_callbacks):
    user = suggested.provider.user if who == "provider" else UserFactory()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(WrongSide):
        matches.match_introduce(match=suggested, user=user)
    assert Match.objects.get(pk=suggested.pk).status == MatchStatus.SUGGESTED
    assert mail.outbox == []


def test_introducing_twice_is_refused(suggested):
    matches.match_introduce(match=suggested, user=suggested.seeker.user)
    with pytest.raises(InvalidTransition):
        matches.match_introduce(match=suggested, user=suggested.seeker.user)


def test_a_provider_no_longer_accepting_clients_cannot_be_introduced(suggested):
    provider = suggested.provider
    provider.accepting_clients = False
    provider.save()
    with pytest.raises(DomainError) as refused:
        matches.match_introduce(match=suggested, user=suggested.seeker.user)
    assert refused.value.code == "provider_unavailable"


def test_only_the_provider_accepts_and_only_an_introduction(suggested, django_capture_on_commit_callbacks):
    provider_user, seeker_user = suggested.provider.user, suggested.seeker.user
    with pytest.raises(InvalidTransition):
        matches.match_accept(match=suggested, user=provider_user)
    matches.match_introduce(match=suggested, user=seeker_user)
    with pytest.raises(WrongSide):
        matches.match_accept(match=suggested, user=seeker_user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        match = matches.match_accept(match=suggested, user=provider_user)
    assert match.status == MatchStatus.ACCEPTED
    # Each side gets the other's email now.
    by_recipient = {message.to[0]: message.body for message in mail.outbox}
    assert set(by_recipient) == {seeker_user.email, provider_user.email}
    assert provider_user.email in by_recipient[seeker_user.email]
    assert seeker_user.email in by_recipient[provider_user.email]


def test_a_provider_cannot_decline_a_match_it_was_not_introduced_to(suggested):
    with pytest.raises(WrongSide):
        matches.match_decline(match=suggested, user=suggested.provider.user)


def test_when_the_provider_declines_the_seeker_gets_the_next_best(category, django_capture_on_commit_callbacks):
    seeker = make_seeker(category)
    providers = [make_provider(category) for _ in range(4)]
    made = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=made[0], user=seeker.user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        declined = matches.match_decline(match=made[0], user=made[0].provider.user, reason="Fully booked")

    assert declined.status == MatchStatus.DECLINED and declined.decline_reason == "Fully booked"
    assert [m.to for m in mail.outbox] == [[seeker.user.email]]
    assert "Fully booked" in mail.outbox[0].body
    live = Match.objects.filter(seeker=seeker).exclude(status=MatchStatus.DECLINED)
    assert live.count() == 3
    assert {m.provider_id for m in Match.objects.filter(seeker=seeker)} == {p.pk for p in providers}


def test_a_seeker_declining_a_suggestion_sends_no_email(suggested, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        matches.match_decline(match=suggested, user=suggested.seeker.user)
    assert mail.outbox == []


def test_a_declined_match_cannot_be_declined_or_introduced_again(suggested):
    matches.match_decline(match=suggested, user=suggested.seeker.user)
    for action in (matches.match_decline, matches.match_introduce):
        with pytest.raises(InvalidTransition):
            action(match=suggested, user=suggested.seeker.user)


def test_a_too_long_decline_reason_is_refused(suggested):
    with pytest.raises(DomainError) as refused:
        matches.match_decline(match=suggested, user=suggested.seeker.user, reason="x" * 1001)
    assert refused.value.field == "reason"
    assert Match.objects.get(pk=suggested.pk).status == MatchStatus.SUGGESTED


# --- Expiry ---------------------------------------------------------------------------


def test_introductions_unanswered_for_72_hours_expire_and_the_seeker_gets_the_next_best(
    category, django_capture_on_commit_callbacks
):
    seeker = make_seeker(category)
    for _ in range(4):
        make_provider(category)
    stale, fresh, _ = matches.match_run_for_seeker(seeker=seeker)
    for match in (stale, fresh):
        matches.match_introduce(match=match, user=seeker.user)
    Match.objects.filter(pk=stale.pk).update(introduced_at=hours_ago(73))
    Match.objects.filter(pk=fresh.pk).update(introduced_at=hours_ago(71))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        expired = matches.match_expire_stale()

    assert [m.pk for m in expired] == [stale.pk]
    assert Match.objects.get(pk=stale.pk).status == MatchStatus.EXPIRED
    assert Match.objects.get(pk=fresh.pk).status == MatchStatus.INTRODUCED
    assert Match.objects.filter(seeker=seeker).count() == 4
    assert sorted(m.to[0] for m in mail.outbox) == sorted([seeker.user.email, stale.provider.user.email])
    with pytest.raises(InvalidTransition):
        matches.match_accept(match=stale, user=stale.provider.user)
