"""How money, POT and moments read on every page: `$2,400.00`, `1,250 POT`, `Nov 28, 2026, 14:05 CST`.

Loaded as template builtins (settings TEMPLATES "builtins"): `{{ value|usd }}`, `{{ value|pot }}`,
`{{ value|when }}` (date and time in the person's time zone, its abbreviation shown), `{{ value|day }}`.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()

MISSING = "—"
CENTS = Decimal("0.01")


@register.filter
def usd(value) -> str:
    """US dollars with cents and thousands separators: `$2,400.00` (`-$5.00` below zero)."""
    if value is None or value == "":
        return MISSING
    try:
        amount = Decimal(str(value)).quantize(CENTS, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return MISSING
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def pot(value) -> str:
    """A whole number of POT with thousands separators: `1,250 POT`."""
    if value is None or value == "":
        return MISSING
    try:
        return f"{int(value):,} POT"
    except (TypeError, ValueError):
        return MISSING


@register.filter
def when(value) -> str:
    """A moment in the current time zone (the person's own), with its abbreviation: `Nov 28, 2026, 14:05 CST`."""
    if not isinstance(value, datetime):
        return MISSING
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "M j, Y, H:i T")


@register.filter
def day(value) -> str:
    """A calendar day: `Nov 28, 2026` (a moment is first put in the person's time zone)."""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    elif not isinstance(value, date):
        return MISSING
    return date_format(value, "M j, Y")
