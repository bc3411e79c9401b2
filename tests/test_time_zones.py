"""`imatch.time_zones.UserTimeZoneMiddleware`: the session's person's zone, except for an API
request that presents a token, answered in UTC without reading the session's person."""

import pytest
from django.test import RequestFactory
from django.utils import timezone

from imatch.time_zones import UserTimeZoneMiddleware


class _Person:
    is_authenticated = True
    time_zone = "Asia/Kolkata"


class _Unread:
    """A session's person that fails the test when looked at."""

    def __getattr__(self, name):
        pytest.fail(f"the session's person was read ({name})")


def _zone_seen(path: str, user, **headers) -> str:
    request = RequestFactory().get(path, **headers)
    request.user = user
    seen = []
    UserTimeZoneMiddleware(lambda request: seen.append(timezone.get_current_timezone_name()))(request)
    assert timezone.get_current_timezone_name() == "UTC"  # deactivated after the request
    return seen[0]


def test_a_session_request_is_in_the_persons_zone():
    assert _zone_seen("/api/v1/pot/balance/", _Person()) == "Asia/Kolkata"
    assert _zone_seen("/dashboard/", _Person()) == "Asia/Kolkata"


@pytest.mark.parametrize("header", ["Token abc", "token abc", "TOKEN abc def", "Token"])
def test_an_api_request_with_a_token_is_in_utc_and_the_session_is_not_read(header):
    """Whatever follows the word (DRF accepts or refuses it), the request is never the session's person's."""
    assert _zone_seen("/api/v1/pot/balance/", _Unread(), HTTP_AUTHORIZATION=header) == "UTC"


@pytest.mark.parametrize(
    ("path", "header"),
    [
        ("/dashboard/", "Token abc"),  # a page is the session's, whatever header it carries
        ("/api/v1/pot/balance/", "Bearer abc"),  # another scheme: DRF goes on to the session
        ("/api/v1/pot/balance/", "Tokens abc"),
        ("/api/v1/pot/balance/", ""),
    ],
)
def test_other_requests_are_the_sessions(path, header):
    assert _zone_seen(path, _Person(), HTTP_AUTHORIZATION=header) == "Asia/Kolkata"


def test_an_unknown_zone_is_utc():
    person = _Person()
    person.time_zone = "Mars/Olympus"
    assert _zone_seen("/dashboard/", person) == "UTC"
