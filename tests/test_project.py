"""Project-level promises: /health, production settings, the operators' runbook SQL."""

import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import DatabaseError, connection

from currency.models import Wallet
from currency.services import pot_award_reverse, pot_spend
from marketplace.services import engagements, matches, ratings
from marketplace.services.engagements import engagement_bonus_cause
from tests.marketplace.loop import make_provider, make_seeker

BASE_DIR = Path(settings.BASE_DIR)


def test_health_ok(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "inline"}


def test_health_503_when_the_database_is_unreachable(client, db):
    with mock.patch("imatch.health.connection.cursor", side_effect=DatabaseError("connection refused")):
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "connection refused", "cache": "ok", "broker": "inline"}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "imatch.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x7$k2!production-like-secret-key-with-enough-entropy-9f8e7d6c5b4a",
        DJANGO_ALLOWED_HOSTS="imatch.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    # An empty key in the environment wins over a local .env (written by `make run`).
    result = _manage("check", DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


# The operators' runbook: a contract kept beside the repository (<repo>/../shared/, where CI has it).
# A clone anywhere else (a newcomer's `git clone … && make test`) checks the copy in tests/, which
# `test_the_runbook_copy_is_the_shared_runbook` holds to the shared file wherever that is present.
SHARED_RUNBOOK = BASE_DIR.parent / "shared" / "runbook.sql"
RUNBOOK_COPY = BASE_DIR / "tests" / "runbook.sql"
RUNBOOK = SHARED_RUNBOOK if SHARED_RUNBOOK.is_file() else RUNBOOK_COPY


def test_the_runbook_copy_is_the_shared_runbook():
    if not SHARED_RUNBOOK.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"The operators' runbook {SHARED_RUNBOOK} is missing: on CI it is the contract itself.")
        pytest.skip(f"No shared runbook at {SHARED_RUNBOOK} (a clone outside the workplace): its copy is checked")
    assert RUNBOOK_COPY.read_text() == SHARED_RUNBOOK.read_text(), (
        f"{RUNBOOK_COPY} differs from {SHARED_RUNBOOK}: copy it again (cp {SHARED_RUNBOOK} {RUNBOOK_COPY})"
    )


def _runbook_statements(script: str) -> list[str]:
    """Split a SQL script into its statements, the way sqlite3 itself sees where one ends."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        # complete_statement knows about quotes and comments, so a ';' inside them does not split.
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if any(line.strip() and not line.strip().startswith("--") for line in pending.splitlines()):
        raise AssertionError(f"The runbook ends with an unfinished statement: {pending.strip()!r}")
    return statements


def _rows_of(results: dict[str, list[tuple]], fragment: str) -> list[tuple]:
    found = [rows for sql, rows in results.items() if fragment in sql]
    assert len(found) == 1, f"expected one runbook statement with {fragment!r}, found {len(found)}"
    return found[0]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the runbook is written in SQLite's dialect")
def test_runbook_sql_runs_unchanged_on_the_sqlite_schema(seeded_categories):
    if not RUNBOOK.is_file():
        pytest.fail(f"The operators' runbook {RUNBOOK} is missing: this test checks that contract, it cannot skip.")
    statements = _runbook_statements(RUNBOOK.read_text())
    assert len(statements) >= 10, statements

    # Data in every table the runbook reads, made through the services, all within the last 7 days.
    advisors = seeded_categories["financial_advisors"]
    seeker = make_seeker(advisors, specialties=["retirement-planning"])  # earns 50 (profile_creation)
    provider = make_provider(advisors, verified=True, specialties=["retirement-planning"])  # earns 100
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=seeker.user)
    matches.match_accept(match=match, user=provider.user)
    engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="3000.00")
    engagement = engagements.engagement_confirm(engagement=engagement, user=provider.user)
    operator = provider.license_verified_by  # the operator who verified the license
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    engagement = engagements.engagement_mark_paid(engagement=engagement, operator=operator)  # bonuses: 150 + 100
    ratings.rating_create(engagement=engagement, user=seeker.user, stars=5)  # rating_given 10, rating_received 100
    pot_spend(user=provider.user, option_key="profile_boost")  # spend 200
    pot_award_reverse(cause=engagement_bonus_cause(engagement.pk, "seeker"), reason="Runbook test")  # burn 100

    results: dict[str, list[tuple]] = {}
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            results[sql] = cursor.fetchall() if cursor.description else []

    tables = {name for (name,) in _rows_of(results, "FROM sqlite_master")}
    expected = {"users", "categories", "seekers", "providers", "matches", "engagements", "ratings", "pot_transactions"}
    assert expected <= tables

    # The launch UPDATE took effect, and Django reads back what SQLite wrote.
    [launched] = _rows_of(results, "SELECT * FROM categories WHERE name = 'career_coaches'")
    assert "career_coaches" in launched
    career_coaches = seeded_categories["career_coaches"]
    career_coaches.refresh_from_db()
    assert career_coaches.active and career_coaches.launched_at is not None

    assert _rows_of(results, "FROM users;") == [("Users: 3",)]  # seeker, provider, the verifying operator
    assert _rows_of(results, "FROM seekers;") == [("Seekers: 1",)]
    assert _rows_of(results, "FROM providers;") == [("Providers: 1",)]

    [(display_name, count, deal_value, commission)] = _rows_of(results, "FROM engagements e")
    assert (display_name, count) == ("Financial Advisors", 1)
    assert Decimal(str(deal_value)) == Decimal("3000.00")
    assert Decimal(str(commission)) == engagement.commission_usd == Decimal("600.00")

    assert _rows_of(results, "transaction_type = 'earn'") == [
        ("engagement_bonus", 2, 250),
        ("profile_creation", 2, 150),
        ("rating_received", 1, 100),
        ("rating_given", 1, 10),
    ]
    assert _rows_of(results, "transaction_type IN ('spend', 'burn')") == [
        ("profile_boost", 1, 200),
        ("award_reversal", 1, 100),
    ]

    # Each person's latest row carries the wallet's balance.
    latest: dict[int, int] = {}
    for user_id, _amount, balance_after in _rows_of(results, "SELECT user_id, amount, balance_after"):
        latest.setdefault(user_id, balance_after)
    assert latest == {seeker.user_id: 60, provider.user_id: 150}
    assert latest == dict(Wallet.objects.filter(user_id__in=latest).values_list("user_id", "balance"))

    people = _rows_of(results, "SELECT email, name, account_type FROM users")
    assert {(email, account_type) for email, _name, account_type in people} >= {
        (seeker.user.email, "seeker"),
        (provider.user.email, "provider"),
    }


# DESIGN.md, "Schema compatibility with the Phase 2 runbook": the columns operators' SQL may use,
# beyond the ones runbook.sql happens to name today.
PHASE_2_COLUMNS = {
    "users": {"id", "email", "name", "account_type"},
    "categories": {"id", "name", "display_name", "active", "launched_at"},
    "seekers": {"user_id", "category_id", "needs_description", "budget_min", "budget_max", "location"},
    "providers": {
        "user_id",
        "category_id",
        "business_name",
        "bio",
        "years_experience",
        "certifications",
        "pricing_min",
        "pricing_max",
        "location",
    },
    "engagements": {"id", "category_id", "deal_value_usd", "commission_usd", "created_at"},
    "pot_transactions": {"user_id", "transaction_type", "category", "amount", "balance_after", "created_at"},
    "matches": set(),
    "ratings": set(),
    # DESIGN also names `referrals` and `content`: they join this list when those tables exist.
}


@pytest.mark.django_db
def test_the_phase_2_tables_and_columns_exist():
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        assert set(PHASE_2_COLUMNS) <= tables
        for table, columns in PHASE_2_COLUMNS.items():
            present = {column.name for column in connection.introspection.get_table_description(cursor, table)}
            assert columns <= present, (table, columns - present)


def test_a_runbook_is_split_where_sqlite_ends_a_statement():
    script = "-- a note; with a semicolon\nSELECT 'a;b';\nUPDATE t\nSET x = 1;\n\n-- trailing note\n\n"
    assert _runbook_statements(script) == ["-- a note; with a semicolon\nSELECT 'a;b';", "UPDATE t\nSET x = 1;"]
    with pytest.raises(AssertionError, match="unfinished statement"):
        _runbook_statements("SELECT 1;\nSELECT 2\n")


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(tmp_path, django_db_blocker):
    """The embedded default copes with several gunicorn workers (see settings)."""
    from django.db import connections
    from django.db.backends.sqlite3.base import DatabaseWrapper

    options = settings.DATABASES["default"].get("OPTIONS", {})
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-only settings")
    assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] >= 5
    wrapper = DatabaseWrapper({**connections["default"].settings_dict, "NAME": str(tmp_path / "x.sqlite3")})
    with django_db_blocker.unblock(), wrapper.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    wrapper.close()
    assert sqlite3.sqlite_version_info >= (3, 35)


def test_gunicorn_config_is_valid_and_logs_errors_to_stderr_once_per_request():
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "--print-config", "imatch.wsgi"],
        cwd=BASE_DIR,  # gunicorn reads ./gunicorn.conf.py
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DJANGO_SETTINGS_MODULE": "imatch.settings",
            "DJANGO_DEBUG": "true",
            "WEB_CONCURRENCY": "4",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    printed = {}
    for line in result.stdout.splitlines():
        if " = " in line:
            name, value = line.split(" = ", 1)
            printed[name.strip()] = value.strip()
    assert printed["workers"] == "4"
    assert printed["accesslog"] == "None"  # Django logs each request as JSON with its request id
    assert printed["errorlog"] == "-"
    assert printed["timeout"] == "30"
    assert printed["bind"] == "['127.0.0.1:8401']"


@pytest.mark.parametrize(
    ("sqlite_status", "postgres_status", "passes"),
    [(0, 0, True), (1, 0, False), (0, 1, False), (2, 2, False)],
)
def test_ci_fails_when_either_test_suite_fails(sqlite_status, postgres_status, passes):
    """`.ci/run`'s verdict on its two suites (run side by side), under the script's own `set -euo pipefail`.

    A verdict written `[ sqlite ] && [ postgres ]` passed a failed SQLite suite: `set -e` ignores a
    failure anywhere in an `&&` list but its last command.
    """
    script = (BASE_DIR / ".ci" / "run").read_text()
    verdict = script[script.index('echo "== SQLite suite exited') :]
    statuses = f"sqlite_status={sqlite_status}\npostgres_status={postgres_status}\n"
    result = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{statuses}{verdict}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (result.returncode == 0) is passes, result.stdout + result.stderr
    assert ("== CI passed" in result.stdout) is passes


def test_property_tests_draw_the_same_examples_on_ci_and_new_ones_locally():
    from hypothesis import settings as hypothesis_settings

    # CI: a red run is the change's, not a counterexample today's dice found in old code.
    assert hypothesis_settings.default.derandomize is bool(os.environ.get("CI"))
    assert hypothesis_settings.default.print_blob  # a failure prints how to replay it
