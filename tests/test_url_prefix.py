"""`imatch.url_prefix.PrefixResolver`: the API's addresses resolve as Django's own resolver resolves them."""

import pytest
from django.urls import URLResolver, get_resolver, path, re_path, reverse
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern

from imatch.url_prefix import PrefixResolver, literal_start


def _view(request):
    return None


@pytest.mark.parametrize(
    ("pattern", "start"),
    [
        (RoutePattern("pot/balance/"), "pot/balance/"),
        (RoutePattern("seekers/<int:seeker_id>/match/"), "seekers/"),
        (RoutePattern("<slug:name>/"), ""),
        (RegexPattern(r"^matches/(?P<pk>[0-9]{1,18})/$"), "matches/"),
        (RegexPattern(r"^matches/$"), "matches/"),
        (RegexPattern(r"^pots?/$"), "pot"),  # the `s` is optional
        (RegexPattern(r"^a\.b/$"), "a"),
        (RegexPattern(r"^abc/|^def/"), ""),  # alternatives
        (RegexPattern(r"matches/$"), ""),  # not anchored
        (RegexPattern(r"(?i)^matches/$"), ""),
    ],
)
def test_the_literal_start_of_a_pattern(pattern, start):
    assert literal_start(pattern) == start


def _answer(resolver, address):
    try:
        match = resolver.resolve(address)
    except Resolver404 as error:
        return ("404", repr(error.args[0]))
    return (
        match.func,
        match.args,
        match.kwargs,
        match.url_name,
        match.route,
        match.app_names,
        match.namespaces,
        match.captured_kwargs,
        match.extra_kwargs,
    )


def _addresses(patterns) -> list[str]:
    starts = {literal_start(pattern.pattern) for pattern in patterns} | {"", "nope/", "pot", "pot/balance"}
    tails = ["", "12/", "12/accept/", "12/read/", "x/", "x/activate/", "12", "12/nope/"]
    return sorted({f"/api/v1/{start}{tail}" for start in starts for tail in tails} | {"/api/v1", "/api/"})


def test_every_api_address_resolves_as_django_resolves_it():
    api = next(pattern for pattern in get_resolver().url_patterns if str(pattern.pattern) == "api/v1/")
    assert isinstance(api, PrefixResolver)
    django = URLResolver(RoutePattern("api/v1/"), api.url_patterns, app_name=api.app_name, namespace=api.namespace)
    addresses = _addresses(api.url_patterns)
    assert len(addresses) > 300
    answers = [_answer(api, address.removeprefix("/")) for address in addresses]
    assert answers == [_answer(django, address.removeprefix("/")) for address in addresses]
    assert sum(answer[0] != "404" for answer in answers) > 50  # every kind of API address


def test_the_first_pattern_that_matches_wins_among_patterns_filed_everywhere():
    patterns = [
        re_path(r"^pot/(?P<word>[a-z]+)/$", _view, name="first"),
        path("<slug:anything>/", _view, name="everywhere"),
        path("pot/balance/", _view, name="shadowed"),
        re_path(r"^other|^pot/x/$", _view, name="alternative"),
    ]
    ours, django = PrefixResolver(RoutePattern(""), patterns), URLResolver(RoutePattern(""), patterns)
    for address in ("pot/balance/", "pot/12/", "12/", "balance/", "pot/x/", "other", "otherwise/", "pot", ""):
        assert _answer(ours, address) == _answer(django, address), address
    assert ours.resolve("pot/balance/").url_name == "first"
    assert ours.resolve("12/").url_name == "everywhere"
    assert ours.resolve("otherwise/").url_name == "everywhere"


def _names(patterns, namespace="") -> list[str]:
    """Every URL name of these patterns, with its namespaces (`api:provider-detail`)."""
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _names(pattern.url_patterns, namespace + (f"{pattern.namespace}:" if pattern.namespace else ""))
        elif pattern.name:
            found.append(namespace + pattern.name)
    return found


def test_no_two_addresses_share_a_name():
    """The API is named under `api:`: a page and an API route of the same name (`provider-detail`)
    would reverse to whichever Django finds first, a page's link to the API or the other way round."""
    names = _names(get_resolver().url_patterns)
    assert sorted({name for name in names if names.count(name) > 1}) == []
    assert reverse("provider-detail", args=[5]) == "/providers/5/"
    assert reverse("api:provider-detail", args=[5]) == "/api/v1/providers/5/"
    assert reverse("api:api-root") == "/api/v1/"
