"""The category directory: keywords, sort, pages without a COUNT(*), empty states, cards."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketplace.models import Provider
from tests.marketplace import loop


@pytest.fixture
def advisors(seeded_categories):
    return seeded_categories["financial_advisors"]


def make_provider(category, **fields):
    return loop.make_provider(category, **{"specialties": ["retirement-planning"], **fields})


def names(response) -> list[str]:
    return [provider.business_name for provider in response.context["page"].object_list]


def directory(client, category, **query):
    return client.get(reverse("category-detail", args=[category.name]), query)


def test_keywords_search_business_name_bio_and_specialties(client, advisors):
    make_provider(advisors, verified=True, business_name="Harbor Wealth", bio="Plain planning.", specialties=[])
    make_provider(advisors, verified=True, business_name="Oak Advice", bio="Pensions and annuities.", specialties=[])
    make_provider(advisors, verified=True, business_name="Elm Advice", bio="General.", specialties=["tax-planning"])
    assert names(directory(client, advisors, q="harbor")) == ["Harbor Wealth"]
    assert names(directory(client, advisors, q="PENSIONS")) == ["Oak Advice"]
    assert names(directory(client, advisors, q="tax")) == ["Elm Advice"]
    assert names(directory(client, advisors, q="advice general")) == ["Elm Advice"]  # every word must be found


def test_sort_by_rating_and_by_price(client, advisors):
    cheap = make_provider(advisors, verified=True, business_name="Cheap", pricing_min=Decimal("50"))
    dear = make_provider(
        advisors, verified=True, business_name="Dear", pricing_min=Decimal("400"), pricing_max=Decimal("500")
    )
    unpriced = make_provider(advisors, verified=True, business_name="Unpriced", pricing_min=None, pricing_max=None)
    Provider.objects.filter(pk=dear.pk).update(rating_avg=Decimal("4.90"), rating_count=30)
    Provider.objects.filter(pk=cheap.pk).update(rating_avg=Decimal("5.00"), rating_count=1)
    Provider.objects.filter(pk=unpriced.pk).update(rating_avg=Decimal("4.00"), rating_count=3)
    assert names(directory(client, advisors, sort="price")) == ["Cheap", "Dear", "Unpriced"]
    assert names(directory(client, advisors, sort="rating")) == ["Cheap", "Dear", "Unpriced"]
    # Best match weighs the number of reviews: thirty 4.9s beat one 5.
    assert names(directory(client, advisors, sort="best")) == ["Dear", "Cheap", "Unpriced"]
    assert names(directory(client, advisors, q="cheap dear")) == []


def test_pages_are_known_without_counting_the_whole_directory(client, advisors):
    for number in range(23):
        make_provider(advisors, verified=True, business_name=f"Planner {number:02}")
    with CaptureQueriesContext(connection) as queries:
        first = directory(client, advisors, sort="price")
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)
    page = first.context["page"]
    assert len(page.object_list) == 20 and page.has_next and not page.has_previous
    second = directory(client, advisors, sort="price", page="2").context["page"]
    assert len(second.object_list) == 3 and not second.has_next and second.has_previous
    assert set(names(directory(client, advisors, page="2"))).isdisjoint(names(first))
    body = first.content.decode()
    assert "page=2" in body and "sort=price" in body
    assert directory(client, advisors, page="nonsense").context["page"].number == 1


def test_directory_query_count_is_pinned(client, advisors, django_assert_num_queries):
    for number in range(25):
        make_provider(
            advisors, verified=True, business_name=f"Planner {number:02}", specialties=["retirement-planning"]
        )
    # a visitor: the category (+ its specialties for the filter form), one page of providers
    # (+ their specialties), their levels, the category's newest community questions and library articles
    with django_assert_num_queries(7):
        response = directory(client, advisors, q="planner", sort="rating")
    assert response.content.decode().count('<article class="provider-card"') == 20


def test_empty_states_say_what_to_change(client, advisors, seeded_categories):
    page = directory(client, advisors).content.decode()
    assert "No provider is listed in Financial Advisors yet" in page
    make_provider(advisors, verified=True)
    page = directory(client, advisors, q="zzzz").content.decode()
    assert "No provider matches these words and filters" in page and "clear them all" in page


def test_cards_show_what_people_choose_by(client, advisors):
    provider = make_provider(
        advisors, verified=True, business_name="Rosa Plans", years_experience=12, city="Austin", state="TX", remote=True
    )
    Provider.objects.filter(pk=provider.pk).update(rating_avg=Decimal("4.80"), rating_count=23)
    page = directory(client, advisors).content.decode()
    assert "★ 4.8</span> · 23 reviews" in page
    assert "$150.00–$250.00 per hour" in page
    assert "Austin, TX · also remote" in page and "12 years of experience" in page
    assert "License verified" in page
    assert re.search(r'class="badge level" title="Level \d: \w+ — reached with [\d,]+ POT earned on I MATCH', page)
