"""Bring the people of the Phase 1 file into the financial_advisors category (`import_v1`).

`reader`, `repair` and `plan` turn the legacy rows into one draft per person; this module,
the service-level part, compares the drafts with the database and writes what is missing
in batches (`imatch.db.rows_insert`), keeping the invariants the profile services keep,
with their own checks where one applies: one user per email, `account_type` true to the
roles held, `City, ST` locations, profiles only in an open category
(`category_open_check`), a seeker states a need (`seeker_needs_check`), a referral code
for everyone and no usable password (imported people set one through password reset).

What is already in I MATCH is never changed: an existing user keeps their name and
password, an existing profile keeps its values. The profile-creation POT is awarded only
when asked (`award_pot`), through `currency.services.pot_award` with the causes the
profile services use, so nobody is awarded twice. So a second run on the same file
creates, changes and awards nothing.
"""

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from categories.models import Category
from currency.selectors import causes_awarded, earning_rules_active
from currency.services import pot_award_many
from imatch.db import rows_insert
from imatch.errors import DomainError
from imatch.person_cache import Scope, person_forget
from marketplace.errors import CategoryMissing, ImportRaced
from marketplace.legacy.plan import LegacyPlan, Merge, PersonDraft, plan_people
from marketplace.legacy.reader import CUSTOMERS, read_legacy_file
from marketplace.legacy.repair import FINANCIAL_ADVISOR_SYNONYMS, FieldLimits, Issue, SpecialtyVocabulary, rows_counted
from marketplace.models import PHASE1_CATEGORY, AccountType, Provider, Seeker, User, new_referral_code
from marketplace.selectors import directory_changed
from marketplace.services.profiles import (
    category_open_check,
    profile_creation_award,
    profile_creation_cause,
    seeker_needs_check,
)

LEGACY_CATEGORY = PHASE1_CATEGORY
LOOKUP_CHUNK = 2000  # ids or emails per `IN (...)`: well under SQLite's parameter limit
AWARD_BATCH = 500  # POT awards per transaction: a few seconds of SQLite's write lock at a time


@dataclass
class ImportCounts:
    """What the import did (or, in a dry run, would do)."""

    users_created: int = 0
    users_matched: int = 0
    seekers_created: int = 0
    seekers_existing: int = 0
    seekers_without_need: int = 0
    providers_created: int = 0
    providers_existing: int = 0
    account_types_updated: int = 0
    pot_awarded: int = 0
    rows_skipped: int = 0
    rows_repaired: int = 0
    rows_merged: int = 0


@dataclass
class ImportReport:
    """The result of one run: every row's issues, the merges, and the counts."""

    path: str
    dry_run: bool
    award_pot: bool
    customers_read: int
    providers_read: int
    people: int
    people_in_both_tables: int
    issues: list[Issue] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    counts: ImportCounts = field(default_factory=ImportCounts)

    @property
    def changed(self) -> bool:
        """Whether the run created, changed or awarded anything (would have, in a dry run)."""
        counts = self.counts
        return bool(
            counts.users_created
            or counts.seekers_created
            or counts.providers_created
            or counts.account_types_updated
            or counts.pot_awarded
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "dry_run": self.dry_run,
            "award_pot": self.award_pot,
            "changed": self.changed,
            "customers_read": self.customers_read,
            "providers_read": self.providers_read,
            "people": self.people,
            "people_in_both_tables": self.people_in_both_tables,
            "issues": [issue.as_dict() for issue in self.issues],
            "merges": [merge.as_dict() for merge in self.merges],
            "counts": vars(self.counts).copy(),
        }


def legacy_file_import(*, path: str | Path, dry_run: bool = False, award_pot: bool = False) -> ImportReport:
    """Import the customers and providers of a Phase 1 file; a dry run only reports.

    Raises `LegacyFileError` for an unusable file, `CategoryMissing` or `CategoryInactive`
    when financial_advisors cannot take profiles, and `Conflict` when someone signed up
    with a legacy email during the run (nothing is written then; run it again).
    """
    tables = read_legacy_file(path)
    category = Category.objects.filter(name=LEGACY_CATEGORY).first()
    if category is None:
        raise CategoryMissing(f"No {LEGACY_CATEGORY} category: run `manage.py seed_categories` first.")
    category_open_check(category=category)
    vocabulary = SpecialtyVocabulary(category.specialties.values_list("slug", "name"), FINANCIAL_ADVISOR_SYNONYMS)
    # Reading and repairing the rows is plain Python: done before the transaction so the
    # database is locked only while it is written.
    plan = plan_people(tables, vocabulary=vocabulary, limits=_field_limits())
    report = ImportReport(
        path=str(path),
        dry_run=dry_run,
        award_pot=award_pot,
        customers_read=plan.customers_read,
        providers_read=plan.providers_read,
        people=len(plan.people),
        people_in_both_tables=sum(bool(person.seeker and person.provider) for person in plan.people),
        issues=plan.issues,
        merges=plan.merges,
        counts=ImportCounts(rows_merged=sum(len(merge.row_ids) - 1 for merge in plan.merges)),
    )
    try:
        # One transaction for the whole file: a person is imported whole or not at all,
        # and so is the file (a failure half-way leaves nothing to clean up).
        with transaction.atomic():
            user_ids = _import_people(plan, category=category, report=report, write=not dry_run)
            if not dry_run:
                directory_changed()  # imported advisors are listed (provisionally)
    except IntegrityError as error:
        raise ImportRaced(
            "The database changed during the import (someone signed up with a legacy email?); "
            "nothing was imported. Run the import again."
        ) from error
    if award_pot:
        # After the people are committed, in transactions of AWARD_BATCH awards: tens of
        # thousands of awards take minutes, and must not hold SQLite's write lock all that
        # time. An interrupted run is completed by running it again (a cause is awarded once).
        report.counts.pot_awarded = _profile_creation_pot_award(
            plan, user_ids=user_ids, category=category, write=not dry_run
        )
    report.counts.rows_skipped, report.counts.rows_repaired = rows_counted(report.issues)
    return report


def _field_limits() -> FieldLimits:
    def max_length(model: type, name: str) -> int:
        return model._meta.get_field(name).max_length

    return FieldLimits(
        email=max_length(User, "email"),
        name=max_length(User, "name"),
        business_name=max_length(Provider, "business_name"),
        city=min(max_length(Seeker, "city"), max_length(Provider, "city")),
        money_digits=min(
            Seeker._meta.get_field("budget_min").max_digits, Provider._meta.get_field("pricing_min").max_digits
        ),
    )


def _chunks(items: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Known:
    """What the database already holds about the people of the file."""

    user_ids: dict[str, int] = field(default_factory=dict)  # by lower-cased email
    account_types: dict[int, str] = field(default_factory=dict)
    seekers_anywhere: set[int] = field(default_factory=set)  # user ids with a seeker in any category
    providers_anywhere: set[int] = field(default_factory=set)
    seekers_here: set[int] = field(default_factory=set)  # ... in the legacy category
    providers_here: set[int] = field(default_factory=set)


def _known_people(plan: LegacyPlan, category: Category) -> _Known:
    known = _Known()
    emails = [person.email for person in plan.people]
    for chunk in _chunks(emails):
        rows = (
            User.objects.annotate(email_key=Lower("email"))
            .filter(email_key__in=chunk)
            .values_list("email_key", "id", "account_type")
        )
        for email, user_id, account_type in rows:
            known.user_ids[email] = user_id
            known.account_types[user_id] = account_type
    for chunk in _chunks(list(known.account_types)):
        for model, anywhere, here in (
            (Seeker, known.seekers_anywhere, known.seekers_here),
            (Provider, known.providers_anywhere, known.providers_here),
        ):
            for user_id, category_id in model.objects.filter(user_id__in=chunk).values_list("user_id", "category_id"):
                anywhere.add(user_id)
                if category_id == category.pk:
                    here.add(user_id)
    return known


def _import_people(plan: LegacyPlan, *, category: Category, report: ImportReport, write: bool) -> dict[str, int]:
    """Write the people who are not in the database yet; the user ids by email (new ones when written)."""
    known = _known_people(plan, category)
    counts = report.counts
    for person in plan.people:
        if person.seeker is None or known.user_ids.get(person.email) in known.seekers_here:
            continue
        try:
            # Phase 1 customers have no specialties: their need is the description alone.
            seeker_needs_check(specialties=(), needs_description=person.seeker.needs_description)
        except DomainError:
            person.seeker = None
            counts.seekers_without_need += 1
            report.issues.append(
                Issue(
                    CUSTOMERS,
                    person.customer_ids[0],
                    "repaired",
                    "no needs_description: the account is imported without a seeker profile "
                    "(a seeker must say what they need)",
                )
            )

    new_people = [person for person in plan.people if person.email not in known.user_ids]
    counts.users_created = len(new_people)
    counts.users_matched = len(plan.people) - len(new_people)

    type_changes: dict[str, list[int]] = {}
    for person in plan.people:
        user_id = known.user_ids.get(person.email)
        if user_id is None:
            continue
        account_type = AccountType.for_roles(
            is_seeker=user_id in known.seekers_anywhere or person.seeker is not None,
            is_provider=user_id in known.providers_anywhere or person.provider is not None,
        )
        if account_type != known.account_types[user_id]:
            type_changes.setdefault(account_type, []).append(user_id)
    counts.account_types_updated = sum(len(user_ids) for user_ids in type_changes.values())

    seekers = [p for p in plan.people if p.seeker and known.user_ids.get(p.email) not in known.seekers_here]
    providers = [p for p in plan.people if p.provider and known.user_ids.get(p.email) not in known.providers_here]
    counts.seekers_created = len(seekers)
    counts.seekers_existing = sum(person.seeker is not None for person in plan.people) - len(seekers)
    counts.providers_created = len(providers)
    counts.providers_existing = sum(person.provider is not None for person in plan.people) - len(providers)

    if write:
        known.user_ids.update(_users_create(new_people))
        for account_type, user_ids in type_changes.items():
            for chunk in _chunks(user_ids):
                User.objects.filter(pk__in=chunk).update(account_type=account_type)
                person_forget(chunk, Scope.ACCOUNT)  # an update sends no signal (marketplace.signals)
        _seekers_create(seekers, user_ids=known.user_ids, category=category)
        _providers_create(providers, user_ids=known.user_ids, category=category, source=Path(report.path).name)
    return known.user_ids


AWARDED_ROLES = (("seeker", Seeker), ("provider", Provider))


def _profile_creation_pot_award(plan: LegacyPlan, *, user_ids: dict[str, int], category: Category, write: bool) -> int:
    """Award the profile-creation POT of each role the people of the file hold; how many awards.

    The causes are the profile services' own, so a person who got the POT at sign-up, or
    from an earlier run, gets nothing more. In a dry run (people may not exist yet) it
    counts the awards an import would make. Each batch of AWARD_BATCH awards is one posting
    (`pot_award_many`: one lock statement for its wallets, then an INSERT per award).
    """
    wanted = [
        (role, person.email, user_ids.get(person.email))
        for person in plan.people
        for role, draft in (("seeker", person.seeker), ("provider", person.provider))
        if draft is not None
    ]
    awarded = causes_awarded(
        causes=[profile_creation_cause(role=role, user_id=user_id) for role, _, user_id in wanted if user_id]
    )
    pending = [
        (role, user_id)
        for role, _, user_id in wanted
        if user_id is None or profile_creation_cause(role=role, user_id=user_id) not in awarded
    ]
    if not write:
        rules = {rule.key: rule for rule in earning_rules_active()}
        return sum(1 for role, _ in pending if (rule := rules.get(f"profile_creation_{role}")) and rule.pot_for() > 0)

    profile_ids: dict[tuple[str, int], int] = {}
    pending_user_ids = sorted({user_id for _, user_id in pending})
    for chunk in _chunks(pending_user_ids):
        for role, model in AWARDED_ROLES:
            rows = model.objects.filter(category=category, user_id__in=chunk).values_list("user_id", "id")
            profile_ids.update({(role, user_id): profile_id for user_id, profile_id in rows})
    made = 0
    for batch in _chunks(pending, AWARD_BATCH):
        rows = pot_award_many(
            awards=[
                profile_creation_award(role=role, user_id=user_id, profile_id=profile_ids.get((role, user_id)))
                for role, user_id in batch
            ]
        )
        made += sum(row is not None for row in rows)
    return made


def _users_create(people: list[PersonDraft]) -> dict[str, int]:
    """Insert the new users (no usable password, a unique referral code, `imported_at`); their ids by email."""
    codes = _referral_codes_new(len(people))
    now = timezone.now()
    rows_insert(
        model=User,
        rows=[
            {
                "email": person.email,
                "name": person.name,
                "account_type": AccountType.for_roles(
                    is_seeker=person.seeker is not None, is_provider=person.provider is not None
                ).value,
                "password": _unusable_password(),
                "referral_code": code,
                "imported_at": now,
            }
            for person, code in zip(people, codes, strict=True)
        ],
    )
    ids = {}
    for chunk in _chunks([person.email for person in people]):
        ids.update(User.objects.filter(email__in=chunk).values_list("email", "id"))
    return ids


def _unusable_password() -> str:
    """What `set_unusable_password` stores, drawn in one call instead of forty.

    Django's version draws its 40 random characters one `secrets.choice` at a time, which
    alone took seconds for 50,000 people; `token_urlsafe(30)` gives 40 characters with as
    much randomness. The prefix is what makes the password unusable.
    """
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _referral_codes_new(count: int) -> list[str]:
    """`count` new referral codes, different from each other and from every user's code."""
    codes: dict[str, None] = {}
    while len(codes) < count:
        candidates = {new_referral_code() for _ in range(count - len(codes))} - codes.keys()
        for chunk in _chunks(list(candidates)):
            candidates -= set(User.objects.filter(referral_code__in=chunk).values_list("referral_code", flat=True))
        codes.update(dict.fromkeys(candidates))
    return list(codes)


def _seekers_create(people: list[PersonDraft], *, user_ids: dict[str, int], category: Category) -> None:
    rows = []
    for person in people:
        draft = person.seeker
        rows.append(
            {
                "user_id": user_ids[person.email],
                "category_id": category.pk,
                "needs_description": draft.needs_description,
                "budget_min": draft.budget_min,
                "budget_max": draft.budget_max,
                "city": draft.city,
                "state": draft.state,
                "location": Seeker.format_location(draft.city, draft.state),
            }
        )
    rows_insert(model=Seeker, rows=rows)


def _providers_create(people: list[PersonDraft], *, user_ids: dict[str, int], category: Category, source: str) -> None:
    """Insert the new providers, as Phase 1 advisors: provisionally verified until the license deadline.

    Phase 1 never stored license numbers, so none of them can be verified on the day of the
    move; the provisional verification (only given here) keeps them listed and matched
    for `V1_LICENSE_DEADLINE_DAYS` while they add one.
    """
    now = timezone.now()
    provisional = {}
    if category.requires_license:
        provisional = {
            "license_provisional": True,
            "provisional_since": now,
            "provisional_source": f"Phase 1 advisor (import_v1 {source})"[:200],
            "provisional_until": now + timedelta(days=settings.V1_LICENSE_DEADLINE_DAYS),
        }
    rows = []
    for person in people:
        draft = person.provider
        rows.append(
            {
                "user_id": user_ids[person.email],
                "category_id": category.pk,
                "business_name": draft.business_name,
                "bio": draft.bio,
                "years_experience": draft.years_experience,
                "certifications": draft.certifications,
                "pricing_min": draft.pricing_min,
                "pricing_max": draft.pricing_max,
                "city": draft.city,
                "state": draft.state,
                "location": Provider.format_location(draft.city, draft.state),
                **provisional,
            }
        )
    rows_insert(model=Provider, rows=rows)
    provider_ids = {}
    for chunk in _chunks([row["user_id"] for row in rows]):
        provider_ids.update(Provider.objects.filter(category=category, user_id__in=chunk).values_list("user_id", "id"))
    specialty_ids = dict(category.specialties.values_list("slug", "id"))
    rows_insert(
        model=Provider.specialties.through,
        rows=[
            {"provider_id": provider_ids[row["user_id"]], "specialty_id": specialty_ids[slug]}
            for person, row in zip(people, rows, strict=True)
            for slug in person.provider.specialty_slugs
        ],
    )
