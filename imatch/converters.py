"""URL converters shared by the apps."""

from django.urls import register_converter

# A row id in a URL: digits, at most 18 of them so it fits a 64-bit column (longer ones are 404).
# Also DRF's `lookup_value_regex` in the API views, so both kinds of URL agree.
ID_PATTERN = "[0-9]{1,18}"
ID_LIMIT = 10**18  # every id the pattern takes is below it


class IdConverter:
    """A row id (`ID_PATTERN`), as an int."""

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
