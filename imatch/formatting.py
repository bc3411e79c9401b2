"""How the console and the report write figures: money with $ and separators, POT, percentages.

Pure functions on Decimals and ints (no Django), shared by the admin pages, the report and
its email.
"""

from decimal import Decimal

CENT = Decimal("0.01")


def usd(amount: Decimal | int | None) -> str:
    """ "$12,345.60"; a negative amount "-$5.00"."""
    value = Decimal(amount or 0).quantize(CENT)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def pot(amount: int | None) -> str:
    """ "1,250 POT"."""
    return f"{amount or 0:,} POT"


def percent(rate: Decimal | None, *, signed: bool = False) -> str:
    """A rate between 0 and 1 as "30.0%" ("+12.5%" when signed); "—" without a rate."""
    if rate is None:
        return "—"
    value = (Decimal(rate) * 100).quantize(Decimal("0.1"))
    return f"{value:+}%" if signed else f"{value}%"


def change(current: Decimal | int, previous: Decimal | int) -> Decimal | None:
    """The relative change from `previous` to `current` (0.25 = +25%); None when previous is 0."""
    if not previous:
        return None
    return (Decimal(current) - Decimal(previous)) / Decimal(previous)


def rate(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part / whole, or None when whole is 0 (a conversion with nobody at its start)."""
    if not whole:
        return None
    return Decimal(part) / Decimal(whole)
