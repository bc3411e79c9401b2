"""A real Celery worker against the real Redis broker: a queued email is sent by the worker.

Uses CELERY_TEST_BROKER_URL (default redis://127.0.0.1:6379/7, a database of its own) and a
queue named for this run only; skipped with the reason when Redis is unreachable (CI has it).
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from celery import Celery
from django.conf import settings

from tests.conftest import BROKER_URL

# Bounds, not expectations: a worker is ready in a few seconds and sends at once, but CI
# machines and shared laptops are sometimes slow to start a Python process.
START_SECONDS = 30
SEND_SECONDS = 15


def test_a_worker_sends_a_queued_email_under_the_request_s_id(broker_redis, tmp_path):
    queue = f"imatch-test-{uuid.uuid4().hex}"
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "CELERY_"))}
    env |= {
        "DJANGO_SETTINGS_MODULE": "imatch.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "EMAIL_URL": f"filemail:///{outbox}",  # django-environ drops the first / of the path
        "CELERY_BROKER_URL": BROKER_URL,
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "imatch", "worker", "--pool=solo", "--queues", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    sender = Celery(broker=BROKER_URL, set_as_current=False)  # the test process keeps its own (inline) app
    try:
        # On Redis a message sent before the worker bound its queue would be dropped: wait for it.
        deadline = time.monotonic() + START_SECONDS
        while "ready." not in Path(log.name).read_text() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        assert "ready." in Path(log.name).read_text(), f"the worker did not start within {START_SECONDS}s"
        sender.send_task(
            "imatch.send_email",
            kwargs={"subject": "Worker check", "body": "Sent by a worker.\n", "to": ["dana@example.com"],
                    "about": "worker check"},
            queue=queue,
            headers={"request_id": "req-from-the-web"},
        )  # fmt: skip
        deadline = time.monotonic() + SEND_SECONDS
        while not list(outbox.iterdir()) and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        sent = [path.read_text() for path in outbox.iterdir()]
        output = Path(log.name).read_text()
        assert worker.poll() is None, f"the worker stopped:\n{output}"
        assert len(sent) == 1, f"no email within {SEND_SECONDS}s; the worker said:\n{output}"
        assert "Subject: Worker check" in sent[0] and "Sent by a worker." in sent[0]
        assert "dana@example.com" in sent[0]
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        sender.close()
        broker_redis.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    output = Path(log.name).read_text()
    # The worker logs in JSON like the web tier, under the id of the request that queued the task.
    assert '"message": "Sent the worker check email", "request_id": "req-from-the-web"' in output, output
