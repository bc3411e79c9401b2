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
    """`GET /api/v1/schema/`: drf-spectacular's view, the schema everyone fetches built and rendered
    once per process instead of on every request.

    Built per request, the schema (every operation inspected, ~600 KB) cost 0.12 s of CPU on the
    fastest machine measured (0.55 s the first time in a process) and several seconds under
    load, and Swagger UI and ReDoc fetch it on every view; rendering it took 25-30 ms a fetch as
    JSON, ~70 ms as YAML. It depends only on the code and the settings, never on who asks: it is
    built without the caller's request (as the schema tests build it), so a staff member's request
    cannot shape what everyone is served.

    Only the usual fetch is kept: no `?version=`, the site's language, the renderer's own media
    type. Those three come from the caller and take any value (`?lang=xx`, `Accept: …; indent=3`):
    kept per value, they would let anyone fill a worker's memory. Any other fetch is built and
    rendered for its request, as drf-spectacular does. A changed setting (tests) drops what was
    kept. Relies on `_get_schema_response` and `_get_version_parameter` of the pinned
    drf-spectacular (tests/api/test_schema_kept.py).
    """

    def _get_schema_response(self, request: Request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        usual = version is None and translation.get_language() == settings.LANGUAGE_CODE
        return _SchemaResponse(
            data=self.usual_schema() if usual else self.schema_built(version),
            usual=usual,
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )

    def usual_schema(self) -> dict:
        """The schema without a version, in the site's language: built the first time it is asked for."""
        schema = _kept.get("schema")
        if schema is None:
            with translation.override(settings.LANGUAGE_CODE):
                schema = _kept["schema"] = self.schema_built(version=None)
        return schema

    def schema_built(self, version: str | None) -> dict:
        """The schema of this API version in the active language, built now."""
        generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
        return generator.get_schema(request=None, public=self.serve_public)


class _SchemaResponse(Response):
    """The schema's answer; the usual schema's rendering by each renderer is made once per process."""

    def __init__(self, *, usual: bool, **kwargs):
        super().__init__(**kwargs)
        self.usual = usual

    @property
    def rendered_content(self) -> bytes:
        renderer = self.accepted_renderer
        if not self.usual or self.accepted_media_type != renderer.media_type:
            return super().rendered_content  # the caller's version, language or media type parameters
        kept = _kept.get(type(renderer))
        if kept is None:
            kept = _kept[type(renderer)] = (super().rendered_content, self["Content-Type"])
        content, content_type = kept
        self["Content-Type"] = content_type
        return content


# "schema": the usual schema; each renderer's class: its rendering of it and the Content-Type
_kept: dict[object, object] = {}


def schema_warm() -> None:
    """Build the usual schema now: in gunicorn's master before it forks (gunicorn.conf.py), so that
    every worker serves its first fetch without spending 0.4-0.8 s building it."""
    SchemaView().usual_schema()


def _forget_schemas(**kwargs) -> None:
    _kept.clear()


setting_changed.connect(_forget_schemas, dispatch_uid="imatch.api_root.schemas")
