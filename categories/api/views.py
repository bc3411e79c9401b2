from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from categories import selectors, services
from categories.api.serializers import CategorySerializer
from categories.models import Category
from imatch.api_input import WrittenResponse, written


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("include_inactive", OpenApiTypes.BOOL, description="Staff only: list inactive ones too.")
        ]
    )
)
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Active categories for everyone; staff also see inactive ones and launch or deactivate them."""

    serializer_class = CategorySerializer
    lookup_field = "name"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    permission_classes = [permissions.AllowAny]

    def get_permissions(self):
        if self.action in ("activate", "deactivate"):
            return [permissions.IsAdminUser()]
        return super().get_permissions()

    def _staff(self) -> bool:
        return bool(self.request.user and self.request.user.is_staff)

    def get_queryset(self) -> QuerySet[Category] | list[Category]:
        include_inactive = self._staff() and (
            self.action in ("activate", "deactivate", "retrieve")
            or self.request.query_params.get("include_inactive") in ("1", "true", "True")
        )
        if getattr(self, "swagger_fake_view", False):  # the schema generator: the model, not the cache
            return Category.objects.none()
        if self.action == "list" and not include_inactive:
            return selectors.category_list_public()  # the shared cache's copy: the busiest read of the API
        return selectors.category_list(include_inactive=include_inactive).order_by("display_name")

    def list(self, request: Request, *args, **kwargs) -> Response:
        """The public list as this process last built it for this URL (`catalog_memo`): no serializer work,
        and its JSON as written then."""
        if self._staff():
            return super().list(request, *args, **kwargs)
        key = ("api:categories", request.scheme, request.get_host(), request.get_full_path())
        return WrittenResponse(
            selectors.catalog_memo(key, lambda: written(super(CategoryViewSet, self).list(request).data))
        )

    @extend_schema(request=None, responses=CategorySerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, name: str) -> Response:
        """Launch a category."""
        category = services.category_launch(category=self.get_object())
        return Response(CategorySerializer(selectors.category_get(name=category.name, include_inactive=True)).data)

    @extend_schema(request=None, responses=CategorySerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, name: str) -> Response:
        """Deactivate a category."""
        category = services.category_deactivate(category=self.get_object())
        return Response(CategorySerializer(selectors.category_get(name=category.name, include_inactive=True)).data)
