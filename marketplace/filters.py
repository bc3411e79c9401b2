"""The provider directory's filters, shared by the API and the web directory page."""

import django_filters
from drf_spectacular.utils import extend_schema_field

from marketplace.models import Provider


class ProviderDirectoryFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__name", label="Category")
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

    def filter_state(self, queryset, name, value):
        return queryset.filter(state=value.strip().upper())
