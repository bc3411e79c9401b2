"""Values written as DRF's fields write them, for list rows built as plain dicts.

DRF serializes a row field by field, through field objects, `get_attribute` and
`to_representation`: 20 rows of 12-29 fields cost 4-8 ms of CPU per list
(`bench/request_cost.py`), more than the rest of the request. The busiest lists build their
rows from one values query with these instead; their serializers stay the schema (and serve
the single-object answers), and a test checks each list's rows equal the serializer's.
"""

from datetime import datetime, tzinfo
from decimal import Decimal

from django.utils import timezone

CENTS = Decimal("0.01")
TEN_THOUSANDTHS = Decimal("0.0001")


def current_zone() -> tzinfo:
    """The zone DRF's DateTimeField writes in: the request's active time zone (settings.USE_TZ is on)."""
    return timezone.get_current_timezone()


def api_datetime(value: datetime | None, zone: tzinfo) -> str | None:
    """`serializers.DateTimeField().to_representation(value)`: ISO 8601 in `zone`, UTC as `Z`."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def api_decimal(value: Decimal | None, exponent: Decimal = CENTS) -> str | None:
    """`serializers.DecimalField(decimal_places=…)`'s string: the value at `exponent`'s places."""
    return None if value is None else f"{value.quantize(exponent):f}"
