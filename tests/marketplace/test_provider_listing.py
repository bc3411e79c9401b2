"""Which providers are public (and so matchable): one rule, the same in Python and in SQL."""

import itertools

import pytest
from django.test import Client
from rest_framework.test import APIClient

from marketplace import selectors
from marketplace.candidates import candidate_pool
from marketplace.matching.factors import CategoryRules, ProviderCandidate, provider_listed, provider_matchable
from marketplace.models import Provider, provider_is_listed
from tests.categories.factories import CategoryFactory
from tests.marketplace.factories import ProviderFactory, UserFactory

pytestmark = pytest.mark.django_db

CASES = list(itertools.product([True, False], repeat=5))


@pytest.mark.parametrize(
    ("user_active", "category_active", "requires_license", "license_verified", "license_provisional"), CASES
)
def test_every_reading_of_the_rule_agrees(
    user_active, category_active, requires_license, license_verified, license_provisional
):
    category = CategoryFactory(active=category_active, requires_license=requires_license)
    provider = ProviderFactory(
        category=category,
        license_verified=license_verified,
        license_provisional=license_provisional,  # a Phase 1 advisor before the deadline
        user=UserFactory(is_active=user_active),
    )
    expected = user_active and category_active and (license_verified or license_provisional or not requires_license)

    assert (
        provider_is_listed(
            user_active=user_active,
            category_active=category_active,
            requires_license=requires_license,
            license_verified=license_verified,
            license_provisional=license_provisional,
        )
        == expected
    )
    assert Provider.objects.get(pk=provider.pk).is_listed == expected
    assert Provider.objects.listed().filter(pk=provider.pk).exists() == expected
    assert Provider.objects.listed_in(category).filter(pk=provider.pk).exists() == expected
    assert selectors.provider_directory().filter(pk=provider.pk).exists() == expected
    counts = {c.pk: c.provider_count for c in selectors.category_list_with_provider_counts()}
    assert counts.get(category.pk) == (int(expected) if category_active else None)  # inactive: not on the home page
    assert len(candidate_pool(category)) == int(expected)  # accepting clients by default: matchable iff listed
    assert Client().get(f"/providers/{provider.pk}/").status_code == (200 if expected else 404)
    directory = APIClient().get("/api/v1/providers/").json()["results"]
    assert (provider.pk in {row["id"] for row in directory}) == expected

    # The engine's own reading, on plain data (it imports no models).
    rules = CategoryRules(id=category.pk, active=category_active, requires_license=requires_license)
    for accepting in (True, False):
        candidate = ProviderCandidate(
            id=provider.pk,
            user_id=provider.user_id,
            category_id=category.pk,
            license_verified=license_verified,
            license_provisional=license_provisional,
            accepting_clients=accepting,
            user_active=user_active,
        )
        assert provider_listed(rules, candidate) == expected
        assert provider_matchable(rules, candidate) == (expected and accepting)


def test_listed_in_filters_only_the_providers_own_columns(django_assert_num_queries):
    licensed = CategoryFactory(active=True, requires_license=True)
    open_to_all = CategoryFactory(active=True, requires_license=False)
    paused = CategoryFactory(active=False, requires_license=False)

    def where(providers) -> str:
        sql = str(providers.query)
        assert "categories" not in sql  # no join on the category: the planner sees the providers' own columns
        return sql.split(" WHERE ", 1)[1]

    assert where(Provider.objects.listed_in(licensed)).count("license_verified") == 1
    assert "license_verified" not in where(Provider.objects.listed_in(open_to_all))
    assert "is_active" in where(Provider.objects.listed_in(open_to_all))  # the account's half of the rule
    with django_assert_num_queries(0):
        assert list(Provider.objects.listed_in(paused)) == []


def test_category_counts_count_each_listed_provider_once():
    category = CategoryFactory(active=True, requires_license=True)
    for verified in (True, True, False):
        ProviderFactory(category=category, license_verified=verified)
    ProviderFactory(license_verified=True)  # another category
    [counted] = [c for c in selectors.category_list_with_provider_counts() if c.pk == category.pk]
    assert counted.provider_count == 2
