"""Paths of pages for the links in notifications and emails, each URL reversed once per process.

Django's `reverse` walks the URL configuration on every call: ~25 µs of CPU for a page with a row
id, and an introduction's two links were 6 % of its CPU. `page_path(name, *ids)` is
`reverse(name, args=ids)`: the name is reversed once (per URL configuration, script prefix and
language) with stand-in ids, and each call writes its own ids where the stand-ins were.
"""

import functools

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

from imatch.converters import ID_LIMIT

# Stand-ins for the ids while reversing: row ids an `<id:…>` or `<int:…>` converter accepts (18
# digits, `imatch.converters.ID_PATTERN`), which no page's path otherwise contains (checked).
_STAND_INS = ("987654321098765431", "987654321098765432", "987654321098765433")


def page_path(name: str, *ids: int) -> str:
    """`reverse(name, args=ids)` for a page whose arguments are row ids (ints of up to 18 digits;
    any other, negative or longer, is left to `reverse`)."""
    pieces = None
    if len(ids) <= len(_STAND_INS) and all(type(each) is int and 0 <= each < ID_LIMIT for each in ids):
        pieces = _pieces(name, len(ids), get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), get_language())
    if pieces is None:  # other arguments, or a path the stand-ins do not reverse to
        return reverse(name, args=ids)
    path = pieces[0]
    for each, piece in zip(ids, pieces[1:], strict=True):
        path += str(each) + piece
    return path


@functools.lru_cache(maxsize=256)
def _pieces(name: str, count: int, urlconf: str, prefix: str, language: str | None) -> tuple[str, ...] | None:
    """The path of `name` reversed with `count` stand-in ids, cut where each stands (None: it does not
    read as an id-only path: a stand-in refused, altered, or found more than once)."""
    stand_ins = _STAND_INS[:count]
    try:
        path = reverse(name, args=[int(each) for each in stand_ins], urlconf=urlconf)
    except NoReverseMatch:  # `reverse` with the real ids says why
        return None
    pieces = []
    for stand_in in stand_ins:
        before, found, path = path.partition(stand_in)
        if not found or any(other in before for other in _STAND_INS):
            return None
        pieces.append(before)
    if any(other in path for other in _STAND_INS):
        return None
    return (*pieces, path)
