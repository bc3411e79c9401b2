"""The API's content negotiation (imatch.api_input.JSONFirstNegotiation) answers as DRF's own does.

Its shortcut for the usual `Accept` headers must pick the same renderer and media type as
DRF's `DefaultContentNegotiation`; every other header goes through DRF's negotiation.
"""

import pytest
from django.conf import settings
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from imatch.api_input import JSONFirstNegotiation

ACCEPTS = [
    None,  # no header
    "*/*",
    "application/json",
    "application/json; indent=4",
    "application/json;q=0.5, text/html",
    "text/html",
    "text/html, */*",
    "application/*",
    "text/csv",
    "",  # present but empty: DRF refuses it (406)
    " application/json",
]


def _negotiated(negotiation, renderers, *, accept, path="/api/v1/me/", format_suffix=None):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(path, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, format_suffix)
    except Exception as error:  # the same refusal either way
        return type(error).__name__
    return type(renderer), media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/me/?format=json", "/api/v1/me/?format=api"])
@pytest.mark.parametrize(
    "renderer_classes", [(JSONRenderer, BrowsableAPIRenderer), (BrowsableAPIRenderer, JSONRenderer), (JSONRenderer,)]
)
def test_the_shortcut_answers_what_drf_answers(accept, path, renderer_classes):
    renderers = [renderer() for renderer in renderer_classes]
    ours = _negotiated(JSONFirstNegotiation(), renderers, accept=accept, path=path)
    drf = _negotiated(DefaultContentNegotiation(), renderers, accept=accept, path=path)
    assert ours == drf


@pytest.mark.parametrize("format_suffix", ["json", "api"])
def test_a_format_suffix_goes_through_drf(format_suffix):
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]
    ours = _negotiated(JSONFirstNegotiation(), renderers, accept="application/json", format_suffix=format_suffix)
    drf = _negotiated(DefaultContentNegotiation(), renderers, accept="application/json", format_suffix=format_suffix)
    assert ours == drf


def test_the_api_uses_it():
    assert settings.REST_FRAMEWORK["DEFAULT_CONTENT_NEGOTIATION_CLASS"] == "imatch.api_input.JSONFirstNegotiation"
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is JSONFirstNegotiation


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_a_usual_request_is_answered_in_json(user_api, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = user_api.get("/api/v1/pot/balance/", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["pot_balance"] >= 0
