"""Writes with their SQL written out (imatch.db): the rows and the instances the ORM's own writes leave.

`instances_insert` against `bulk_create` (an introduction's notifications), `instance_update`
against `save(update_fields=…)` (the introduced match), on SQLite and on PostgreSQL (CI runs both).
"""

from datetime import timedelta

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from imatch.db import instance_insert, instance_update, instances_insert
from marketplace.models import Match, MatchStatus
from marketplace.services import matches
from notifications.models import Notification, NotificationKind
from notifications.services import Notice, notify_many
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

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


def _suggested(name: str) -> Match:
    """A suggested match of its own category (one seeker, one provider)."""
    category = make_category(name=name, display_name=name.title())
    seeker = make_seeker(category)
    make_provider(category)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    return match


def _match_row(match_id: int) -> dict:
    return Match.objects.filter(pk=match_id).values().get()


def test_instance_update_writes_what_save_update_fields_writes():
    saved, updated = _suggested("planners"), _suggested("coaches")
    started = timezone.now()
    for match in (saved, updated):
        match.status = MatchStatus.INTRODUCED
        match.introduced_at = started - timedelta(minutes=1)
        match.decline_reason = "not in update_fields: stays unwritten"
    saved.save(update_fields=["status", "introduced_at", "updated_at"])
    instance_update(updated, ("status", "introduced_at", "updated_at"))

    moved = {"id", "seeker_id", "provider_id", "category_id", "updated_at", "created_at"}  # each match's own
    by_orm, written = _match_row(saved.pk), _match_row(updated.pk)
    assert {k: v for k, v in written.items() if k not in moved} == {k: v for k, v in by_orm.items() if k not in moved}
    assert written["status"] == MatchStatus.INTRODUCED and written["decline_reason"] == ""
    # auto_now: the update's time, on the row and on the instance alike
    assert written["updated_at"] == updated.updated_at >= started
    assert not updated._state.adding and updated._state.db == "default"


def test_instance_update_refuses_and_falls_back_as_save_would():
    match = _suggested("planners")
    with pytest.raises(ValueError, match="not all concrete fields"):
        instance_update(match, ("status", "no_such_field"))
    with pytest.raises(ValueError, match="not all concrete fields"):
        instance_update(match, ("id",))
    gone = _suggested("coaches")
    Match.objects.filter(pk=gone.pk).delete()
    with transaction.atomic():
        with pytest.raises(DatabaseError, match="did not affect any rows"):
            instance_update(gone, ("status",))
        assert transaction.get_rollback()  # as the save marks it

    heard = []

    def listener(sender, instance, update_fields, **kwargs):
        heard.append((instance.pk, sorted(update_fields)))

    pre_save.connect(listener, sender=Match)
    try:
        match.status = MatchStatus.INTRODUCED
        instance_update(match, ("status", "updated_at"))  # a receiver listens: save() itself, signals and all
    finally:
        pre_save.disconnect(listener, sender=Match)
    assert heard == [(match.pk, ["status", "updated_at"])]
    assert _match_row(match.pk)["status"] == MatchStatus.INTRODUCED


def test_instance_insert_leaves_a_model_receivers_listen_to_to_save():
    """`instance_insert` sends no signal: for a model that receivers listen to it is `save(force_insert=True)`
    itself, so they hear it. (The rows it writes: tests/api/test_write_paths.py, a spend's purchase.)"""
    heard = []

    def listener(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    [listened] = _notifications(UserFactory())
    post_save.connect(listener, sender=Notification)
    try:
        assert instance_insert(listened) is listened
    finally:
        post_save.disconnect(listener, sender=Notification)
    assert heard == [(listened.pk, True)] and listened.pk is not None
