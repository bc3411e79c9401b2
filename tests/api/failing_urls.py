"""The project's URLs plus two views that fail, to see what a server error answers (test_bad_input)."""

from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from imatch.urls import handler400, handler404, handler500
from imatch.urls import urlpatterns as project_urlpatterns

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]


class Defect(Exception):
    """Stands for a bug in a view."""


def failing_page(request):
    raise Defect("a page's defect")


@api_view(["GET"])
@permission_classes([AllowAny])
def failing_api(request):
    raise Defect("an API view's defect")


urlpatterns = [
    path("api/v1/failing/", failing_api),
    path("failing/", failing_page),
    *project_urlpatterns,
]
