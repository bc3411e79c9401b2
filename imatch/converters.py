"""URL converters shared by the apps."""

from django.urls import register_converter


class IdConverter:
    """A row id: digits, at most 18 of them so it fits a 64-bit column (longer ones are 404)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
