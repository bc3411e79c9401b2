"""Planning the people of a Phase 1 file: its repaired rows merged into one draft per person; no ORM.

A person is an email (case-insensitive, without surrounding spaces): a customer and a
provider with the same email become one `PersonDraft` (one user with both profiles), and
several rows of one table with the same email become one profile (reported as a `Merge`).
`writer` compares the drafts with the database and writes what is missing.

Merging: the first non-empty value of each field wins, rows taken in legacy id order and
customers before providers. A price or budget range and a location are one field each,
so a person never gets a minimum from one row and a maximum from another.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from marketplace.legacy.reader import CUSTOMERS, PROVIDERS, LegacyTables
from marketplace.legacy.repair import (
    CustomerRow,
    FieldLimits,
    Issue,
    ProviderRow,
    SpecialtyVocabulary,
    customer_repaired,
    provider_repaired,
)

DEFAULT_LIMITS = FieldLimits()  # the writer passes the lengths of the models instead

# --- Drafts: what the import writes ---------------------------------------------------


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


@dataclass
class LegacyPlan:
    """Everyone in the file, and every row's issues."""

    people: list[PersonDraft]
    issues: list[Issue]
    merges: list[Merge]
    customers_read: int
    providers_read: int


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
    limits: FieldLimits = DEFAULT_LIMITS,
) -> LegacyPlan:
    """Everyone in the legacy tables as drafts, with each row's issues and the merges."""
    issues: list[Issue] = []
    customers: dict[str, list[CustomerRow]] = {}
    providers: dict[str, list[ProviderRow]] = {}
    order: dict[str, None] = {}  # emails in order of first appearance, customers first

    for row in tables.customers:
        customer, row_issues = customer_repaired(row, limits=limits)
        issues.extend(row_issues)
        if customer is not None:
            customers.setdefault(customer.email, []).append(customer)
            order.setdefault(customer.email)
    for row in tables.providers:
        provider, row_issues = provider_repaired(row, vocabulary=vocabulary, limits=limits)
        issues.extend(row_issues)
        if provider is not None:
            providers.setdefault(provider.email, []).append(provider)
            order.setdefault(provider.email)

    people = []
    for email in order:
        customer_rows = customers.get(email, [])
        provider_rows = providers.get(email, [])
        name = _first(row.name for row in [*customer_rows, *provider_rows])
        if not name:
            name = _name_from_email(email, limits.name)
            table, first_row = (CUSTOMERS, customer_rows[0]) if customer_rows else (PROVIDERS, provider_rows[0])
            issues.append(Issue(table, first_row.row_id, "repaired", f"no name: {name!r} taken from the email"))
        people.append(
            PersonDraft(
                email=email,
                name=name,
                customer_ids=[row.row_id for row in customer_rows],
                provider_ids=[row.row_id for row in provider_rows],
                seeker=_merged_seeker(customer_rows) if customer_rows else None,
                provider=_merged_provider(provider_rows, name, issues) if provider_rows else None,
            )
        )
    merges = [
        Merge(table, tuple(row.row_id for row in rows), email)
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


def _merged_seeker(rows: list[CustomerRow]) -> SeekerDraft:
    budget = _first(row.budget for row in rows) or (None, None)
    city, state = _first(row.location for row in rows) or ("", "")
    return SeekerDraft(
        needs_description=_first(row.needs_description for row in rows) or "",
        budget_min=budget[0],
        budget_max=budget[1],
        city=city,
        state=state,
    )


def _merged_provider(rows: list[ProviderRow], person_name: str, issues: list[Issue]) -> ProviderDraft:
    pricing = _first(row.pricing for row in rows) or (None, None)
    city, state = _first(row.location for row in rows) or ("", "")
    bio = _first(row.description for row in rows) or ""
    slugs: list[str] = []
    source = next((row for row in rows if row.specialties), None)
    if source is not None:
        slugs, unknown = source.specialties
        if unknown:
            bio = "\n\n".join(part for part in (bio, f"Other specialties: {', '.join(unknown)}.") if part)
            issues.append(
                Issue(
                    PROVIDERS, source.row_id, "repaired", f"unknown specialties kept in the bio: {', '.join(unknown)}"
                )
            )
    return ProviderDraft(
        business_name=_first(row.company for row in rows) or person_name,
        bio=bio,
        specialty_slugs=list(slugs),
        years_experience=_first(row.years for row in rows),
        certifications=_first(row.certifications for row in rows) or "",
        pricing_min=pricing[0],
        pricing_max=pricing[1],
        city=city,
        state=state,
    )
