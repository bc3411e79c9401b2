"""Writes with their SQL written out (imatch.db): the rows and the instances the ORM's own writes leave.

`instances_insert` against `bulk_create` (an introduction's notifications), on SQLite and on
PostgreSQL (CI runs both).
"""

import pytest
from django.db import IntegrityError, transaction

from imatch.db import instances_insert
from marketplace.models import Match
from notifications.models import Notification, NotificationKind
from notifications.services import Notice, notify_many
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db

COLUMNS = [field.attname for field in Notification._meta.concrete_fields if not field.primary_key]


def _notifications(*people) -> list[Notification]:
    texts = ["You asked to meet Reyes Planning", "A new lead in Retirement Planners", "x" * 300]
    links = ["/conversations/1/", "/leads/", ""]
    return [
        Notification(user=person, kind=NotificationKind.INTRODUCTION, text=texts[n % 3], link=links[n % 3])
        for n, person in enumerate(people)
    ]


def _rows(notifications: list[Notification]) -> list[dict]:
    stored = Notification.objects.in_bulk([n.pk for n in notifications])
    return [{column: getattr(stored[n.pk], column) for column in COLUMNS} for n in notifications]


def _without_times(rows: list[dict]) -> list[dict]:
    return [{column: value for column, value in row.items() if column != "created_at"} for row in rows]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_instances_insert_writes_the_rows_bulk_create_writes(count):
    people = [UserFactory() for _ in range(count)]
    by_orm = Notification.objects.bulk_create(_notifications(*people))
    written = _notifications(*people)
    returned = instances_insert(written)

    assert returned == written  # the same instances, saved
    assert all(n.pk and not n._state.adding and n._state.db == "default" for n in written)
    assert len({n.pk for n in by_orm + written}) == 2 * count
    assert [n.pk for n in written] == sorted(n.pk for n in written)  # the pks in the rows' order
    assert _without_times(_rows(written)) == _without_times(_rows(by_orm))
    # Each row keeps the time its instance was made with (the field's default), as bulk_create writes it.
    assert [row["created_at"] for row in _rows(written)] == [n.created_at for n in written]


def test_notify_many_writes_what_bulk_create_wrote_for_an_introduction():
    seeker, provider = UserFactory(), UserFactory()
    notices = (
        Notice(user=seeker, kind=NotificationKind.INTRODUCTION, text="You asked to meet R", link="/conversations/9/"),
        Notice(user=provider, kind=NotificationKind.INTRODUCTION, text="y" * 400, link="/leads/"),
    )
    by_orm = Notification.objects.bulk_create(
        Notification(user=n.user, kind=n.kind, text=n.text[: Notification.TEXT_MAX], link=n.link) for n in notices
    )
    written = notify_many(*notices)
    assert [type(n) for n in written] == [Notification, Notification]
    assert _without_times(_rows(written)) == _without_times(_rows(by_orm))


def test_instances_insert_refuses_what_bulk_create_would_not_write_as_new():
    person = UserFactory()
    [saved] = instances_insert(_notifications(person))
    with pytest.raises(ValueError, match="pk is set"):
        instances_insert([saved])
    with pytest.raises(ValueError, match="one model"):
        instances_insert([*_notifications(person), Match()])
    unsaved = Notification(user=UserFactory.build(), kind=NotificationKind.INTRODUCTION, text="t")
    with pytest.raises(ValueError, match="bulk_create"):  # as bulk_create refuses an unsaved related object
        instances_insert([unsaved])
    assert instances_insert([]) == []


def test_a_failing_instances_insert_marks_the_transaction_for_rollback():
    person = UserFactory()
    bad = Notification(user=person, kind=NotificationKind.INTRODUCTION, text="t", link="not-a-path")
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            instances_insert([*_notifications(person), bad])  # the link check refuses the second row
        assert transaction.get_rollback()  # the block is rolled back on its way out
    assert not Notification.objects.filter(user=person).exists()  # neither row
