"""Gunicorn settings for I MATCH (`gunicorn imatch.wsgi --config gunicorn.conf.py`).

Every value can be changed from the environment; command-line flags win over this file
(`make run` passes --bind and --workers).
"""

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
