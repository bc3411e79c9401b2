"""The provider directory's filters (shared by the API and the web directory page), and the referrals' (API)."""

import django_filters
from drf_spectacular.utils import extend_schema_field

from imatch.api import IdFilter
from marketplace.models import Provider, Referral, ReferralStatus
from marketplace.selectors import directory_category


class ProviderDirectoryFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(method="filter_category", label="Category")
    specialty = django_filters.CharFilter(field_name="specialties__slug", label="Specialty", distinct=True)
    state = django_filters.CharFilter(method="filter_state", label="State")
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact", label="City")
    remote = django_filters.BooleanFilter(field_name="remote", label="Works remotely")
    min_rating = extend_schema_field({"type": "number", "minimum": 0, "maximum": 5})(
        django_filters.NumberFilter(field_name="rating_avg", lookup_expr="gte", label="Minimum rating")
    )
    max_price = extend_schema_field({"type": "number", "minimum": 0, "maximum": 10**10})(
        django_filters.NumberFilter(field_name="pricing_min", lookup_expr="lte", label="Maximum price (USD)")
    )

    class Meta:
        model = Provider
        fields = ["category", "specialty", "state", "city", "remote", "min_rating", "max_price"]

    def filter_category(self, queryset, name, value):
        # By id, from the cached catalogue: no join on the categories (see `provider_directory`).
        category = directory_category(name=value.strip())
        return queryset.filter(category_id=category.pk) if category else queryset.none()

    def filter_state(self, queryset, name, value):
        return queryset.filter(state=value.strip().upper())


class ReferralFilter(django_filters.FilterSet):
    # A number, not a choice of users: an unknown id is an empty list, never a hint that it exists.
    referrer = IdFilter(field_name="referrer_id", label="Referrer (user id)")
    status = django_filters.ChoiceFilter(choices=ReferralStatus.choices, label="Status")

    class Meta:
        model = Referral
        fields = ["referrer", "status"]
