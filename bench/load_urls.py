"""URLs for `bench/load.py`: the project's, plus `/bench/bare`, a Django JSON view that reads nothing.

The bare view goes through the same gunicorn, WSGI handler and middleware as every page:
what the project adds on top of it is what `bench/load.py` measures.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [path("bench/bare", bare), path("", include("imatch.urls"))]
