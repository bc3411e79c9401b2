"""Django's PostgreSQL backend: a connection that answered a moment ago is not asked `SELECT 1` again,
and the hand-written statements of the busiest writes are prepared once per session.

Prepared statements (`prepared_sql`, used through `imatch.db.prepared`): PostgreSQL plans every
statement it is sent as text. For the joins of the busiest writes that planning costs far more
than running them: the locked read of a match (six tables, every introduction, acceptance and
decline) plans in ~0.45 ms and runs in ~0.04 ms; a message post's statement (four tables) ~0.3
against ~0.06 ms. A statement prepared once per database session (`PREPARE`, not undone by a
rollback) is parsed once, and after a few runs PostgreSQL keeps its generic plan: the request
sends `EXECUTE name(…)` with the same parameters, through Django's cursor as before (counted,
logged, its errors Django's). Needs a session of its own per connection, as Django's persistent
connections are: a pooler in transaction mode (PgBouncer `pool_mode = transaction`) would hand
the statement's session to someone else, and with Django's own pool (`OPTIONS["pool"]`) the
statements are sent as they are.

With `CONN_HEALTH_CHECKS` Django checks a kept connection at the start of every request that
uses the database (one more round trip: ~20 % of the balance's CPU time under load, system
time in the socket calls). A connection that served the previous request without an error
less than `FRESH_SECONDS` ago is taken as alive; otherwise the check runs as Django's does.
What it protects against (a connection the server closed while the worker was idle: a database
restart, an idle timeout in a proxy) cannot have happened unnoticed within that second except by
a restart at that very moment, which fails the requests then in flight anyway. A request that
raised a database error makes the next one check again (Django also checks at its end).
"""

import re
import time

from django.db.backends.postgresql import base

FRESH_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.used_in_request = False
        self.fresh_until = 0.0
        self.prepared: dict[str, str] = {}  # SQL -> its EXECUTE on the current session

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        self.prepared = {}  # a new session has no prepared statement
        return connection

    def prepared_sql(self, sql: str) -> str:
        """What to execute for `sql` (with `%s` parameters): the EXECUTE of its prepared statement,
        prepared on this session the first time. Takes the same parameters."""
        if self.pool:  # Django's pool hands out sessions whose statements this wrapper does not know
            return sql
        execute = self.prepared.get(sql)
        if execute is None:
            name = f"imatch_{len(self.prepared) + 1}"
            numbered, count = _numbered(sql)
            self.ensure_connection()
            with self.wrap_database_errors:
                # On the driver's connection: setting the session up, not a query of the request's.
                self.connection.execute(f"PREPARE {name} AS {numbered}")
            execute = self.prepared[sql] = (
                f"EXECUTE {name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"
            )
        return execute

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


_PLACEHOLDER = re.compile(r"%[s%]")


def _numbered(sql: str) -> tuple[str, int]:
    """`sql` with PostgreSQL's numbered parameters ($1, $2, …) for the driver's `%s` (and `%%` as `%`)."""
    count = 0

    def number(found: re.Match) -> str:
        nonlocal count
        if found.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql), count
