"""Statements prepared once per database session (`imatch.db.prepared_cursor`, `imatch.postgresql`).

The busiest writes' joins (a match's locked read, a message post, a spend) run on a cursor that has
PostgreSQL prepare each statement once per session and binds its parameters on the server: same
rows, same parameters, counted and logged by Django like any query. SQLite runs the statement on
its usual cursor.
"""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from imatch.db import prepared_cursor
from marketplace.models import Match
from marketplace.services import matches
from tests.marketplace.loop import make_category, make_provider, make_seeker

SQL = "SELECT id, status FROM matches WHERE id = %s AND status <> %s"


@pytest.fixture
def match(transactional_db):  # committed: the tests close the connection (a new database session)
    category = make_category()
    seeker, provider = make_seeker(category), make_provider(category)
    return Match.objects.create(seeker=seeker, provider=provider, category=category, score=Decimal("0.8"), rank=1)


def _rows(match_id: int, status: str) -> list[tuple]:
    with prepared_cursor(connection) as cursor:
        cursor.execute(SQL, [match_id, status])
        return cursor.fetchall()


def _prepared_count(like: str = "%FROM matches WHERE id%") -> int:
    """How many statements this database session has prepared whose SQL is `LIKE` the pattern."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [like])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_other_databases_run_the_statement_on_their_usual_cursor():
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL prepares it")
    with prepared_cursor(connection) as cursor:
        cursor.execute("SELECT %s + %s", [1, 2])
        assert cursor.fetchone() == (3,)


@pytest.mark.postgres
def test_a_statement_is_prepared_once_per_session_and_answers_as_the_statement_does(match):
    connection.close()  # a new session
    assert _rows(match.pk, "declined") == [(match.pk, "suggested")]
    assert _prepared_count() == 1
    assert _rows(match.pk, "suggested") == []
    with CaptureQueriesContext(connection) as queries:
        assert _rows(match.pk, "declined") == [(match.pk, "suggested")]
    assert [query["sql"] for query in queries] == [SQL % (match.pk, "'declined'")]  # counted and logged
    assert _prepared_count() == 1


@pytest.mark.postgres
def test_a_prepared_statement_outlives_a_rollback_and_a_new_session_prepares_again(match):
    connection.close()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        _rows(match.pk, "declined")  # prepared inside a transaction that rolls back
        raise ZeroDivisionError
    assert _rows(match.pk, "declined") == [(match.pk, "suggested")]
    connection.close()  # the session, and its statements, are gone
    assert _rows(match.pk, "declined") == [(match.pk, "suggested")]  # prepared again on the new one
    assert _prepared_count() == 1


@pytest.mark.postgres
def test_its_errors_are_djangos(match):
    with pytest.raises(IntegrityError), prepared_cursor(connection) as cursor:
        cursor.execute("INSERT INTO matches (id) VALUES (%s)", [match.pk])


@pytest.mark.postgres
def test_the_rows_datetimes_are_in_the_connections_time_zone(match):
    with prepared_cursor(connection) as cursor:
        cursor.execute("SELECT created_at FROM matches WHERE id = %s", [match.pk])
        assert cursor.fetchone()[0] == Match.objects.get(pk=match.pk).created_at


@pytest.mark.postgres
def test_the_locked_read_of_a_match_is_prepared(match):
    connection.close()
    locked = matches._locked(match.pk, user=match.seeker.user)
    assert locked == match and locked.provider == match.provider and locked.category == match.category
    assert _prepared_count("%FOR UPDATE OF%") == 1
