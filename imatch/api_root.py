"""`GET /api/v1/`: where the API is documented (anyone may ask)."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


class ApiRootView(APIView):
    """The API's front door: links to the interactive docs, ReDoc and the schema."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="api_root",
        tags=["docs"],
        responses=inline_serializer(
            "ApiRoot",
            {
                "docs": serializers.URLField(),
                "redoc": serializers.URLField(),
                "schema": serializers.URLField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "docs": reverse("api:api-docs", request=request),
                "redoc": reverse("api:api-redoc", request=request),
                "schema": reverse("api:api-schema", request=request),
            }
        )


# ReDoc (served from the project by drf-spectacular-sidecar) draws its page with styles it
# writes at run time: this one page may use inline styles; scripts stay files only.
redoc_view = csp_update({"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
    SpectacularRedocView.as_view(url_name="api:api-schema")
)
