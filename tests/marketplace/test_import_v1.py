"""`manage.py import_v1`: the Phase 1 people arrive intact, once, whatever their rows look like.

Each test builds its legacy SQLite file with sqlite3 (no binary database is committed).
"""

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from currency.models import EarningRule, PotTransaction, Wallet
from marketplace.legacy import writer
from marketplace.models import AccountType, Provider, Seeker, User
from marketplace.services.profiles import seeker_create
from tests.currency.factories import balance_of
from tests.marketplace.factories import PASSWORD, ProviderFactory, SeekerFactory, UserFactory

CUSTOMER_COLUMNS = {
    "id": "INTEGER PRIMARY KEY",
    "email": "TEXT",
    "name": "TEXT",
    "needs_description": "TEXT",
    "preferences": "TEXT",
    "location_city": "TEXT",
    "location_state": "TEXT",
    "phone": "TEXT",  # Phase 1 had more columns than the import reads
}
PROVIDER_COLUMNS = {
    "id": "INTEGER PRIMARY KEY",
    "email": "TEXT",
    "name": "TEXT",
    "company": "TEXT",
    "description": "TEXT",
    "specialties": "TEXT",
    "years_experience": "INTEGER",
    "certifications": "TEXT",
    "price_range_low": "REAL",
    "price_range_high": "REAL",
    "location_city": "TEXT",
    "location_state": "TEXT",
    "rating": "REAL",
}


def customer(row_id: int, email: str | None, **fields) -> dict:
    return {
        "id": row_id,
        "email": email,
        "name": f"Customer {row_id}",
        "needs_description": "Retirement in ten years.",
        "preferences": json.dumps({"budget_min": 100, "budget_max": 300}),
        "location_city": "Austin",
        "location_state": "TX",
        "phone": "555-0100",
        **fields,
    }


def provider(row_id: int, email: str | None, **fields) -> dict:
    return {
        "id": row_id,
        "email": email,
        "name": f"Provider {row_id}",
        "company": f"Firm {row_id}",
        "description": "Fee-only planner.",
        "specialties": json.dumps(["retirement-planning"]),
        "years_experience": 12,
        "certifications": "CFP",
        "price_range_low": 150,
        "price_range_high": 250,
        "location_city": "Denver",
        "location_state": "CO",
        "rating": 4.5,
        **fields,
    }


def legacy_file(path: Path, customers=(), providers=(), *, tables=("customers", "providers")) -> Path:
    """A Phase 1 SQLite file with these rows (and an extra table the import ignores)."""
    db = sqlite3.connect(path)
    for table, columns, rows in (
        ("customers", CUSTOMER_COLUMNS, customers),
        ("providers", PROVIDER_COLUMNS, providers),
    ):
        if table not in tables:
            continue
        db.execute(f"CREATE TABLE {table} ({', '.join(f'{name} {kind}' for name, kind in columns.items())})")
        for row in rows:
            names = list(row)
            db.execute(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",  # noqa: S608
                [row[name] for name in names],
            )
    db.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY, token TEXT)")
    db.commit()
    db.close()
    return path


def run_import(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_v1", str(path), *args, stdout=out)
    return out.getvalue()


def report_of(path: Path, tmp_path: Path, *args: str) -> dict:
    report = tmp_path / "report.json"
    run_import(path, "--report-json", str(report), *args)
    return json.loads(report.read_text())


def issues_of(report: dict) -> dict[tuple[str, int], list[str]]:
    found: dict[tuple[str, int], list[str]] = {}
    for issue in report["issues"]:
        found.setdefault((issue["table"], issue["id"]), []).append(f"{issue['action']}: {issue['reason']}")
    return found


def printed_counts(output: str) -> dict[str, int]:
    """The counts at the end of the printed report, by label."""
    lines = output.rstrip().splitlines()
    counts = lines[lines.index("Counts:") + 1 :]
    return {label.strip(): int(number) for label, number in (line.rsplit(" ", 1) for line in counts)}


def database_snapshot() -> dict:
    """Every row the import could touch, every column."""
    return {
        "users": list(User.objects.order_by("id").values()),
        "seekers": list(Seeker.objects.order_by("id").values()),
        "providers": list(Provider.objects.order_by("id").values()),
        "specialties": list(Provider.specialties.through.objects.order_by("id").values()),
    }


@pytest.fixture
def advisors(seeded_categories):
    return seeded_categories["financial_advisors"]


# --- The happy path -------------------------------------------------------------------


def test_imports_customers_as_seekers_and_providers_as_providers(advisors, tmp_path):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[
            customer(1, "Alice@Example.com", name="Alice Smith", location_state="tx"),
            customer(2, "bob@example.com", preferences=json.dumps({"budget_min": "50.5", "budget_max": 80})),
        ],
        providers=[
            provider(
                1,
                "carol@example.com",
                name="Carol Jones",
                company="Jones Wealth",
                specialties=json.dumps(["Retirement Planning", "tax-planning"]),
                price_range_low=120.5,
            ),
        ],
    )

    output = run_import(path)

    alice = User.objects.get(email="alice@example.com")
    assert alice.name == "Alice Smith"
    assert alice.account_type == AccountType.SEEKER
    seeker = alice.seekers.get()
    assert seeker.category == advisors
    assert seeker.needs_description == "Retirement in ten years."
    assert (seeker.budget_min, seeker.budget_max) == (Decimal("100.00"), Decimal("300.00"))
    assert (seeker.city, seeker.state, seeker.location) == ("Austin", "TX", "Austin, TX")
    bob_seeker = Seeker.objects.get(user__email="bob@example.com")
    assert (bob_seeker.budget_min, bob_seeker.budget_max) == (Decimal("50.50"), Decimal("80.00"))

    carol = User.objects.get(email="carol@example.com")
    assert carol.account_type == AccountType.PROVIDER
    listed = carol.providers.get()
    assert listed.category == advisors
    assert listed.business_name == "Jones Wealth"
    assert listed.bio == "Fee-only planner."
    assert set(listed.specialties.values_list("slug", flat=True)) == {"retirement-planning", "tax-planning"}
    assert listed.years_experience == 12
    assert listed.certifications == "CFP"
    assert (listed.pricing_min, listed.pricing_max) == (Decimal("120.50"), Decimal("250.00"))
    assert listed.location == "Denver, CO"
    assert not listed.license_verified  # an operator verifies imported advisors like any other

    users = User.objects.all()
    assert users.count() == 3
    assert not any(user.has_usable_password() for user in users)
    codes = [user.referral_code for user in users]
    assert len(set(codes)) == 3 and all(len(code) == 8 for code in codes)

    assert "Imported." in output
    counts = printed_counts(output)
    assert (counts["users created"], counts["seekers created"], counts["providers created"]) == (3, 2, 1)


def test_a_person_in_both_tables_is_one_user_with_both_profiles(advisors, tmp_path):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[customer(4, "  Dana@Example.COM ", name="Dana")],
        providers=[provider(9, "dana@example.com", name="Dana Lee", company="")],
    )

    report = report_of(path, tmp_path)

    dana = User.objects.get()
    assert dana.email == "dana@example.com"
    assert dana.name == "Dana"  # the customer row comes first
    assert dana.account_type == AccountType.BOTH
    assert dana.seekers.get().category == advisors
    assert dana.providers.get().business_name == "Dana"  # no company: the person's name
    assert report["people_in_both_tables"] == 1
    assert report["counts"]["users_created"] == 1


def test_imported_people_can_set_a_password_through_reset(advisors, tmp_path, client):
    path = legacy_file(tmp_path / "phase1.sqlite3", customers=[customer(1, "eve@example.com")])
    run_import(path)

    eve = User.objects.get()
    assert not eve.has_usable_password()
    eve.set_password(PASSWORD)  # what the password reset form does
    eve.save()
    assert User.objects.get().check_password(PASSWORD)


# --- Bad rows -------------------------------------------------------------------------


@pytest.mark.parametrize("email", [None, "", "   ", "not-an-email", "two@@example.com", "a" * 250 + "@example.com"])
def test_a_row_without_a_usable_email_is_skipped_and_reported(advisors, tmp_path, email):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[customer(7, email), customer(8, "ok@example.com")],
        providers=[provider(3, email)],
    )

    report = report_of(path, tmp_path)

    assert list(User.objects.values_list("email", flat=True)) == ["ok@example.com"]
    assert Provider.objects.count() == 0
    issues = issues_of(report)
    assert issues[("customers", 7)][0].startswith("skipped: ")
    assert issues[("providers", 3)][0].startswith("skipped: ")
    assert report["counts"]["rows_skipped"] == 2


@pytest.mark.parametrize(
    ("preferences", "reason"),
    [
        ("{budget_min: 100", "preferences is not a JSON object: no budget"),
        ("[100, 300]", "preferences is not a JSON object: no budget"),
        (None, "no preferences: no budget"),
        ("", "no preferences: no budget"),
    ],
)
def test_malformed_or_missing_preferences_leave_no_budget(advisors, tmp_path, preferences, reason):
    path = legacy_file(tmp_path / "phase1.sqlite3", customers=[customer(2, "fay@example.com", preferences=preferences)])

    report = report_of(path, tmp_path)

    seeker = Seeker.objects.get()
    assert (seeker.budget_min, seeker.budget_max) == (None, None)
    assert issues_of(report)[("customers", 2)] == [f"repaired: {reason}"]
    assert report["counts"]["rows_repaired"] == 1


def test_a_reversed_budget_is_swapped(advisors, tmp_path):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[customer(3, "gus@example.com", preferences=json.dumps({"budget_min": "500", "budget_max": 200}))],
    )

    report = report_of(path, tmp_path)

    seeker = Seeker.objects.get()
    assert (seeker.budget_min, seeker.budget_max) == (Decimal("200.00"), Decimal("500.00"))
    assert issues_of(report)[("customers", 3)] == ["repaired: budget_min 500.00 > budget_max 200.00: swapped"]


def test_unusable_budget_numbers_are_left_empty(advisors, tmp_path):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[
            customer(1, "a@example.com", preferences=json.dumps({"budget_min": "lots", "budget_max": "$1,200"})),
            customer(2, "b@example.com", preferences=json.dumps({"budget_min": -5, "budget_max": True})),
        ],
    )

    report = report_of(path, tmp_path)

    assert Seeker.objects.get(user__email="a@example.com").budget_max == Decimal("1200.00")
    assert Seeker.objects.get(user__email="a@example.com").budget_min is None
    b = Seeker.objects.get(user__email="b@example.com")
    assert (b.budget_min, b.budget_max) == (None, None)
    issues = issues_of(report)
    assert issues[("customers", 1)] == ["repaired: budget_min is not a number ('lots'): left empty"]
    assert issues[("customers", 2)] == [
        "repaired: budget_min is negative (-5): left empty",
        "repaired: budget_max is not a number (True): left empty",
    ]


def test_a_reversed_price_range_is_swapped_and_missing_prices_left_empty(advisors, tmp_path):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        providers=[
            provider(1, "a@example.com", price_range_low=300, price_range_high="150"),
            provider(2, "b@example.com", price_range_low=None, price_range_high=None),
            provider(3, "c@example.com", price_range_low="", price_range_high=90),
        ],
    )

    report = report_of(path, tmp_path)

    prices = {p.user.email: (p.pricing_min, p.pricing_max) for p in Provider.objects.select_related("user")}
    assert prices == {
        "a@example.com": (Decimal("150.00"), Decimal("300.00")),
        "b@example.com": (None, None),
        "c@example.com": (None, Decimal("90.00")),
    }
    issues = issues_of(report)
    assert issues[("providers", 1)] == ["repaired: price_range_low 300.00 > price_range_high 150.00: swapped"]
    assert issues[("providers", 2)] == ["repaired: no price range: left empty"]
    assert ("providers", 3) not in issues  # one price is a price range


@pytest.mark.parametrize(
    ("years", "expected", "reason"),
    [
        (-3, None, "years_experience is negative (-3): left empty"),
        ("ten", None, "years_experience is not a number ('ten'): left empty"),
        ("15+ years", 15, "years_experience '15+ years' read as 15"),
        (None, None, None),
        (0, 0, None),
    ],
)
def test_years_of_experience(advisors, tmp_path, years, expected, reason):
    path = legacy_file(tmp_path / "phase1.sqlite3", providers=[provider(5, "h@example.com", years_experience=years)])

    report = report_of(path, tmp_path)

    assert Provider.objects.get().years_experience == expected
    assert issues_of(report).get(("providers", 5)) == ([f"repaired: {reason}"] if reason else None)


def test_an_empty_name_is_taken_from_the_email(advisors, tmp_path):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[customer(1, "jane.doe+fa@example.com", name="  ")],
        providers=[provider(2, "max_power@example.com", name=None)],
    )

    report = report_of(path, tmp_path)

    assert User.objects.get(email="jane.doe+fa@example.com").name == "Jane Doe"
    assert User.objects.get(email="max_power@example.com").name == "Max Power"
    issues = issues_of(report)
    assert issues[("customers", 1)] == ["repaired: no name: 'Jane Doe' taken from the email"]
    assert issues[("providers", 2)] == ["repaired: no name: 'Max Power' taken from the email"]


def test_specialties_from_a_list_or_a_string_and_unknown_ones_kept_in_the_bio(advisors, tmp_path):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        providers=[
            provider(1, "a@example.com", specialties="Retirement Planning, taxes,  ESG ,Crypto, BUDGETING"),
            provider(2, "b@example.com", specialties=json.dumps(["estate_planning", "Horse racing"]), description=None),
            provider(3, "c@example.com", specialties='["wills", "529 plans"'),  # broken JSON
            provider(4, "d@example.com", specialties=None),
        ],
    )

    report = report_of(path, tmp_path)

    def slugs(email):
        return set(Provider.objects.get(user__email=email).specialties.values_list("slug", flat=True))

    assert slugs("a@example.com") == {
        "retirement-planning",
        "tax-planning",
        "socially-responsible-investing",
        "budgeting",
    }
    assert Provider.objects.get(user__email="a@example.com").bio == "Fee-only planner.\n\nOther specialties: Crypto."
    assert slugs("b@example.com") == {"estate-planning"}
    assert Provider.objects.get(user__email="b@example.com").bio == "Other specialties: Horse racing."
    assert slugs("c@example.com") == {"estate-planning", "college-savings"}
    assert slugs("d@example.com") == set()
    issues = issues_of(report)
    assert issues[("providers", 1)] == ["repaired: unknown specialties kept in the bio: Crypto"]
    assert issues[("providers", 2)] == ["repaired: unknown specialties kept in the bio: Horse racing"]
    assert issues[("providers", 3)] == ["repaired: specialties is not valid JSON: read as a comma-separated list"]
    assert ("providers", 4) not in issues


def test_states_are_two_upper_case_letters(advisors, tmp_path):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[
            customer(1, "a@example.com", location_city=" Boston ", location_state=" ma"),
            customer(2, "b@example.com", location_city="Miami", location_state="Florida"),
            customer(3, "c@example.com", location_city="Springfield", location_state="Nowhere"),
            customer(4, "d@example.com", location_city=None, location_state=None),
        ],
    )

    report = report_of(path, tmp_path)

    locations = dict(Seeker.objects.values_list("user__email", "location"))
    assert locations == {
        "a@example.com": "Boston, MA",
        "b@example.com": "Miami, FL",
        "c@example.com": "Springfield",
        "d@example.com": "",
    }
    issues = issues_of(report)
    assert issues[("customers", 2)] == ["repaired: location_state 'Florida' written as FL"]
    assert issues[("customers", 3)] == ["repaired: location_state 'Nowhere' is not a two-letter state: left empty"]


def test_a_row_of_nulls_but_the_email_imports_with_empty_values(advisors, tmp_path):
    nulls_customer = dict.fromkeys(CUSTOMER_COLUMNS) | {"id": 1, "email": "null@example.com"}
    nulls_provider = dict.fromkeys(PROVIDER_COLUMNS) | {"id": 1, "email": "nil@example.com"}
    path = legacy_file(tmp_path / "phase1.sqlite3", customers=[nulls_customer], providers=[nulls_provider])

    report = report_of(path, tmp_path)

    listed = Provider.objects.get()
    assert (listed.business_name, listed.bio, listed.years_experience, listed.pricing_min) == ("Nil", "", None, None)
    assert listed.location == ""
    assert report["counts"]["users_created"] == 2
    assert User.objects.get(email="null@example.com").name == "Null"


def test_a_customer_without_a_need_gets_an_account_but_no_seeker_profile(advisors, tmp_path):
    """A seeker must say what they need (as on the web); the person still gets their account."""
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[
            customer(1, "quiet@example.com", needs_description="  "),
            customer(2, "both@example.com", needs_description=None),
        ],
        providers=[provider(1, "both@example.com")],
    )

    report = report_of(path, tmp_path)

    quiet = User.objects.get(email="quiet@example.com")
    assert not quiet.seekers.exists()
    assert quiet.account_type == AccountType.SEEKER  # as after a sign-up, before any profile
    both = User.objects.get(email="both@example.com")
    assert (both.seekers.count(), both.providers.count(), both.account_type) == (0, 1, AccountType.PROVIDER)
    reason = (
        "repaired: no needs_description: the account is imported without a seeker profile "
        "(a seeker must say what they need)"
    )
    assert issues_of(report)[("customers", 1)] == [reason]
    assert issues_of(report)[("customers", 2)] == [reason]
    counts = report["counts"]
    assert (counts["seekers_created"], counts["seekers_without_need"], counts["users_created"]) == (0, 2, 2)
    assert report_of(path, tmp_path)["changed"] is False


def test_nul_characters_and_bad_utf8_do_not_stop_the_import(advisors, tmp_path):
    path = legacy_file(tmp_path / "phase1.sqlite3", providers=[provider(1, "nul@example.com", name="Ned\x00 Null")])
    db = sqlite3.connect(path)
    db.execute("UPDATE providers SET description = CAST(X'4F6B20FF20626172' AS TEXT)")  # 'Ok \xff bar'
    db.commit()
    db.close()

    report = report_of(path, tmp_path)

    listed = Provider.objects.select_related("user").get()
    assert listed.user.name == "Ned Null"
    assert listed.bio == "Ok \ufffd bar"
    assert issues_of(report)[("providers", 1)] == ["repaired: name had NUL characters: removed"]


def test_overlong_values_are_cut_to_what_the_database_takes(advisors, tmp_path):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        providers=[provider(1, "long@example.com", name="N" * 400, company="C" * 400, location_city="X" * 300)],
    )

    report = report_of(path, tmp_path)

    listed = Provider.objects.select_related("user").get()
    assert (len(listed.user.name), len(listed.business_name), len(listed.city)) == (150, 200, 100)
    assert issues_of(report)[("providers", 1)] == [
        "repaired: name longer than 150 characters: cut",
        "repaired: company longer than 200 characters: cut",
        "repaired: location_city longer than 100 characters: cut",
    ]


# --- Duplicates -----------------------------------------------------------------------


def test_duplicate_customers_merge_and_the_first_non_empty_value_wins(advisors, tmp_path):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[
            customer(5, " ann@example.com", name="", needs_description="From row 5", preferences=None),
            customer(9, "ANN@example.com", name="Ann", needs_description="From row 9", location_city="Reno"),
        ],
    )

    report = report_of(path, tmp_path)

    ann = User.objects.get()
    assert ann.name == "Ann"
    seeker = Seeker.objects.get()
    assert seeker.needs_description == "From row 5"
    assert (seeker.budget_min, seeker.budget_max) == (Decimal("100.00"), Decimal("300.00"))  # row 9's
    assert seeker.location == "Austin, TX"  # row 5's: a location is one field
    assert report["merges"] == [{"table": "customers", "ids": [5, 9], "email": "ann@example.com"}]
    assert report["counts"]["rows_merged"] == 1
    assert "customers 5, 9: ann@example.com" in run_import(path, "--dry-run")


def test_duplicate_providers_merge_and_the_first_non_empty_value_wins(advisors, tmp_path):
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        providers=[
            provider(2, "bo@example.com", company="", specialties=None, price_range_low=None, price_range_high=None),
            provider(3, "Bo@Example.com", company="Bo & Co", specialties="tax", price_range_high=900),
            provider(4, "bo@example.com", company="Other", specialties="estate"),
        ],
    )

    report = report_of(path, tmp_path)

    listed = Provider.objects.get()
    assert listed.business_name == "Bo & Co"
    assert list(listed.specialties.values_list("slug", flat=True)) == ["tax-planning"]
    assert (listed.pricing_min, listed.pricing_max) == (Decimal("150.00"), Decimal("900.00"))
    assert report["merges"] == [{"table": "providers", "ids": [2, 3, 4], "email": "bo@example.com"}]
    assert report["counts"]["rows_merged"] == 2
    assert User.objects.get().account_type == AccountType.PROVIDER


# --- Existing people ------------------------------------------------------------------


def test_an_existing_user_is_matched_and_keeps_their_account(advisors, seeded_categories, tmp_path):
    existing = UserFactory(email="kim@example.com", name="Kim From The Web")
    ProviderFactory(user=existing, category=seeded_categories["career_coaches"])
    User.objects.filter(pk=existing.pk).update(account_type=AccountType.PROVIDER)
    path = legacy_file(tmp_path / "phase1.sqlite3", customers=[customer(1, "KIM@example.com", name="Kim Legacy")])

    report = report_of(path, tmp_path)

    kim = User.objects.get()
    assert kim.pk == existing.pk
    assert kim.name == "Kim From The Web"
    assert kim.check_password(PASSWORD)
    assert kim.referral_code == existing.referral_code
    assert kim.account_type == AccountType.BOTH
    assert kim.seekers.get().category == advisors
    counts = report["counts"]
    assert (counts["users_created"], counts["users_matched"], counts["account_types_updated"]) == (0, 1, 1)


def test_an_existing_profile_is_left_as_it_is(advisors, tmp_path):
    seeker = SeekerFactory(user__email="lou@example.com", category=advisors, needs_description="Typed on the web")
    User.objects.filter(pk=seeker.user_id).update(account_type=AccountType.SEEKER)
    path = legacy_file(tmp_path / "phase1.sqlite3", customers=[customer(1, "lou@example.com")])
    before = database_snapshot()

    report = report_of(path, tmp_path)

    assert database_snapshot() == before
    assert report["counts"]["seekers_existing"] == 1
    assert report["changed"] is False


# --- Running it again, dry runs -------------------------------------------------------


def messy_file(path: Path) -> Path:
    return legacy_file(
        path,
        customers=[
            customer(1, "a@example.com"),
            customer(2, None),
            customer(3, "both@example.com", preferences="{oops"),
            customer(4, "A@example.com", name=""),
        ],
        providers=[
            provider(1, "both@example.com", specialties="tax, Crypto"),
            provider(2, "p@example.com", years_experience=-1),
        ],
    )


def test_a_second_run_changes_nothing_and_says_so(advisors, tmp_path):
    path = messy_file(tmp_path / "phase1.sqlite3")
    first = report_of(path, tmp_path)
    after_first = database_snapshot()

    output = run_import(path)
    second = report_of(path, tmp_path)

    assert database_snapshot() == after_first
    assert "Nothing changed: everyone in this file is already in I MATCH." in output
    assert second["changed"] is False
    counts = second["counts"]
    assert counts["users_created"] == counts["seekers_created"] == counts["providers_created"] == 0
    assert counts["account_types_updated"] == 0
    assert counts["users_matched"] == first["counts"]["users_created"] == 3
    assert second["issues"] == first["issues"]  # the file still has its bad rows


def test_a_dry_run_writes_nothing_and_reports_what_the_import_would_do(advisors, tmp_path):
    path = messy_file(tmp_path / "phase1.sqlite3")

    output = run_import(path, "--dry-run")
    dry = report_of(path, tmp_path, "--dry-run")

    assert User.objects.count() == Seeker.objects.count() == Provider.objects.count() == 0
    assert "Dry run: nothing was written" in output
    real = report_of(path, tmp_path)
    assert {**dry, "dry_run": False} == real
    assert User.objects.count() == 3


def test_a_dry_run_after_the_import_says_nothing_would_change(advisors, tmp_path):
    path = messy_file(tmp_path / "phase1.sqlite3")
    run_import(path)

    output = run_import(path, "--dry-run")

    assert "Dry run: nothing was written, and the import would change nothing." in output


def test_the_report_lists_each_issue_with_table_and_id_and_ends_with_the_counts(advisors, tmp_path):
    path = messy_file(tmp_path / "phase1.sqlite3")

    output = run_import(path)

    assert "customers 2: skipped: no email" in output
    assert "customers 3: repaired: preferences is not a JSON object: no budget" in output
    assert "providers 1: repaired: unknown specialties kept in the bio: Crypto" in output
    assert "providers 2: repaired: years_experience is negative (-1): left empty" in output
    assert output.rstrip().splitlines()[-12] == "Counts:"
    assert list(printed_counts(output)) == [
        "users created",
        "users matched to existing",
        "seekers created",
        "seekers already there",
        "customers without a need (account only)",
        "providers created",
        "providers already there",
        "account types updated",
        "rows skipped",
        "rows repaired",
        "rows merged into another",
    ]


def test_report_json(advisors, tmp_path):
    path = messy_file(tmp_path / "phase1.sqlite3")

    report = report_of(path, tmp_path)

    assert report["file"] == str(path)
    assert (report["customers_read"], report["providers_read"], report["people"]) == (4, 2, 3)
    assert {"table": "customers", "id": 2, "action": "skipped", "reason": "no email"} in report["issues"]
    assert report["counts"] == {
        "users_created": 3,
        "users_matched": 0,
        "seekers_created": 2,
        "seekers_existing": 0,
        "seekers_without_need": 0,
        "providers_created": 2,
        "providers_existing": 0,
        "account_types_updated": 0,
        "pot_awarded": 0,
        "rows_skipped": 1,
        "rows_repaired": 3,  # customers 3, providers 1 and 2 (customer 4's empty name: row 1 has one)
        "rows_merged": 1,
    }


# --- Unusable files, and the file is never changed ------------------------------------


def test_the_legacy_file_is_not_changed_not_even_its_modification_time(advisors, tmp_path):
    path = messy_file(tmp_path / "phase1.sqlite3")
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    digest, mtime = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns

    run_import(path)
    run_import(path, "--dry-run")

    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["phase1.sqlite3"]  # no journal left beside it


def assert_refused_with_exit_code_2(path: Path, message: str) -> None:
    with pytest.raises(CommandError) as raised:
        run_import(path)
    assert raised.value.returncode == 2
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert User.objects.count() == 0


def test_a_missing_file_is_refused(advisors, tmp_path):
    assert_refused_with_exit_code_2(tmp_path / "nope.sqlite3", "no such file")


def test_a_folder_is_refused(advisors, tmp_path):
    assert_refused_with_exit_code_2(tmp_path, "not a regular file")


def test_a_file_that_is_not_sqlite_is_refused(advisors, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("id,email\n1,a@example.com\n" * 200)
    assert_refused_with_exit_code_2(path, "Cannot read the legacy file")
    assert path.read_text().startswith("id,email")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file: no permission to take away")
def test_an_unreadable_file_is_refused(advisors, tmp_path):
    path = messy_file(tmp_path / "phase1.sqlite3")
    path.chmod(0)
    try:
        assert_refused_with_exit_code_2(path, "Permission denied")
    finally:
        path.chmod(0o644)


def test_a_file_the_import_may_not_read_is_refused(advisors, tmp_path, monkeypatch):
    """As root (CI containers) chmod cannot take the permission away: the OS refusal is simulated."""
    path = messy_file(tmp_path / "phase1.sqlite3")

    def refused(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refused)
    assert_refused_with_exit_code_2(path, f"Cannot read the legacy file {path}: Permission denied.")


@pytest.mark.parametrize("present", ["customers", "providers"])
def test_a_file_without_one_of_the_tables_is_refused(advisors, tmp_path, present):
    path = legacy_file(tmp_path / "phase1.sqlite3", tables=(present,))
    missing = {"customers", "providers"} - {present}
    assert_refused_with_exit_code_2(path, f"has no {missing.pop()} table")


def test_a_table_without_an_email_column_is_refused(advisors, tmp_path):
    path = tmp_path / "phase1.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE customers (id INTEGER, mail TEXT); CREATE TABLE providers (id INTEGER, email TEXT);")
    db.close()
    assert_refused_with_exit_code_2(path, "The customers table")


def test_the_command_line_exits_with_code_2_and_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "import_v1", str(tmp_path / "missing.sqlite3")],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "imatch.test_settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"CommandError: Cannot read the legacy file {tmp_path / 'missing.sqlite3'}: no such file."
    ]


def test_the_import_needs_the_category_open(seeded_categories, tmp_path):
    seeded_categories["financial_advisors"].__class__.objects.filter(name="financial_advisors").update(active=False)
    path = messy_file(tmp_path / "phase1.sqlite3")

    with pytest.raises(CommandError, match="Financial Advisors is not open for new profiles"):
        run_import(path)
    assert User.objects.count() == 0


def test_the_import_needs_the_category_seeded(db, tmp_path):
    path = messy_file(tmp_path / "phase1.sqlite3")

    with pytest.raises(CommandError, match=re.escape("run `manage.py seed_categories` first")):
        run_import(path)


def test_an_unwritable_json_report_is_a_clear_error(advisors, tmp_path):
    path = messy_file(tmp_path / "phase1.sqlite3")

    with pytest.raises(CommandError, match="Cannot write the JSON report"):
        run_import(path, "--report-json", str(tmp_path / "no-such-folder" / "report.json"))


# --- Whole people, or none ------------------------------------------------------------


def test_a_failure_half_way_leaves_no_half_imported_person(advisors, tmp_path, monkeypatch):
    path = messy_file(tmp_path / "phase1.sqlite3")

    def failing(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(writer, "_providers_create", failing)
    with pytest.raises(RuntimeError):
        run_import(path)

    assert User.objects.count() == Seeker.objects.count() == Provider.objects.count() == 0


def test_a_sign_up_racing_the_import_is_refused_and_nothing_is_written(advisors, tmp_path, monkeypatch):
    path = messy_file(tmp_path / "phase1.sqlite3")
    original = writer._seekers_create

    def with_a_racing_sign_up(*args, **kwargs):
        original(*args, **kwargs)
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(writer, "_seekers_create", with_a_racing_sign_up)
    with pytest.raises(CommandError, match="Run the import again"):
        run_import(path)

    assert User.objects.count() == Seeker.objects.count() == 0


def test_referral_codes_stay_unique_when_the_draw_repeats(advisors, tmp_path, monkeypatch):
    taken = UserFactory().referral_code
    draws = iter([taken, "AAAAAAAA", "AAAAAAAA", "BBBBBBBB", "CCCCCCCC", "DDDDDDDD"])
    monkeypatch.setattr(writer, "new_referral_code", lambda: next(draws))
    path = legacy_file(
        tmp_path / "phase1.sqlite3",
        customers=[customer(1, "a@example.com"), customer(2, "b@example.com"), customer(3, "c@example.com")],
    )

    run_import(path)

    codes = list(User.objects.values_list("referral_code", flat=True))
    assert len(codes) == len(set(codes)) == 4


# --- Profile-creation POT (--award-pot) -----------------------------------------------


def pot_rows() -> list[tuple[str, str, int, str, int | None]]:
    return list(
        PotTransaction.objects.order_by("id").values_list(
            "user__email", "category", "amount", "reference_type", "reference_id"
        )
    )


def pot_file(path: Path) -> Path:
    return legacy_file(
        path,
        customers=[customer(1, "sam@example.com"), customer(2, "both@example.com")],
        providers=[provider(1, "both@example.com"), provider(2, "pia@example.com")],
    )


def test_no_pot_is_awarded_without_the_flag(advisors, tmp_path):
    output = run_import(pot_file(tmp_path / "phase1.sqlite3"))

    assert PotTransaction.objects.count() == 0
    assert "No POT was awarded: run with --award-pot" in output


def test_award_pot_awards_the_profile_creation_pot_once_per_person_and_role(advisors, tmp_path):
    path = pot_file(tmp_path / "phase1.sqlite3")

    report = report_of(path, tmp_path, "--award-pot")

    seeker_of = dict(Seeker.objects.values_list("user__email", "id"))
    provider_of = dict(Provider.objects.values_list("user__email", "id"))
    assert sorted(pot_rows()) == sorted(
        [
            ("sam@example.com", "profile_creation", 50, "seeker", seeker_of["sam@example.com"]),
            ("both@example.com", "profile_creation", 50, "seeker", seeker_of["both@example.com"]),
            ("both@example.com", "profile_creation", 100, "provider", provider_of["both@example.com"]),
            ("pia@example.com", "profile_creation", 100, "provider", provider_of["pia@example.com"]),
        ]
    )
    assert report["counts"]["pot_awarded"] == 4
    assert balance_of(User.objects.get(email="both@example.com")) == 150
    assert "POT awards" in run_import(path, "--award-pot", "--dry-run")
    ledger = StringIO()
    call_command("verify_ledger", stdout=ledger)  # exits 1 if the ledger does not hold


def test_award_pot_again_awards_nothing_and_says_so(advisors, tmp_path):
    path = pot_file(tmp_path / "phase1.sqlite3")
    run_import(path, "--award-pot")
    rows = pot_rows()

    output = run_import(path, "--award-pot")
    report = report_of(path, tmp_path, "--award-pot")

    assert pot_rows() == rows
    assert "Nothing changed" in output
    assert printed_counts(output)["POT awards"] == 0
    assert (report["counts"]["pot_awarded"], report["changed"]) == (0, False)


def test_award_pot_on_a_later_run_awards_what_the_first_run_did_not(advisors, tmp_path):
    path = pot_file(tmp_path / "phase1.sqlite3")
    run_import(path)
    before = database_snapshot()

    dry = report_of(path, tmp_path, "--award-pot", "--dry-run")
    assert (dry["counts"]["pot_awarded"], PotTransaction.objects.count()) == (4, 0)
    report = report_of(path, tmp_path, "--award-pot")

    assert database_snapshot() == before  # the people are as the first run left them
    assert report["counts"]["pot_awarded"] == 4
    assert report["changed"] is True
    assert report_of(path, tmp_path, "--award-pot")["counts"]["pot_awarded"] == 0


def test_award_pot_never_awards_twice_what_a_sign_up_awarded(advisors, tmp_path):
    web = UserFactory(email="both@example.com")
    seeker_create(user=web, category=advisors, needs_description="Signed up on the web")
    assert pot_rows() == [("both@example.com", "profile_creation", 50, "seeker", web.seekers.get().pk)]
    path = pot_file(tmp_path / "phase1.sqlite3")

    report = report_of(path, tmp_path, "--award-pot")

    awards = [(email, amount) for email, _, amount, _, _ in pot_rows()]
    assert sorted(awards) == sorted(
        [("both@example.com", 50), ("both@example.com", 100), ("sam@example.com", 50), ("pia@example.com", 100)]
    )
    assert report["counts"]["pot_awarded"] == 3
    assert balance_of(web) == 150


def test_award_pot_follows_the_earning_rules(advisors, tmp_path):
    EarningRule.objects.filter(key="profile_creation_seeker").update(active=False)
    path = pot_file(tmp_path / "phase1.sqlite3")

    dry = report_of(path, tmp_path, "--award-pot", "--dry-run")
    report = report_of(path, tmp_path, "--award-pot")

    assert (dry["counts"]["pot_awarded"], report["counts"]["pot_awarded"]) == (2, 2)
    assert {amount for _, _, amount, _, _ in pot_rows()} == {100}


def test_a_dry_run_with_award_pot_awards_nothing(advisors, tmp_path):
    path = pot_file(tmp_path / "phase1.sqlite3")

    output = run_import(path, "--award-pot", "--dry-run")

    assert printed_counts(output)["POT awards"] == 4
    assert PotTransaction.objects.count() == Wallet.objects.count() == User.objects.count() == 0


def test_an_interrupted_award_run_is_completed_by_running_it_again(advisors, tmp_path, monkeypatch):
    path = pot_file(tmp_path / "phase1.sqlite3")
    monkeypatch.setattr(writer, "AWARD_BATCH", 2)
    batches = []
    real_pot_award_many = writer.pot_award_many

    def pot_award_many_failing_on_the_second_batch(*, awards):
        batches.append([award.cause for award in awards])
        if len(batches) == 2:
            raise RuntimeError("the connection dropped")
        return real_pot_award_many(awards=awards)

    monkeypatch.setattr(writer, "pot_award_many", pot_award_many_failing_on_the_second_batch)
    with pytest.raises(RuntimeError):
        run_import(path, "--award-pot")
    assert User.objects.count() == 3  # the people were committed before the awards
    assert PotTransaction.objects.count() == 2  # the first batch of two

    monkeypatch.setattr(writer, "pot_award_many", real_pot_award_many)
    report = report_of(path, tmp_path, "--award-pot")

    assert report["counts"]["pot_awarded"] == 2
    causes = list(PotTransaction.objects.values_list("idempotency_key", flat=True))
    assert len(causes) == len(set(causes)) == 4
