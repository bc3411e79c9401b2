from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from imatch.health import health

handler400 = "imatch.error_pages.bad_request"
handler404 = "imatch.error_pages.page_not_found"
handler500 = "imatch.error_pages.server_error"

api_v1 = [
    path("", include("marketplace.api.urls")),
    path("", include("categories.api.urls")),
    path("", include("currency.api.urls")),
    path("", include("operations.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (no inline script: CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("wallet/", include("currency.web.urls")),
    path("", include("marketplace.web.urls")),
]
