"""`page_path`: what `reverse` gives, for every page of the site whose arguments are row ids."""

import pytest
from django.http import HttpResponse
from django.urls import NoReverseMatch, URLResolver, get_resolver, path, reverse, set_script_prefix
from django.urls.converters import IntConverter

from imatch.converters import IdConverter
from imatch.links import _pieces, page_path

IDS = (0, 7, 42, 10**18 - 1)

# Another URL configuration (`ROOT_URLCONF = "tests.test_links"`), where a thread lives elsewhere.
urlpatterns = [path("elsewhere/<id:match_id>/", lambda request, match_id: HttpResponse(), name="thread")]


def _id_only_pages(patterns=None, outer=(), namespace="") -> list[tuple[str, int]]:
    """(name, how many ids) of every named URL whose arguments are all `<id:…>` or `<int:…>`
    (with its namespaces: "admin:…")."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        converters = (*outer, *entry.pattern.converters.values())
        ids_only = entry.pattern.regex.groups == len(entry.pattern.converters) and all(
            isinstance(each, IdConverter | IntConverter) for each in converters
        )  # and no bare regex group
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _id_only_pages(entry.url_patterns, converters, inner)
        elif entry.name and ids_only:
            found.append((namespace + entry.name, len(converters)))
    return found


def test_the_site_has_pages_with_and_without_ids():
    pages = dict(_id_only_pages())
    assert pages["thread"] == 1 and pages["wallet"] == 0 and pages["leads"] == 0


@pytest.mark.parametrize("prefix", ["/", "/imatch/"])
def test_every_id_only_page_is_written_as_reverse_writes_it(prefix):
    set_script_prefix(prefix)
    try:
        for name, count in _id_only_pages():
            for value in IDS:
                ids = [value + offset for offset in range(count)]
                assert page_path(name, *ids) == reverse(name, args=ids), name
    finally:
        set_script_prefix("/")


def test_a_prefix_or_another_url_configuration_is_reversed_again(settings):
    home = page_path("thread", 5)  # kept for "/" and the site's URLs
    set_script_prefix("/under/")
    try:
        assert page_path("thread", 5) == reverse("thread", args=[5]) == "/under" + home
    finally:
        set_script_prefix("/")
    settings.ROOT_URLCONF = "tests.test_links"
    assert page_path("thread", 5) == reverse("thread", args=[5]) == "/elsewhere/5/"


def test_other_arguments_go_to_reverse():
    # Not ints: reversed each time, as `reverse` quotes and checks them.
    assert page_path("thread", "5") == reverse("thread", args=["5"])
    for no_id in (-5, 10**18, True):  # not a row id the pattern takes: `reverse` refuses, or writes it its way
        try:
            expected = reverse("thread", args=[no_id])
        except NoReverseMatch:
            with pytest.raises(NoReverseMatch):
                page_path("thread", no_id)
        else:
            assert page_path("thread", no_id) == expected
    with pytest.raises(NoReverseMatch):
        page_path("thread", "not an id")
    with pytest.raises(NoReverseMatch):
        page_path("no such page")


def test_a_name_that_does_not_take_the_stand_ins_is_not_kept():
    assert _pieces("no such page", 0, "imatch.urls", "/", "en") is None
    assert _pieces("thread", 0, "imatch.urls", "/", "en") is None  # a thread needs its id
