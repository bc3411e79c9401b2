"""Filters of the API's lists of seekers, matches, engagements and ratings.

Every list filters its category as `?category=<name>` (as the provider directory does,
`marketplace.filters`), and related rows by integer id.
"""

import django_filters

from imatch.api import IdFilter
from marketplace.models import Engagement, Match, Rating, Seeker


class CategoryFilterSet(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__name", label="Category name, e.g. financial_advisors")


class SeekerFilter(CategoryFilterSet):
    class Meta:
        model = Seeker
        fields = ["category"]


class MatchFilter(CategoryFilterSet):
    seeker = IdFilter(field_name="seeker_id", label="Seeker profile id")
    provider = IdFilter(field_name="provider_id", label="Provider profile id")

    class Meta:
        model = Match
        fields = ["status", "seeker", "provider", "category"]


class EngagementFilter(CategoryFilterSet):
    class Meta:
        model = Engagement
        fields = ["status", "billing_status", "category"]


class RatingFilter(django_filters.FilterSet):
    engagement = IdFilter(field_name="engagement_id", label="Engagement id")

    class Meta:
        model = Rating
        fields = ["engagement", "rated_role"]
