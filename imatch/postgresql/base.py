"""Django's PostgreSQL backend; a connection that answered a moment ago is not asked `SELECT 1` again.

With `CONN_HEALTH_CHECKS` Django checks a kept connection at the start of every request that
uses the database (one more round trip: ~20 % of the balance's CPU time under load, system
time in the socket calls). A connection that served the previous request without an error
less than `FRESH_SECONDS` ago is taken as alive; otherwise the check runs as Django's does.
What it protects against (a connection the server closed while the worker was idle: a database
restart, an idle timeout in a proxy) cannot have happened unnoticed within that second except by
a restart at that very moment, which fails the requests then in flight anyway. A request that
raised a database error makes the next one check again (Django also checks at its end).
"""

import time

from django.db.backends.postgresql import base

FRESH_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.used_in_request = False
        self.fresh_until = 0.0

    def close_if_health_check_failed(self) -> None:
        self.used_in_request = True
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and time.monotonic() < self.fresh_until
        ):
            self.health_check_done = True  # it answered without an error a moment ago
            return
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self) -> None:
        """Django's (at the start and the end of each request); notes when the connection last served cleanly."""
        served_cleanly = self.used_in_request and self.connection is not None and not self.errors_occurred
        failed = self.errors_occurred
        self.used_in_request = False
        super().close_if_unusable_or_obsolete()
        if self.connection is None or failed:
            self.fresh_until = 0.0
        elif served_cleanly:
            self.fresh_until = time.monotonic() + FRESH_SECONDS
