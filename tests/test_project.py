"""Project-level promises: /health, production settings, the operators' runbook SQL."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import DatabaseError, connection

from tests.marketplace.factories import ProviderFactory, SeekerFactory

BASE_DIR = Path(settings.BASE_DIR)


def test_health_ok(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_503_when_the_database_is_unreachable(client, db):
    with mock.patch("imatch.health.connection.cursor", side_effect=DatabaseError("connection refused")):
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "connection refused"}


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


# Equivalents of ../shared/runbook.sql's queries on the tables this code owns.
RUNBOOK_QUERIES = [
    "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name",
    "UPDATE categories SET active = TRUE, launched_at = CURRENT_TIMESTAMP WHERE name = 'career_coaches'",
    "SELECT * FROM categories WHERE name = 'career_coaches'",
    "SELECT 'Users: ' || COUNT(*) FROM users",
    "SELECT 'Seekers: ' || COUNT(*) FROM seekers",
    "SELECT 'Providers: ' || COUNT(*) FROM providers",
    "SELECT email, name, account_type FROM users ORDER BY id LIMIT 5",
    "SELECT user_id, category_id, needs_description, budget_min, budget_max, location FROM seekers",
    "SELECT user_id, category_id, business_name, bio, years_experience, certifications,"
    " pricing_min, pricing_max, location FROM providers",
    "SELECT id, name, display_name, active, launched_at FROM categories",
    """SELECT c.display_name, COUNT(e.id) AS engagements, SUM(e.deal_value_usd) AS total_deal_value,
              SUM(e.commission_usd) AS total_commission
       FROM engagements e JOIN categories c ON e.category_id = c.id
       WHERE e.created_at > datetime('now', '-7 days') GROUP BY c.id""",
    """SELECT category, COUNT(*) AS transaction_count, SUM(amount) AS total_pot FROM pot_transactions
       WHERE transaction_type = 'earn' AND created_at > datetime('now', '-7 days')
       GROUP BY category ORDER BY total_pot DESC""",
    """SELECT category, COUNT(*) AS transaction_count, SUM(ABS(amount)) AS total_pot FROM pot_transactions
       WHERE transaction_type IN ('spend', 'burn') AND created_at > datetime('now', '-7 days')
       GROUP BY category ORDER BY total_pot DESC""",
    "SELECT user_id, amount, balance_after FROM pot_transactions ORDER BY id DESC LIMIT 5",
]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the runbook is written in SQLite's dialect")
def test_runbook_queries_run_unchanged_on_the_sqlite_schema(seeded_categories):
    from marketplace.services import profiles

    advisors = seeded_categories["financial_advisors"]
    SeekerFactory(category=advisors)
    provider = ProviderFactory(category=advisors)
    profiles.seeker_create(user=provider.user, category=advisors, needs_description="Tax help")  # earns POT
    with connection.cursor() as cursor:
        results = {}
        for sql in RUNBOOK_QUERIES:
            cursor.execute(sql)
            results[sql] = cursor.fetchall()
    assert results["SELECT 'Users: ' || COUNT(*) FROM users"] == [("Users: 2",)]
    assert results["SELECT 'Seekers: ' || COUNT(*) FROM seekers"] == [("Seekers: 2",)]
    earning = next(rows for sql, rows in results.items() if "transaction_type = 'earn'" in sql)
    assert earning == [("profile_creation", 1, 50)]
    assert results[RUNBOOK_QUERIES[-1]] == [(provider.user_id, 50, 50)]
    tables = {row[0] for row in results[RUNBOOK_QUERIES[0]]}
    expected = {"users", "categories", "seekers", "providers", "matches", "engagements", "ratings", "pot_transactions"}
    assert expected <= tables
    launched = results["SELECT * FROM categories WHERE name = 'career_coaches'"]
    assert launched and launched[0][4] == 1  # active
    seeded_categories["career_coaches"].refresh_from_db()
    assert seeded_categories["career_coaches"].active
    assert seeded_categories["career_coaches"].launched_at is not None  # Django reads SQLite's timestamp


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


def test_gunicorn_config_is_valid_and_logs_to_stdout():
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
    assert printed["accesslog"] == "-"
    assert printed["timeout"] == "30"
    assert printed["bind"] == "['127.0.0.1:8401']"
