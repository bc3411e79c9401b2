"""The embedded SQLite default under concurrent API requests from several gunicorn workers.

A real server (4 workers) on a SQLite file, 20 clients released together: the racing spends
still come out exact (10 succeed, 10 refused), nobody sees "database is locked" or a 500,
and `verify_ledger` passes afterwards. (WAL journal, busy timeout and IMMEDIATE transactions
come from imatch/settings.py.)
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

WORKERS = 4
SETUP = """
from django.utils import timezone
from currency.services import pot_adjust
from marketplace.models import User
from marketplace.services.tokens import api_token_issue
import json
operator = User.objects.create_user("ops@example.com", "x", name="Ops", is_staff=True)
tokens = []
for n in range(4):  # verified: redeeming needs a verified email address
    person = User.objects.create_user(f"racer{n}@example.com", "x", name=f"Racer {n}", email_verified_at=timezone.now())
    tokens.append(api_token_issue(user=person))
    pot_adjust(user=person, operator=operator, amount=1000, reason="race funding")
print(json.dumps(tokens))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, token: str, body: dict, key: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own local server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture
def sqlite_server(tmp_path: Path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "imatch.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "race-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "API_THROTTLE_USER": "100000/minute",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=settings.BASE_DIR)
    subprocess.run([*manage, "createcachetable"], env=env, check=True, cwd=settings.BASE_DIR)
    setup = subprocess.run(
        [*manage, "shell", "-c", SETUP], env=env, check=True, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    tokens = json.loads(setup.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "imatch.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text())
        yield base, manage, env, tmp_path / "gunicorn.log", tokens
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def _race(count: int, action) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        barrier.wait()
        results[index] = action(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_racing_spends_through_the_api_on_sqlite_are_exact(sqlite_server):
    base, manage, env, server_log, tokens = sqlite_server
    token = tokens[0]
    results = _race(20, lambda i: _post(f"{base}/api/v1/pot/spend/", token, {"option": "extra_matches"}))
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 10, 400: 10}, results
    assert {body["code"] for status, body in results if status == 400} == {"insufficient_pot"}
    assert sorted(body["balance_after"] for status, body in results if status == 201) == list(range(0, 1000, 100))

    # Mixed load from every racer at once, with retried idempotency keys in the mix.
    def mixed(i: int):
        token = tokens[i % 4]
        if i % 3 == 0:
            return _post(
                f"{base}/api/v1/pot/redeem/", token, {"pot_amount": 500, "payment_method": "x"}, key=f"r{i % 2}"
            )
        return _post(f"{base}/api/v1/pot/spend/", token, {"option": "extra_matches"}, key=f"s{i % 5}")

    results = _race(40, mixed)
    assert all(status in (201, 400, 409) for status, _ in results), results
    assert Counter(status for status, _ in results)[201] >= 6  # racers 1-3 could afford several
    assert "database is locked" not in server_log.read_text()

    verify = subprocess.run(
        [*manage, "verify_ledger"], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.startswith("Ledger OK")
