"""The Phase 1 file read, its rows repaired and merged into people: plain data, no ORM.

Phase 1 kept a SQLite file with a `customers` and a `providers` table (see DESIGN.md,
"Legacy import"). This module reads it read-only, turns each row into clean values
(reporting every repair), skips rows without a usable email, and merges the rows of one
person (same email, case-insensitive, without surrounding spaces) into one `PersonDraft`.
`marketplace.services.legacy_import` writes the drafts to the database.

Merging: the first non-empty value of each field wins, rows taken in legacy id order and
customers before providers. A price or budget range and a location are one field each,
so a person never gets a minimum from one row and a maximum from another.
"""

import json
import math
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from imatch.errors import DomainError
from marketplace.us_states import STATE_NAMES

CUSTOMERS = "customers"
PROVIDERS = "providers"
REQUIRED_COLUMNS = ("id", "email")
YEARS_MAX = 32767  # what a PositiveSmallIntegerField holds on every database
CENT = Decimal("0.01")
DECIMAL_JSON = json.JSONDecoder(parse_float=Decimal)  # money never goes through float
# The everyday shape of an email, a strict subset of what Django's `validate_email` accepts
# (dot-atom local part, LDH domain labels, a letters-only TLD): checking it first is ten
# times faster, and `validate_email` still decides every other address.
PLAIN_EMAIL = re.compile(r"^[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")


class LegacyFileError(DomainError):
    """The legacy file cannot be used: missing, unreadable, not SQLite, or a table is missing."""

    code = "legacy_file_unusable"


# --- Reading the file -----------------------------------------------------------------


@dataclass
class LegacyTables:
    """The rows of the two legacy tables, as dicts keyed by column name, in id order."""

    customers: list[dict[str, Any]]
    providers: list[dict[str, Any]]


def read_legacy_file(path: str | Path) -> LegacyTables:
    """Read the customers and providers of a Phase 1 file without ever writing to it.

    The file is opened through a `mode=ro` URI: SQLite then neither writes the file nor
    creates a journal beside it, so its bytes and modification time stay as they were.
    """
    path = Path(path)
    if not path.exists():
        raise LegacyFileError(f"Cannot read the legacy file {path}: no such file.")
    if not path.is_file():
        raise LegacyFileError(f"Cannot read the legacy file {path}: not a regular file.")
    try:
        with path.open("rb"):  # a clear message for a permission problem, before SQLite's vaguer one
            pass
    except OSError as error:
        raise LegacyFileError(f"Cannot read the legacy file {path}: {error.strerror or error}.") from error
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise LegacyFileError(f"Cannot open the legacy file {path}: {error}.") from error
    # Phase 1 did not always store valid UTF-8: never fail a whole import on one bad byte.
    connection.text_factory = lambda raw: raw.decode("utf-8", "replace")
    try:
        tables = {
            name.lower()
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        }
        missing = [table for table in (CUSTOMERS, PROVIDERS) if table not in tables]
        if missing:
            raise LegacyFileError(f"The legacy file {path} has no {' and no '.join(missing)} table.")
        return LegacyTables(
            customers=_read_table(connection, CUSTOMERS, path),
            providers=_read_table(connection, PROVIDERS, path),
        )
    except sqlite3.Error as error:
        raise LegacyFileError(f"Cannot read the legacy file {path}: {error}.") from error
    finally:
        connection.close()


def _read_table(connection: sqlite3.Connection, table: str, path: Path) -> list[dict[str, Any]]:
    cursor = connection.execute(f'SELECT * FROM "{table}" ORDER BY id')  # noqa: S608 - a fixed table name
    columns = [description[0].lower() for description in cursor.description]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise LegacyFileError(f"The {table} table of {path} has no {' and no '.join(missing)} column.")
    return [dict(zip(columns, row, strict=True)) for row in cursor]


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


# --- Drafts: what the import writes ---------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """Something wrong with one legacy row, and what the import did about it."""

    table: str
    row_id: Any
    action: str  # "skipped" (the row is not imported) or "repaired" (imported with this fix)
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "id": self.row_id, "action": self.action, "reason": self.reason}


@dataclass(frozen=True)
class Merge:
    """Rows of one table that are the same person, merged into one profile."""

    table: str
    row_ids: tuple[Any, ...]
    email: str

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "ids": list(self.row_ids), "email": self.email}


@dataclass
class SeekerDraft:
    needs_description: str = ""
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    city: str = ""
    state: str = ""


@dataclass
class ProviderDraft:
    business_name: str = ""
    bio: str = ""
    specialty_slugs: list[str] = field(default_factory=list)
    years_experience: int | None = None
    certifications: str = ""
    pricing_min: Decimal | None = None
    pricing_max: Decimal | None = None
    city: str = ""
    state: str = ""


@dataclass
class PersonDraft:
    """One person of the legacy file: a user, with a seeker and/or a provider profile."""

    email: str
    name: str
    customer_ids: list[Any] = field(default_factory=list)
    provider_ids: list[Any] = field(default_factory=list)
    seeker: SeekerDraft | None = None
    provider: ProviderDraft | None = None


@dataclass(frozen=True)
class FieldLimits:
    """The longest values the database takes; the service reads them from the models."""

    email: int = 254
    name: int = 150
    business_name: int = 200
    city: int = 100
    money_digits: int = 12  # max_digits of the USD fields, 2 of them decimal places


@dataclass
class LegacyPlan:
    """Everyone in the file, and every row's issues."""

    people: list[PersonDraft]
    issues: list[Issue]
    merges: list[Merge]
    customers_read: int
    providers_read: int


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
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        if amount >= Decimal(10) ** (self.limits.money_digits - 2):
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


@dataclass
class _CustomerRow:
    email: str
    name: str
    needs_description: str
    budget: tuple[Decimal | None, Decimal | None] | None
    location: tuple[str, str] | None


@dataclass
class _ProviderRow:
    email: str
    name: str
    company: str
    description: str
    specialties: tuple[list[str], list[str]] | None  # (known slugs, unknown labels)
    years: int | None
    certifications: str
    pricing: tuple[Decimal | None, Decimal | None] | None
    location: tuple[str, str] | None


def _customer_row(reader: _RowReader) -> _CustomerRow | None:
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
    return _CustomerRow(
        email=email,
        name=reader.text("name", reader.limits.name),
        needs_description=reader.text("needs_description"),
        budget=budget,
        location=reader.location(),
    )


def _provider_row(reader: _RowReader, vocabulary: SpecialtyVocabulary) -> _ProviderRow | None:
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
    return _ProviderRow(
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


# --- People ---------------------------------------------------------------------------


def _first(values: Iterable[Any]) -> Any:
    """The first non-empty value (None, '' and () are empty; 0 is a value)."""
    for value in values:
        if value is not None and value != "" and value != ():
            return value
    return None


def _name_from_email(email: str, limit: int) -> str:
    local = email.split("@", 1)[0].split("+", 1)[0]
    name = " ".join(part.capitalize() for part in re.split(r"[._\-]+", local) if part)
    return (name or local)[:limit]


def plan_people(
    tables: LegacyTables,
    *,
    vocabulary: SpecialtyVocabulary,
    limits: FieldLimits = FieldLimits(),
) -> LegacyPlan:
    """Everyone in the legacy tables as drafts, with each row's issues and the merges."""
    issues: list[Issue] = []
    customers: dict[str, list[tuple[Any, _CustomerRow]]] = {}
    providers: dict[str, list[tuple[Any, _ProviderRow]]] = {}
    order: dict[str, None] = {}  # emails in order of first appearance, customers first

    def read(table: str, rows: Sequence[Mapping[str, Any]], parse: Callable, into: dict) -> None:
        for row in rows:
            reader = _RowReader(table, row, limits)
            parsed = parse(reader)
            issues.extend(reader.issues)
            if parsed is not None:
                into.setdefault(parsed.email, []).append((reader.row_id, parsed))
                order.setdefault(parsed.email)

    read(CUSTOMERS, tables.customers, _customer_row, customers)
    read(PROVIDERS, tables.providers, lambda reader: _provider_row(reader, vocabulary), providers)

    people = []
    for email in order:
        customer_rows = customers.get(email, [])
        provider_rows = providers.get(email, [])
        name = _first(row.name for _, row in [*customer_rows, *provider_rows])
        if not name:
            name = _name_from_email(email, limits.name)
            table, (row_id, _) = (CUSTOMERS, customer_rows[0]) if customer_rows else (PROVIDERS, provider_rows[0])
            issues.append(Issue(table, row_id, "repaired", f"no name: {name!r} taken from the email"))
        people.append(
            PersonDraft(
                email=email,
                name=name,
                customer_ids=[row_id for row_id, _ in customer_rows],
                provider_ids=[row_id for row_id, _ in provider_rows],
                seeker=_merged_seeker([row for _, row in customer_rows]) if customer_rows else None,
                provider=_merged_provider(provider_rows, name, issues) if provider_rows else None,
            )
        )
    merges = [
        Merge(table, tuple(row_id for row_id, _ in rows), email)
        for table, grouped in ((CUSTOMERS, customers), (PROVIDERS, providers))
        for email, rows in grouped.items()
        if len(rows) > 1
    ]
    return LegacyPlan(
        people=people,
        issues=issues,
        merges=merges,
        customers_read=len(tables.customers),
        providers_read=len(tables.providers),
    )


def rows_counted(issues: Iterable[Issue]) -> tuple[int, int]:
    """(rows skipped, rows repaired): a row counts once, however many repairs it had."""
    issues = list(issues)
    skipped = sum(issue.action == "skipped" for issue in issues)
    return skipped, len({(issue.table, issue.row_id) for issue in issues if issue.action == "repaired"})


def _merged_seeker(rows: list[_CustomerRow]) -> SeekerDraft:
    budget = _first(row.budget for row in rows) or (None, None)
    city, state = _first(row.location for row in rows) or ("", "")
    return SeekerDraft(
        needs_description=_first(row.needs_description for row in rows) or "",
        budget_min=budget[0],
        budget_max=budget[1],
        city=city,
        state=state,
    )


def _merged_provider(rows: list[tuple[Any, _ProviderRow]], person_name: str, issues: list[Issue]) -> ProviderDraft:
    values = [row for _, row in rows]
    pricing = _first(row.pricing for row in values) or (None, None)
    city, state = _first(row.location for row in values) or ("", "")
    bio = _first(row.description for row in values) or ""
    slugs: list[str] = []
    source = next(((row_id, row) for row_id, row in rows if row.specialties), None)
    if source is not None:
        row_id, row = source
        slugs, unknown = row.specialties
        if unknown:
            bio = "\n\n".join(part for part in (bio, f"Other specialties: {', '.join(unknown)}.") if part)
            issues.append(
                Issue(PROVIDERS, row_id, "repaired", f"unknown specialties kept in the bio: {', '.join(unknown)}")
            )
    return ProviderDraft(
        business_name=_first(row.company for row in values) or person_name,
        bio=bio,
        specialty_slugs=list(slugs),
        years_experience=_first(row.years for row in values),
        certifications=_first(row.certifications for row in values) or "",
        pricing_min=pricing[0],
        pricing_max=pricing[1],
        city=city,
        state=state,
    )
