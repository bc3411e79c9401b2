"""No table of the project's own apps carries an index that another index already serves.

Every index is work on every insert (and, for a row whose indexed columns change, on every
update): an index whose columns begin another index's serves no lookup the longer one does not.
Django gives each foreign key an index of its own unless told otherwise (`db_index=False`).
"""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from conversations.models import Message
from currency.models import PotTransaction, Purchase, Wallet
from marketplace.models import Match
from notifications.models import Notification

pytestmark = pytest.mark.django_db

WRITTEN_ON_BUSY_REQUESTS = [Match, Message, Notification, PotTransaction, Purchase, Wallet]
# Every model of the project's own apps (Django's and the libraries' tables are theirs to keep).
OWN_MODELS = [
    model
    for config in apps.get_app_configs()
    if Path(config.path).parent == settings.BASE_DIR
    for model in config.get_models()
    if model._meta.managed
]


def _partial(model) -> set[str]:
    """Names of the model's partial indexes and constraints: they cover only some rows."""
    named = [*model._meta.indexes, *model._meta.constraints]
    return {item.name for item in named if getattr(item, "condition", None) is not None}


def test_the_busiest_tables_are_among_those_checked():
    assert set(WRITTEN_ON_BUSY_REQUESTS) <= set(OWN_MODELS)


@pytest.mark.parametrize("model", OWN_MODELS, ids=lambda model: model._meta.db_table)
def test_no_index_begins_another(model):
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    partial = _partial(model)
    indexes = {
        name: tuple(about["columns"])
        for name, about in found.items()
        if (about["index"] or about["unique"])
        and name not in partial
        # PostgreSQL's `_like` twin of a text column's index (pattern operators) serves LIKE 'x%',
        # which the plain index does not: it is not served by another.
        and not name.endswith("_like")
    }
    served_by_another = {
        name: other
        for name, columns in indexes.items()
        if not found[name]["unique"]  # a unique index also enforces something
        for other, longer in indexes.items()
        if other != name and longer[: len(columns)] == columns
    }
    assert served_by_another == {}


@pytest.mark.postgres
def test_a_decliners_matches_are_found_by_the_partial_index():
    """`match_declined_by` holds only declined matches, and still serves the lookup by the person who
    declined (a foreign key's check, an operator's question): `declined_by_id = x` implies it is set."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty test table: ask which index serves it
        cursor.execute("EXPLAIN SELECT id FROM matches WHERE declined_by_id = 1")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "match_declined_by" in plan, plan
