"""Statements prepared once per database session (`imatch.db.prepared`, `imatch.postgresql`).

The busiest writes' joins (a match's locked read, a message post) are sent as `EXECUTE` of a
statement PostgreSQL parsed and planned once per session: same rows, same parameters, counted
and logged by Django like any query. SQLite runs the statement itself.
"""

from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from imatch.db import prepared
from imatch.postgresql.base import _numbered
from marketplace.models import Match
from marketplace.services import matches
from tests.marketplace.loop import make_category, make_provider, make_seeker

SQL = "SELECT id, status FROM matches WHERE id = %s AND status <> %s"


def test_numbered_parameters():
    assert _numbered("SELECT %s, %s") == ("SELECT $1, $2", 2)
    assert _numbered("SELECT 1 WHERE name LIKE 'a%%' AND id = %s") == ("SELECT 1 WHERE name LIKE 'a%' AND id = $1", 1)
    assert _numbered("SELECT 1") == ("SELECT 1", 0)


@pytest.fixture
def match(transactional_db):  # committed: the tests close the connection (a new database session)
    category = make_category()
    seeker, provider = make_seeker(category), make_provider(category)
    return Match.objects.create(seeker=seeker, provider=provider, category=category, score=Decimal("0.8"), rank=1)


def _rows(match_id: int, status: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(prepared(connection, SQL), [match_id, status])
        return cursor.fetchall()


@pytest.mark.django_db
def test_other_databases_run_the_statement_itself():
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL prepares it")
    assert prepared(connection, SQL) == SQL


@pytest.mark.postgres
def test_a_statement_is_prepared_once_per_session_and_answers_as_the_statement_does(match):
    connection.close()  # a new session
    assert _rows(match.pk, "declined") == [(match.pk, "suggested")]
    execute = prepared(connection, SQL)
    assert execute.startswith("EXECUTE imatch_") and execute.endswith("(%s, %s)")
    assert _rows(match.pk, "suggested") == []
    with CaptureQueriesContext(connection) as queries:
        assert _rows(match.pk, "declined") == [(match.pk, "suggested")]
    assert [query["sql"] for query in queries] == [execute.replace("%s", str(match.pk), 1).replace("%s", "'declined'")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'imatch%%'")
        assert cursor.fetchone() == (1,)


@pytest.mark.postgres
def test_a_prepared_statement_outlives_a_rollback_and_a_new_session_prepares_again(match):
    connection.close()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        _rows(match.pk, "declined")  # prepared inside a transaction that rolls back
        raise ZeroDivisionError
    assert _rows(match.pk, "declined") == [(match.pk, "suggested")]
    connection.close()  # the session, and its statements, are gone
    assert _rows(match.pk, "declined") == [(match.pk, "suggested")]  # prepared again on the new one


@pytest.mark.postgres
def test_the_locked_read_of_a_match_is_prepared(match):
    with CaptureQueriesContext(connection) as queries:
        locked = matches._locked(match.pk, user=match.seeker.user)
    assert locked == match and locked.provider == match.provider and locked.category == match.category
    assert queries[0]["sql"].startswith("EXECUTE imatch_")


@pytest.mark.postgres
def test_with_djangos_pool_the_statement_is_sent_as_it_is(db, monkeypatch):
    """A pooled session may hold statements this wrapper never prepared (or lack those it did)."""
    monkeypatch.setattr(type(connections["default"]), "pool", property(lambda self: object()))
    assert prepared(connection, SQL) == SQL
