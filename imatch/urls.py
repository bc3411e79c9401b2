from django.conf import settings
from django.contrib import admin
from django.urls import URLResolver, include, path, re_path
from django.urls.resolvers import RoutePattern
from django.views.static import serve
from drf_spectacular.views import SpectacularSwaggerSplitView

from imatch.api_root import ApiRootView, SchemaView, redoc_view
from imatch.health import health
from imatch.url_prefix import PrefixResolver

handler400 = "imatch.error_pages.bad_request"
handler403 = "imatch.error_pages.permission_denied"
handler404 = "imatch.error_pages.page_not_found"
handler500 = "imatch.error_pages.server_error"


def _flat(patterns: list) -> list:
    """`patterns` with each `path("", include(...))` (no namespace, no extra arguments) replaced by what it includes.

    The same addresses resolve to the same views, tried in the same order, and reverse the same;
    Django no longer raises and collects a Resolver404 for each included list it tries before
    the one that answers (a third of the time a cached API read spent resolving its address).
    """
    flat = []
    for pattern in patterns:
        if (
            isinstance(pattern, URLResolver)
            and isinstance(pattern.pattern, RoutePattern)
            and str(pattern.pattern) == ""
            and not (pattern.namespace or pattern.app_name or pattern.default_kwargs)
        ):
            flat.extend(_flat(pattern.url_patterns))
        else:
            flat.append(pattern)
    return flat


api_v1 = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("", include("marketplace.api.urls")),
    path("", include("categories.api.urls")),
    path("", include("currency.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("conversations.api.urls")),
    path("", include("community.api.urls")),
    path("", include("library.api.urls")),
    path("", include("growth.api.urls")),
    path("", include("operations.api.urls")),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (no inline script: CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:api-schema"), name="api-docs"),
    path("redoc/", redoc_view, name="api-redoc"),
]

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    # Resolved trying only the patterns an address can match (imatch.url_prefix). Named under `api:`
    # (`reverse("api:provider-detail")`): the API and the pages both have e.g. `provider-detail`.
    PrefixResolver(RoutePattern("api/v1/"), _flat(api_v1), app_name="api", namespace="api"),
    path("wallet/", include("currency.web.urls")),
    path("", include("growth.web.urls")),
    path("notifications/", include("notifications.web.urls")),
    path("conversations/", include("conversations.web.urls")),
    path("", include("community.web.urls")),
    path("library/", include("library.web.urls")),
    path("", include("marketplace.web.urls")),
]
urlpatterns = _flat(urlpatterns)

if settings.SERVE_MEDIA:  # profile photos, also under gunicorn (see settings: SERVE_MEDIA)
    urlpatterns += [
        re_path(
            r"^media/(?P<path>photos/[0-9a-f]{32}\.jpg)$", serve, {"document_root": settings.MEDIA_ROOT}, name="media"
        )
    ]
