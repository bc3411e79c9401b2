"""Repairing Phase 1 rows: clean values out of each row, and every repair reported; no ORM.

One function per table turns a row of the file (`reader`) into clean values: a usable
email (or the row is skipped), text without NULs and cut to the database's lengths, JSON
preferences read into a budget, USD amounts as `Decimal`, ranges in order, known
specialties as slugs (unknown ones kept apart), two-letter states, whole years. Each
repair and each skipped row is an `Issue`, the row-level items of the import's report.
`plan` merges the repaired rows into people.
"""

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from marketplace.legacy.reader import CUSTOMERS, PROVIDERS
from marketplace.us_states import STATE_NAMES

YEARS_MAX = 32767  # what a PositiveSmallIntegerField holds on every database
CENT = Decimal("0.01")
DECIMAL_JSON = json.JSONDecoder(parse_float=Decimal)  # money never goes through float
# The everyday shape of an email, a strict subset of what Django's `validate_email` accepts
# (dot-atom local part, LDH domain labels, a letters-only TLD): checking it first is ten
# times faster, and `validate_email` still decides every other address.
PLAIN_EMAIL = re.compile(r"^[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")


# --- Report items and limits ----------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """Something wrong with one legacy row, and what the import did about it."""

    table: str
    row_id: Any
    action: str  # "skipped" (the row is not imported) or "repaired" (imported with this fix)
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "id": self.row_id, "action": self.action, "reason": self.reason}


def rows_counted(issues: Iterable[Issue]) -> tuple[int, int]:
    """(rows skipped, rows repaired): a row counts once, however many repairs it had."""
    issues = list(issues)
    skipped = sum(issue.action == "skipped" for issue in issues)
    return skipped, len({(issue.table, issue.row_id) for issue in issues if issue.action == "repaired"})


@dataclass(frozen=True)
class FieldLimits:
    """The longest values the database takes; the writer reads them from the models."""

    email: int = 254
    name: int = 150
    business_name: int = 200
    city: int = 100
    money_digits: int = 12  # max_digits of the USD fields, 2 of them decimal places


# --- Specialties ----------------------------------------------------------------------

# Words Phase 1 advisors used for the financial_advisors vocabulary (keyed by its slugs).
FINANCIAL_ADVISOR_SYNONYMS: dict[str, tuple[str, ...]] = {
    "retirement-planning": ("retirement", "retirement plans", "retirement income", "401k", "401 k", "ira", "pensions"),
    "investment-management": (
        "investment",
        "investments",
        "investing",
        "wealth management",
        "portfolio management",
        "asset management",
    ),
    "tax-planning": ("tax", "taxes", "tax strategy", "tax preparation"),
    "estate-planning": ("estate", "estates", "wills", "trusts", "wills and trusts", "legacy planning"),
    "debt-management": ("debt", "debt reduction", "debt consolidation", "credit counseling"),
    "college-savings": ("college", "college planning", "education planning", "education savings", "529", "529 plans"),
    "insurance-planning": ("insurance", "life insurance", "risk management"),
    "small-business-finance": ("small business", "business planning", "business finance", "business owners"),
    "budgeting": ("budget", "cash flow", "cashflow", "cash flow planning", "budgeting and cash flow"),
    "socially-responsible-investing": (
        "sri",
        "esg",
        "esg investing",
        "impact investing",
        "sustainable investing",
        "ethical investing",
    ),
}


def _label_key(label: str) -> str:
    """'Retirement-Planning', 'retirement_planning' and ' RETIREMENT  planning' are one key."""
    label = label.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", label).split())


class SpecialtyVocabulary:
    """A category's specialties, found by slug, name or synonym (case-insensitive)."""

    def __init__(self, specialties: Iterable[tuple[str, str]], synonyms: Mapping[str, Iterable[str]] | None = None):
        self._by_key: dict[str, str] = {}
        slugs = []
        for slug, name in specialties:
            slugs.append(slug)
            self._by_key.setdefault(_label_key(slug), slug)
            self._by_key.setdefault(_label_key(name), slug)
        for slug, words in (synonyms or {}).items():
            if slug in slugs:  # an operator may have removed a specialty: its synonyms go with it
                for word in words:
                    self._by_key.setdefault(_label_key(word), slug)

    def slug_for(self, label: str) -> str | None:
        return self._by_key.get(_label_key(label))


# --- One row --------------------------------------------------------------------------

# The state names Phase 1 stored instead of a code ('Texas', 'new york', 'Washington DC').
STATE_CODES_BY_NAME = {_label_key(name): code for code, name in STATE_NAMES.items()} | {"washington dc": "DC"}


def _shown(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _RowReader:
    """Clean values out of one legacy row, noting every repair against the row."""

    def __init__(self, table: str, row: Mapping[str, Any], limits: FieldLimits):
        self.table = table
        self.row = row
        self.row_id = row.get("id")
        if isinstance(self.row_id, bytes):
            self.row_id = self.row_id.decode("utf-8", "replace")
        self.limits = limits
        self.issues: list[Issue] = []

    def repaired(self, reason: str) -> None:
        self.issues.append(Issue(self.table, self.row_id, "repaired", reason))

    def text(self, column: str, limit: int | None = None) -> str:
        value = self.row.get(column)
        if value is None:
            return ""
        if type(value) is str:
            text = value
        else:
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        if "\x00" in text:  # PostgreSQL refuses NUL characters in text
            text = text.replace("\x00", "")
            self.repaired(f"{column} had NUL characters: removed")
        text = text.strip()
        if limit is not None and len(text) > limit:
            text = text[:limit].rstrip()
            self.repaired(f"{column} longer than {limit} characters: cut")
        return text

    def email(self) -> str | None:
        """The email, trimmed and lower-cased; None (and the row skipped) when unusable."""
        raw = self.row.get("email")
        email = self.text("email").lower()
        reason = None
        if not email:
            reason = "no email"
        elif len(email) > self.limits.email:
            reason = f"email longer than {self.limits.email} characters"
        elif not PLAIN_EMAIL.match(email):
            try:
                validate_email(email)
            except ValidationError:
                reason = f"not an email: {_shown(raw)}"
        if reason:
            self.issues = [Issue(self.table, self.row_id, "skipped", reason)]
            return None
        return email

    def money(self, value: Any, label: str) -> Decimal | None:
        """A USD amount from a number or a numeric string ('1,200', '$80'); None when unusable."""
        if value is None or (isinstance(value, str | bytes) and not value.strip()):
            return None
        amount = None
        if isinstance(value, bool):
            amount = None
        elif isinstance(value, int | Decimal):
            amount = Decimal(value)
        elif isinstance(value, float):
            amount = Decimal(repr(value))  # the shortest decimal that reads back as this float
        elif isinstance(value, str | bytes):
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            text = text.strip().removeprefix("$").replace(",", "").strip()
            try:
                amount = Decimal(text)
            except InvalidOperation:
                amount = None
        if amount is None or not amount.is_finite():
            self.repaired(f"{label} is not a number ({_shown(value)}): left empty")
            return None
        if amount < 0:
            self.repaired(f"{label} is negative ({amount}): left empty")
            return None
        # Compare before quantizing too: quantize raises InvalidOperation on huge values (1e30).
        limit = Decimal(10) ** (self.limits.money_digits - 2)
        if amount < limit:
            amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        if amount >= limit:
            self.repaired(f"{label} is too large ({amount}): left empty")
            return None
        return amount

    def money_range(
        self, low: Any, high: Any, low_label: str, high_label: str
    ) -> tuple[Decimal | None, Decimal | None] | None:
        """A (min, max) range, swapped when reversed; None when neither end is usable."""
        low_amount, high_amount = self.money(low, low_label), self.money(high, high_label)
        if low_amount is not None and high_amount is not None and low_amount > high_amount:
            self.repaired(f"{low_label} {low_amount} > {high_label} {high_amount}: swapped")
            low_amount, high_amount = high_amount, low_amount
        if low_amount is None and high_amount is None:
            return None
        return low_amount, high_amount

    def location(self) -> tuple[str, str] | None:
        """(city, two-letter state upper-cased); None when the row has neither."""
        city = self.text("location_city", self.limits.city)
        raw_state = self.text("location_state")
        state = raw_state.replace(".", "").strip().upper()
        if state and not (len(state) == 2 and state.isalpha()):
            code = STATE_CODES_BY_NAME.get(_label_key(raw_state))
            if code:
                self.repaired(f"location_state {raw_state!r} written as {code}")
            else:
                self.repaired(f"location_state {raw_state!r} is not a two-letter state: left empty")
            state = code or ""
        return (city, state) if city or state else None


def _years(reader: _RowReader) -> int | None:
    value = reader.row.get("years_experience")
    if value is None or (isinstance(value, str | bytes) and not value.strip()):
        return None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if math.isfinite(value) else None
    else:
        text = reader.text("years_experience")
        match = re.match(r"^[+-]?\d+", text)
        number = int(match.group()) if match else None
        if number is not None and match.group() != text:
            reader.repaired(f"years_experience {text!r} read as {number}")
    if number is None:
        reader.repaired(f"years_experience is not a number ({_shown(value)}): left empty")
        return None
    if number < 0:
        reader.repaired(f"years_experience is negative ({number}): left empty")
        return None
    if number > YEARS_MAX:
        reader.repaired(f"years_experience is too large ({number}): left empty")
        return None
    if isinstance(value, float) and number != value:
        reader.repaired(f"years_experience {value} read as {number}")
    return number


def _certifications(reader: _RowReader) -> str:
    """Free text; a JSON list of certifications (as specialties may be given) reads 'CFP, CFA'."""
    text = reader.text("certifications")
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        if isinstance(parsed, list):
            return ", ".join(str(item).strip() for item in parsed if str(item).strip())
    return text


def _listed_labels(reader: _RowReader, column: str) -> list[str]:
    """A JSON list or a comma-separated string, as a list of non-empty labels."""
    text = reader.text(column)
    if not text:
        return []
    items: list[Any]
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            reader.repaired(f"{column} is not valid JSON: read as a comma-separated list")
            items = re.split(r"[,;]", text.strip("[]"))
        else:
            items = parsed if isinstance(parsed, list) else [parsed]
    else:
        items = re.split(r"[,;]", text)
    labels = []
    for item in items:
        label = item.strip().strip("\"'").strip() if isinstance(item, str) else str(item)
        if label and label not in labels:
            labels.append(label)
    return labels


# --- The rows of each table -----------------------------------------------------------


@dataclass
class CustomerRow:
    """The clean values of one `customers` row."""

    row_id: Any
    email: str
    name: str
    needs_description: str
    budget: tuple[Decimal | None, Decimal | None] | None
    location: tuple[str, str] | None


@dataclass
class ProviderRow:
    """The clean values of one `providers` row."""

    row_id: Any
    email: str
    name: str
    company: str
    description: str
    specialties: tuple[list[str], list[str]] | None  # (known slugs, unknown labels)
    years: int | None
    certifications: str
    pricing: tuple[Decimal | None, Decimal | None] | None
    location: tuple[str, str] | None


def customer_repaired(row: Mapping[str, Any], *, limits: FieldLimits) -> tuple[CustomerRow | None, list[Issue]]:
    """Repair one `customers` row: its clean values (None when it is skipped) and its issues."""
    reader = _RowReader(CUSTOMERS, row, limits)
    repaired = _customer_row(reader)
    return repaired, reader.issues


def provider_repaired(
    row: Mapping[str, Any], *, vocabulary: SpecialtyVocabulary, limits: FieldLimits
) -> tuple[ProviderRow | None, list[Issue]]:
    """Repair one `providers` row: its clean values (None when it is skipped) and its issues."""
    reader = _RowReader(PROVIDERS, row, limits)
    repaired = _provider_row(reader, vocabulary)
    return repaired, reader.issues


def _customer_row(reader: _RowReader) -> CustomerRow | None:
    email = reader.email()
    if email is None:
        return None
    budget = None
    preferences = reader.text("preferences")
    if not preferences or preferences.lower() == "null":
        reader.repaired("no preferences: no budget")
    else:
        try:
            parsed = DECIMAL_JSON.decode(preferences)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            reader.repaired("preferences is not a JSON object: no budget")
        else:
            budget = reader.money_range(parsed.get("budget_min"), parsed.get("budget_max"), "budget_min", "budget_max")
    return CustomerRow(
        row_id=reader.row_id,
        email=email,
        name=reader.text("name", reader.limits.name),
        needs_description=reader.text("needs_description"),
        budget=budget,
        location=reader.location(),
    )


def _provider_row(reader: _RowReader, vocabulary: SpecialtyVocabulary) -> ProviderRow | None:
    email = reader.email()
    if email is None:
        return None
    specialties = None
    labels = _listed_labels(reader, "specialties")
    if labels:
        known: list[str] = []
        unknown: list[str] = []
        for label in labels:
            slug = vocabulary.slug_for(label)
            if slug is None:
                unknown.append(label)
            elif slug not in known:
                known.append(slug)
        specialties = (known, unknown)
    pricing = reader.money_range(
        reader.row.get("price_range_low"), reader.row.get("price_range_high"), "price_range_low", "price_range_high"
    )
    if pricing is None:
        reader.repaired("no price range: left empty")
    return ProviderRow(
        row_id=reader.row_id,
        email=email,
        name=reader.text("name", reader.limits.name),
        company=reader.text("company", reader.limits.business_name),
        description=reader.text("description"),
        specialties=specialties,
        years=_years(reader),
        certifications=_certifications(reader),
        pricing=pricing,
        location=reader.location(),
    )
