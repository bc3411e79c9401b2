"""The bell's unread count is kept per person (`Scope.NOTIFICATIONS`) and every notification write forgets it.

The tests that change the count run with `no_verify`: production serves the kept count without
rebuilding it, so each fails if its service stops forgetting.
"""

import pytest
from django.db import transaction

from notifications.models import NotificationKind
from notifications.selectors import unread_count_kept
from notifications.services import (
    Notice,
    notification_mark_read,
    notifications_mark_all_read,
    notifications_mark_read_about,
    notify,
    notify_many,
)
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # forgets run at commit, as in a request


def _note(person, link="/wallet/"):
    return notify(user=person, kind=NotificationKind.POT_EARNED, text="You earned 10 POT.", link=link)


def test_a_kept_count_reads_no_row(no_verify, django_assert_num_queries):
    person = UserFactory()
    _note(person)
    assert unread_count_kept(user=person) == 1
    with django_assert_num_queries(0):
        assert unread_count_kept(user=person) == 1


def test_every_notification_write_shows_at_once(no_verify):
    person = UserFactory()
    first = _note(person)
    assert unread_count_kept(user=person) == 1
    _note(person, link="/thread/1/")
    assert unread_count_kept(user=person) == 2
    notification_mark_read(user=person, notification_id=first.pk)
    assert unread_count_kept(user=person) == 1
    _note(person)
    assert unread_count_kept(user=person) == 2
    notifications_mark_read_about(user=person, kind=NotificationKind.POT_EARNED, link="/thread/1/")
    assert unread_count_kept(user=person) == 1
    notifications_mark_all_read(user=person)
    assert unread_count_kept(user=person) == 0


def test_one_person_s_notification_leaves_another_s_count_kept(no_verify, django_assert_num_queries):
    person, other = UserFactory(), UserFactory()
    assert unread_count_kept(user=other) == 0
    _note(person)
    with django_assert_num_queries(0):
        assert unread_count_kept(user=other) == 0


def test_a_rolled_back_notification_is_not_counted(no_verify):
    person = UserFactory()
    assert unread_count_kept(user=person) == 0
    with pytest.raises(RuntimeError), transaction.atomic():
        _note(person)
        raise RuntimeError("rolled back")
    assert unread_count_kept(user=person) == 0


def test_notify_many_writes_each_person_s_notification_and_forgets_each_count(no_verify):
    person, other, bystander = UserFactory(), UserFactory(), UserFactory()
    for someone in (person, other, bystander):
        assert unread_count_kept(user=someone) == 0
    long_text = "x" * 400
    written = notify_many(
        Notice(user=person, kind=NotificationKind.INTRODUCTION, text="You asked to meet Reyes Planning", link="/c/1/"),
        Notice(user=other, kind=NotificationKind.INTRODUCTION, text=long_text, link="/leads/"),
    )
    assert [(n.user_id, n.kind, n.text, n.link) for n in written] == [
        (person.pk, NotificationKind.INTRODUCTION, "You asked to meet Reyes Planning", "/c/1/"),
        (other.pk, NotificationKind.INTRODUCTION, long_text[:300], "/leads/"),
    ]
    assert all(n.pk for n in written)
    assert [unread_count_kept(user=someone) for someone in (person, other, bystander)] == [1, 1, 0]
