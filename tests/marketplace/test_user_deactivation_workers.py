"""A deactivation takes effect in every worker at once, without a restart.

Each worker process keeps its own cached provider index (marketplace/candidates.py). One
process here holds a warm pool; another deactivates a provider's account; the first one's
very next match request must leave that provider out (and take them back once reactivated).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from marketplace.services import profiles
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

WORKER = [sys.executable, "-m", "tests.marketplace.matching_worker"]


class Worker:
    """A matching worker in its own process (tests/marketplace/matching_worker.py)."""

    def __init__(self, env: dict[str, str], log: Path):
        self.log = log
        self.process = subprocess.Popen(
            WORKER,
            env=env,
            cwd=settings.BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
        )

    def ask(self, **command) -> object:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise AssertionError(f"The worker died on {command}:\n{self.log.read_text()}")
        return json.loads(answer)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _env(database_url: str) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "imatch.test_settings", "DATABASE_URL": database_url}


def test_a_warm_worker_sees_a_deactivation_made_by_another_process_sqlite_file(tmp_path):
    """Both processes on one SQLite file (the test database in memory cannot be shared)."""
    env = _env(f"sqlite:///{tmp_path / 'workers.sqlite3'}")
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=settings.BASE_DIR)
    worker, operators = Worker(env, tmp_path / "worker.log"), Worker(env, tmp_path / "operators.log")
    try:
        ids = operators.ask(do="setup")
        leaving_user, staying = ids["provider_users"][0], ids["providers"][1]
        first, second = ids["seekers"]
        assert worker.ask(do="match", seeker=first) == sorted(ids["providers"])  # the worker's pool is warm now

        operators.ask(do="deactivate", user=leaving_user, operator=ids["operator"])
        assert worker.ask(do="match", seeker=second) == [staying]

        operators.ask(do="reactivate", user=leaving_user, operator=ids["operator"])
        third = operators.ask(do="seeker", category=ids["category"])
        assert worker.ask(do="match", seeker=third) == sorted(ids["providers"])
    finally:
        worker.close()
        operators.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_warm_worker_sees_a_deactivation_made_by_another_process_postgres(tmp_path):
    """The worker connects to this test's PostgreSQL database; this process is the operator."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    category = make_category(matches_per_request=2)
    leaving, staying = make_provider(category), make_provider(category)
    first, second = make_seeker(category), make_seeker(category)
    operator = UserFactory(is_staff=True, is_superuser=True)
    worker = Worker(_env(url), tmp_path / "worker.log")
    try:
        assert worker.ask(do="match", seeker=first.pk) == sorted([leaving.pk, staying.pk])

        profiles.user_deactivate(user=leaving.user, operator=operator, reason="Two-process test")
        assert worker.ask(do="match", seeker=second.pk) == [staying.pk]

        profiles.user_reactivate(user=leaving.user, operator=operator, reason="Two-process test")
        assert worker.ask(do="match", seeker=make_seeker(category).pk) == sorted([leaving.pk, staying.pk])
    finally:
        worker.close()
