"""A cancelled engagement frees the seeker's slot and the provider's capacity (issue 10)."""

from io import StringIO

import pytest
from django.core.management import call_command

from marketplace import selectors
from marketplace.models import EngagementStatus, Match, MatchStatus
from marketplace.services import engagements, matches
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


def _engaged_pair(category):
    """One seeker (one slot) engaged with the first provider; a second provider is free."""
    seeker = make_seeker(category)
    first = make_provider(category, max_active_clients=1)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    assert match.provider_id == first.pk
    second = make_provider(category)
    matches.match_introduce(match=match, user=seeker.user)
    matches.match_accept(match=match, user=first.user)
    engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="800.00")
    return seeker, first, second, match, engagement


def test_an_open_engagement_holds_the_slot_and_the_capacity():
    category = make_category(matches_per_request=1)
    seeker, _first, second, _match, _ = _engaged_pair(category)
    assert list(selectors.seekers_with_free_slots(category=category)) == []
    assert matches.match_run_for_seeker(seeker=seeker) == []
    other = make_seeker(category)
    [other_match] = matches.match_run_for_seeker(seeker=other)
    assert other_match.provider_id == second.pk  # the first provider is at capacity (1 active client)


def test_the_next_run_fills_the_slot_of_a_cancelled_engagement_and_releases_the_provider():
    category = make_category(matches_per_request=1)
    seeker, first, second, match, engagement = _engaged_pair(category)
    engagements.engagement_cancel(engagement=engagement, user=seeker.user, reason="Changed my mind")
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.CANCELLED

    assert [s.pk for s in selectors.seekers_with_free_slots(category=category)] == [seeker.pk]
    out = StringIO()
    call_command("run_matching", stdout=out)
    new = Match.objects.exclude(pk=match.pk).get(seeker=seeker)
    assert new.provider_id == second.pk and new.status == MatchStatus.SUGGESTED
    assert Match.objects.get(pk=match.pk).status == MatchStatus.ENGAGED  # history is kept
    assert "1 new matches" in out.getvalue()
    assert list(selectors.seekers_with_free_slots(category=category)) == []  # filled: the next run adds nothing

    # The first provider's capacity is released: another seeker can be matched with them.
    other = make_seeker(category)
    [other_match] = matches.match_run_for_seeker(seeker=other)
    assert other_match.provider_id == first.pk  # no leads left on the first, one on the second


def test_find_more_matches_fills_it_too(client):
    category = make_category(matches_per_request=1)
    seeker, _first, second, _match, engagement = _engaged_pair(category)
    engagements.engagement_cancel(engagement=engagement, user=seeker.user)
    client.force_login(seeker.user)
    client.post(f"/seekers/{seeker.pk}/match/")  # the page's "Find more matches" button
    assert Match.objects.filter(seeker=seeker, status=MatchStatus.SUGGESTED).get().provider_id == second.pk
    # The API answers the seeker's live matches: the cancelled one no longer counts among them.
    response = client.post(f"/api/v1/seekers/{seeker.pk}/match/")
    assert response.status_code == 200
    assert len(response.json()["matches"]) == 1
