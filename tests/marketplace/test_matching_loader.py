"""The candidate loader: a fixed number of queries, and a cached index that follows the data."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from marketplace import candidates
from marketplace.models import Provider
from marketplace.services import profiles
from tests.marketplace.loop import hours_ago, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


def best_for(seeker) -> list[int]:
    pool = candidates.candidate_pool(seeker.category)
    ranked = pool.rank(candidates.seeker_profile(seeker), limit=5, exclusions=candidates.seeker_exclusions(seeker))
    return [m.provider_id for m in ranked]


def queries_of(action) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        action()
    return [q["sql"] for q in captured.captured_queries]


@pytest.fixture
def category():
    return make_category()


def test_a_warm_index_costs_three_queries_whatever_the_number_of_providers(category):
    for _ in range(3):
        make_provider(category)
    cold = queries_of(lambda: candidates.candidate_pool(category))
    warm = queries_of(lambda: candidates.candidate_pool(category))
    for _ in range(20):
        make_provider(category)
    candidates.candidate_pool(category)
    assert len(warm) == 3  # specialties, fingerprint, loads
    assert len(queries_of(lambda: candidates.candidate_pool(category))) == 3
    assert len(cold) == 8  # + providers, their specialties, all provider ids; answering histories, leads ever


def test_a_rating_or_a_price_change_is_applied_without_a_rebuild(category):
    seeker = make_seeker(category)
    dear = make_provider(category, pricing_min=Decimal("900"), pricing_max=Decimal("1000"))
    cheap = make_provider(category, pricing_min=Decimal("900"), pricing_max=Decimal("1000"), city="Dallas")
    assert best_for(seeker) == [dear.pk, cheap.pk]
    profiles.provider_update(provider=cheap, changes={"pricing_min": Decimal("120"), "pricing_max": Decimal("200")})
    sql = queries_of(lambda: best_for(seeker))
    assert best_for(seeker) == [cheap.pk, dear.pk]
    assert any('"providers"."updated_at" >' in q for q in sql)  # only changed rows were read


def test_a_new_provider_and_a_new_bio_are_indexed(category):
    seeker = make_seeker(category, specialties=[], needs_description="pension annuity")
    plain = make_provider(category, specialties=[], bio="General advice.")
    assert best_for(seeker) == [plain.pk]
    newcomer = make_provider(category, specialties=[], bio="Pension and annuity specialist.", city="Dallas")
    assert best_for(seeker) == [newcomer.pk, plain.pk]
    profiles.provider_update(provider=plain, changes={"bio": "Pension, annuity and pension income."})
    assert best_for(seeker)[0] == plain.pk


def test_a_provider_who_stops_accepting_clients_leaves_and_comes_back(category):
    seeker = make_seeker(category)
    provider = make_provider(category)
    assert best_for(seeker) == [provider.pk]
    profiles.provider_update(provider=provider, changes={"accepting_clients": False})
    assert best_for(seeker) == []
    profiles.provider_update(provider=provider, changes={"accepting_clients": True})
    assert best_for(seeker) == [provider.pk]


def test_a_change_committed_late_is_picked_up_by_the_periodic_refresh(category, monkeypatch):
    seeker = make_seeker(category)
    provider = make_provider(category)
    assert best_for(seeker) == [provider.pk]
    entry = candidates._pools[category.pk]
    # A row saved with an older updated_at than the cache saw (its transaction committed late).
    Provider.objects.filter(pk=provider.pk).update(accepting_clients=False, updated_at=entry.changed)
    assert best_for(seeker) == [provider.pk]  # same fingerprint: not seen yet
    monkeypatch.setattr(candidates, "REFRESH_EVERY", 0.0)
    assert best_for(seeker) == []


def test_a_deactivated_account_leaves_a_warm_index_and_comes_back(category, operator):
    seeker = make_seeker(category)
    provider = make_provider(category)
    assert best_for(seeker) == [provider.pk]
    profiles.user_deactivate(user=provider.user, operator=operator, reason="Spam")
    assert best_for(seeker) == []
    profiles.user_reactivate(user=provider.user, operator=operator, reason="Not spam")
    assert best_for(seeker) == [provider.pk]


def test_what_a_rolled_back_transaction_showed_the_index_is_forgotten(category, operator):
    """The index refreshed inside a transaction that rolls back must not keep what it saw."""
    seeker = make_seeker(category)
    provider = make_provider(category)
    Provider.objects.filter(pk=provider.pk).update(updated_at=hours_ago(1))  # older than the refresh look-back
    assert best_for(seeker) == [provider.pk]
    with pytest.raises(RuntimeError), transaction.atomic():
        profiles.user_deactivate(user=provider.user, operator=operator, reason="Spam")
        assert best_for(seeker) == []  # the cached index now holds the deactivation
        raise RuntimeError("rolled back")
    assert best_for(seeker) == [provider.pk]  # the latest change moved back: rebuilt


def test_warm_pools_builds_every_active_category_so_the_first_request_is_warm(category):
    for _ in range(3):
        make_provider(category)
    paused = make_category(name="paused", display_name="Paused", active=False)
    candidates.clear_pool_cache()
    assert candidates.warm_pools() == {category.name: 3}
    assert paused.name not in candidates.warm_pools()
    assert len(queries_of(lambda: candidates.candidate_pool(category))) == 3  # specialties, fingerprint, loads
