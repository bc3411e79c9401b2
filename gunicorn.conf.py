"""Gunicorn settings for I MATCH (`gunicorn imatch.wsgi --config gunicorn.conf.py`).

Every value can be changed from the environment; command-line flags win over this file
(`make run` passes --bind and --workers).
"""

import gc
import multiprocessing
import os

# Behind nginx on the same host: listen on the loopback only; the proxy terminates HTTPS.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8401")

# Sync workers: 2 per CPU + 1, the usual rule for I/O-bound Django views. Each worker keeps
# its own matching index (refreshed from changed rows), so do not recycle workers needlessly.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))

# A request taking longer than this is killed and logged; a batch job belongs in a command.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30  # time for in-flight requests on restart (SIGHUP) or stop (SIGTERM)
keepalive = 5  # seconds; nginx keeps connections to the upstream open

# Logs to stdout/stderr: journald (systemd) or the container runtime collects them. Django
# already logs one JSON line per request, with its request id (imatch/request_id.py), so
# gunicorn's own access log is off unless asked for (GUNICORN_ACCESS_LOG=- writes it to stdout).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Trust X-Forwarded-* only from the local proxy (Django reads X-Forwarded-Proto itself,
# see SECURE_PROXY_SSL_HEADER in imatch/settings.py).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


# Matching: the master loads the app and builds every active category's matching index
# before it forks the workers (`marketplace.candidates.warm_pools`), so the first match
# request of each worker finds it warm (at 100,000 providers a build takes seconds) and
# the workers share its memory. The API schema is built there too (`imatch.api_root.schema_warm`),
# so no worker's first Swagger UI or ReDoc view waits for it. GUNICORN_PRELOAD=0 turns both
# off (each worker then builds them on its first request for them).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"


def when_ready(server):
    """In the master, after the app is loaded and before the workers are forked."""
    if not preload_app:
        return
    from django.db import connections

    from imatch.api_root import schema_warm
    from marketplace.candidates import warm_pools

    built = warm_pools()
    schema_warm()
    connections.close_all()  # a forked worker must not share the master's database connection
    # Move everything loaded so far (Django, the indexes) out of the collector's reach: a
    # worker's garbage collections then never write to those pages, which stay shared.
    gc.freeze()
    server.log.info(
        "Matching indexes built: %s; API schema built",
        ", ".join(f"{name} {count}" for name, count in built.items()) or "none",
    )
