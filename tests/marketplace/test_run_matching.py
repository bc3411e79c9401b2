"""`manage.py run_matching`: expires stale introductions, fills open seekers' slots, reports."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from marketplace.models import Match, MatchStatus
from marketplace.services import matches
from tests.marketplace.loop import hours_ago, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("run_matching", *args, stdout=out)
    return out.getvalue()


def test_matches_every_open_seeker_and_says_so():
    category = make_category()
    for _ in range(5):
        make_provider(category)
    seekers = [make_seeker(category) for _ in range(3)]
    output = run()
    assert all(Match.objects.filter(seeker=s).count() == 3 for s in seekers)
    assert "planners: 3/3 seekers, 9 new matches" in output
    assert "9 new matches for 3 of them" in output
    assert "no seeker has a free match slot" in run()  # a second run changes nothing


def test_spreads_leads_across_providers_in_one_run():
    category = make_category(matches_per_request=1)
    providers = [make_provider(category) for _ in range(3)]
    for _ in range(3):
        make_seeker(category)
    run()
    assert {m.provider_id for m in Match.objects.all()} == {p.pk for p in providers}


def test_only_the_named_category():
    planners, coaches = make_category(), make_category(name="coaches", display_name="Coaches")
    for category in (planners, coaches):
        make_provider(category)
        make_seeker(category)
    run("--category", "coaches")
    assert list(Match.objects.values_list("category__name", flat=True)) == ["coaches"]
    with pytest.raises(CommandError, match="No category named"):
        run("--category", "nope")


def test_expires_stale_introductions_and_gives_the_next_best_provider():
    category = make_category(matches_per_request=1)
    seeker = make_seeker(category)
    make_provider(category)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=seeker.user)
    Match.objects.filter(pk=match.pk).update(introduced_at=hours_ago(80))

    output = run()

    assert "Expired 1 introductions" in output
    assert Match.objects.get(pk=match.pk).status == MatchStatus.EXPIRED
    replacement = Match.objects.exclude(pk=match.pk).get(seeker=seeker)
    assert replacement.status == MatchStatus.SUGGESTED and replacement.provider_id != match.provider_id
