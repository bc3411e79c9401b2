"""Django's PostgreSQL backend: a connection that answered a moment ago is not asked `SELECT 1` again,
and the hand-written statements of the busiest writes are prepared once per session.

Prepared statements (`prepared_cursor`, used through `imatch.db.prepared_cursor`): PostgreSQL
plans every statement it is sent as text. For the joins of the busiest writes that planning costs
far more than running them: the locked read of a match (six tables, every introduction, acceptance
and decline) plans in ~0.45 ms and runs in ~0.04 ms; a message post's statement (four tables) ~0.3
against ~0.06 ms. This cursor has psycopg prepare each statement it runs once per database session
(the extended protocol: parsed once, and after a few runs PostgreSQL keeps its generic plan), then
send only the parameters, bound on the server: nothing is quoted into the SQL on either side. (The
`PREPARE`/`EXECUTE name(…)` this replaced sent every parameter as a literal that psycopg quoted and
PostgreSQL parsed again: a spend's 31 parameters cost ~0.12 ms of the worker's CPU and ~0.15 ms of
PostgreSQL's more, per spend.) It is Django's cursor otherwise: its queries counted and logged, its
errors Django's. Needs a session of its own per connection, as Django's persistent connections
are: a pooler in transaction mode (PgBouncer `pool_mode = transaction`) would hand the statement's
session to someone else. Django's own pool (`OPTIONS["pool"]`) keeps each session's statements
with it.

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

from django.db.backends.postgresql import base, operations
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.errors import DataError
from psycopg.pq import Format

FRESH_SECONDS = 1.0
ONLY_WHEN_ASKED = 2**31 - 1  # psycopg's prepare_threshold: runs before a query is prepared unasked


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        if isinstance(cursor, _PreparingCursor):  # bound on the server: shown as Django shows those
            try:
                return self.compose_sql(sql, params)
            except DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.used_in_request = False
        self.fresh_until = 0.0

    def get_connection_params(self):
        params = super().get_connection_params()
        if params.get("prepare_threshold") is None:
            # Django turns psycopg's prepared statements off; on for the cursor that asks for them
            # (`prepared_cursor`), and only for it: no other query is prepared for having run often.
            params["prepare_threshold"] = ONLY_WHEN_ASKED
        return params

    def prepared_cursor(self):
        """A cursor whose statements are prepared once per database session and take their
        parameters bound on the server (`_PreparingCursor`); otherwise `cursor()`'s: counted,
        logged, its errors Django's."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = _PreparingCursor(self.connection)
            # The time zone of the rows' datetimes, as `create_cursor` sets it.
            loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)
            if self.timezone != loader.timezone:
                register_tzloader(self.timezone, cursor)
            return self._prepare_cursor(cursor)

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


class _PreparingCursor(base.ServerBindingCursor):
    """Django's cursor with parameters bound on the server, each statement prepared (psycopg's
    `prepare=True`: on its first run in the session; kept per connection, the least used of more
    than `prepared_max` dropped)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)
