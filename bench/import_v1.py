"""Benchmark: import a Phase 1 file of 50,000 customers and 5,000 providers; print the times.

    .venv/bin/python bench/import_v1.py [--customers N] [--providers N] [--database-url URL] [--award-pot]

Generates the legacy file (realistic rows: people in both tables, duplicates, and a few
percent of bad rows of every kind) in a temporary folder, migrates a scratch database
(a fresh SQLite file unless --database-url names a scratch database, which it FLUSHES),
then times `import_v1`: a dry run, the import and a second run (changes nothing); with
--award-pot also `import_v1 --award-pot` (awards everyone's profile-creation POT: minutes)
and once more (awards nothing). Settings are production's (DEBUG off: no query log).
"""

import argparse
import io
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITIES = [
    ("Austin", "TX"),
    ("Denver", "co"),
    ("Boston", "MA"),
    ("Seattle", "WA"),
    ("Miami", "Florida"),
    ("Chicago", "IL"),
    ("Portland", "OR"),
    ("Phoenix", "AZ"),
]
SPECIALTIES = [
    "Retirement Planning",
    "tax-planning",
    "estate planning",
    "Investments",
    "budgeting",
    "529 plans",
    "Crypto",
    "ESG",
]


def legacy_file_generate(path: Path, customers: int, providers: int, seed: int = 7) -> None:
    """A Phase 1 file with extra columns, people in both tables, duplicates and bad rows."""
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, name TEXT, needs_description TEXT,
            preferences TEXT, location_city TEXT, location_state TEXT, phone TEXT, created_at TEXT);
        CREATE TABLE providers (id INTEGER PRIMARY KEY, email TEXT, name TEXT, company TEXT, description TEXT,
            specialties TEXT, years_experience INTEGER, certifications TEXT, price_range_low REAL,
            price_range_high REAL, location_city TEXT, location_state TEXT, rating REAL, created_at TEXT);
        CREATE TABLE sessions (id INTEGER PRIMARY KEY, token TEXT);
        """
    )
    customer_rows = []
    for n in range(1, customers + 1):
        city, state = rng.choice(CITIES)
        low = rng.randrange(50, 400)
        preferences = json.dumps({"budget_min": low, "budget_max": low + rng.randrange(0, 500), "remote": True})
        email, name = f"customer{n}@example.com", f"Customer {n}"
        roll = rng.random()
        if roll < 0.01:
            email = rng.choice([None, "", "not-an-email"])
        elif roll < 0.02:
            preferences = rng.choice([None, "{budget_min: 100", "[1, 2]"])
        elif roll < 0.03:
            preferences = json.dumps({"budget_min": str(low + 100), "budget_max": str(low)})
        elif roll < 0.04:
            name = ""
        elif roll < 0.05:
            email = f"  Customer{n - 1}@Example.com "  # the same person again
        customer_rows.append(
            (n, email, name, "Planning for retirement and college.", preferences, city, state, "555-0100", "2023-01-01")
        )
    db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", customer_rows)
    provider_rows = []
    for n in range(1, providers + 1):
        city, state = rng.choice(CITIES)
        email = f"customer{n * 7}@example.com" if n % 10 == 0 else f"advisor{n}@example.com"  # 10% in both tables
        specialties = rng.sample(SPECIALTIES, 3)
        specialties = json.dumps(specialties) if n % 2 else ", ".join(specialties)
        low = float(rng.randrange(80, 300))
        high: float | None = low + rng.randrange(0, 200)
        years = rng.randrange(0, 40)
        roll = rng.random()
        if roll < 0.01:
            email = None
        elif roll < 0.02:
            low, high = high, low
        elif roll < 0.03:
            years = -3
        elif roll < 0.04:
            high = None
            low = None
        elif roll < 0.05:
            email = f"ADVISOR{n - 1}@example.com"
        provider_rows.append(
            (
                n,
                email,
                f"Advisor {n}",
                f"Advisor {n} Wealth" if n % 3 else "",
                "Fee-only planner.",
                specialties,
                years,
                "CFP",
                low,
                high,
                city,
                state,
                4.5,
                "2023-01-01",
            )
        )
    db.executemany("INSERT INTO providers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", provider_rows)
    db.commit()
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--providers", type=int, default=5_000)
    parser.add_argument("--database-url", help="A scratch database (flushed!); default: a fresh SQLite file.")
    parser.add_argument("--award-pot", action="store_true", help="Also time the POT awards (minutes).")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-import-v1-"))
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'imatch.sqlite3'}"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imatch.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from marketplace.models import Provider, Seeker, User

    legacy = workdir / "phase1.sqlite3"
    started = time.perf_counter()
    legacy_file_generate(legacy, args.customers, args.providers)
    print(f"generated {args.customers} customers + {args.providers} providers in {time.perf_counter() - started:.1f} s")

    call_command("migrate", verbosity=0)
    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)
        call_command("seed_pot", stdout=io.StringIO())  # flush emptied the earning rules too
    call_command("seed_categories", "categories", stdout=io.StringIO())
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")

    runs = [("dry run", {"dry_run": True}), ("import", {}), ("second run", {})]
    if args.award_pot:
        runs += [("award POT", {"award_pot": True}), ("award again", {"award_pot": True})]
    for label, options in runs:
        report = workdir / f"{label.replace(' ', '-')}.json"
        started = time.perf_counter()
        call_command("import_v1", str(legacy), report_json=str(report), stdout=io.StringIO(), **options)
        elapsed = time.perf_counter() - started
        counts = json.loads(report.read_text())["counts"]
        print(
            f"{label:<11} {elapsed:6.2f} s  users created {counts['users_created']}, "
            f"matched {counts['users_matched']}, seekers {counts['seekers_created']}, "
            f"providers {counts['providers_created']}, skipped {counts['rows_skipped']}, "
            f"repaired {counts['rows_repaired']}, merged {counts['rows_merged']}, POT awards {counts['pot_awarded']}"
        )
    print(f"in the database: {User.objects.count()} users, {Seeker.objects.count()} seekers, ", end="")
    print(f"{Provider.objects.count()} providers")


if __name__ == "__main__":
    main()
