"""`GET /api/v1/`: where the API is documented (anyone may ask); the schema, built once per process; ReDoc."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.core.signals import setting_changed
from django.utils import translation
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
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


class SchemaView(SpectacularAPIView):
    """`GET /api/v1/schema/`: drf-spectacular's view, the schema built once per process (per
    language and API version) instead of on every request.

    Built per request, the schema (every operation inspected, ~600 KB) cost 0.12 s of CPU on the
    fastest machine measured (0.55 s the first time in a process) and several seconds under
    load, and Swagger UI and ReDoc fetch it on every view. It depends only on the code and the
    settings, never on who asks: it is built without the caller's request (as the schema tests
    build it), so a staff member's request cannot shape what everyone is served. A changed
    setting (tests) drops what was built. Its renderings are kept too (`_KeptSchemaResponse`).
    Relies on `_get_schema_response` and `_get_version_parameter` of the pinned drf-spectacular
    (tests/api/test_schema_kept.py).
    """

    def _get_schema_response(self, request: Request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        return _KeptSchemaResponse(
            (version, translation.get_language()),
            data=self.kept_schema(version),
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )

    def kept_schema(self, version: str | None) -> dict:
        """The schema of this API version in the active language, built the first time it is asked for."""
        key = (version, translation.get_language())
        schema = _schemas.get(key)
        if schema is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            schema = _schemas[key] = generator.get_schema(request=None, public=self.serve_public)
        return schema


class _KeptSchemaResponse(Response):
    """The schema's answer, each rendering of it (JSON, YAML; per media type asked for) made once
    per process: rendering the ~600 KB took 25-30 ms a fetch as JSON and ~70 ms as YAML."""

    def __init__(self, schema_key: tuple, **kwargs):
        super().__init__(**kwargs)
        self.schema_key = schema_key

    @property
    def rendered_content(self) -> bytes:
        key = (*self.schema_key, type(self.accepted_renderer), self.accepted_media_type)
        kept = _renderings.get(key)
        if kept is None:
            kept = _renderings[key] = (super().rendered_content, self["Content-Type"])
        content, self["Content-Type"] = kept
        return content


_schemas: dict[tuple, dict] = {}  # (API version, language) -> the schema of the project's URLs
# (API version, language, renderer, media type) -> the rendered schema and its Content-Type
_renderings: dict[tuple, tuple[bytes, str]] = {}


def schema_warm() -> None:
    """Build the schema that Swagger UI, ReDoc and a plain fetch ask for (no version, the site's
    language) now: in gunicorn's master before it forks (gunicorn.conf.py), so that every worker
    serves its first fetch at once instead of spending 0.4-0.8 s building it."""
    with translation.override(settings.LANGUAGE_CODE):
        SchemaView().kept_schema(version=None)


def _forget_schemas(**kwargs) -> None:
    _schemas.clear()
    _renderings.clear()


setting_changed.connect(_forget_schemas, dispatch_uid="imatch.api_root.schemas")
