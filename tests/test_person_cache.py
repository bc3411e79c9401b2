"""Answers kept per person: served while their scopes stand, rebuilt once a service forgets them."""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from currency.services import pot_adjust
from imatch.person_cache import (
    Scope,
    StaleAnswer,
    person_answer,
    person_answer_keys,
    person_answers_read_ahead,
    person_forget,
    person_read_ahead,
)


class Counter:
    """A build that counts its calls and answers what `value` holds."""

    def __init__(self, value):
        self.value = value
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.value


def answer(build, *, user_id=1, name="balance"):
    return person_answer(user_id=user_id, scopes=[Scope.LEDGER], name=name, build=build)


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db
def test_an_answer_is_built_once_and_served_until_its_scope_is_forgotten():
    build = Counter(10)
    assert answer(build) == 10
    build.value = 11  # changed behind the cache's back: still the kept answer
    assert answer(build) == 10
    assert build.calls == 1

    person_forget([1], Scope.LEDGER)

    assert answer(build) == 11
    assert build.calls == 2


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db
def test_forgetting_one_person_keeps_the_others_answers():
    first, second = Counter("one"), Counter("two")
    answer(first, user_id=1)
    answer(second, user_id=2)

    person_forget([2], Scope.LEDGER)
    answer(first, user_id=1)
    answer(second, user_id=2)

    assert (first.calls, second.calls) == (1, 2)


@override_settings(PERSON_CACHE_VERIFY=False)
def test_each_name_is_its_own_answer():
    assert answer(Counter("page 1"), name=("transactions", 1)) == "page 1"
    assert answer(Counter("page 2"), name=("transactions", 2)) == "page 2"


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db(transaction=True)
def test_an_answer_rebuilt_before_the_commit_is_not_served_after_it():
    """A reader that rebuilt from the old rows while the change was uncommitted keeps nothing that counts."""
    build = Counter("old")
    with transaction.atomic():
        person_forget([1], Scope.LEDGER)
        answer(build)  # another request, reading before the commit: the old rows
        build.value = "new"  # the rows the commit makes visible
    assert answer(build) == "new"


def test_verify_mode_catches_a_write_that_did_not_forget():
    build = Counter(10)
    answer(build)
    build.value = 11
    with pytest.raises(StaleAnswer):
        answer(build)


@override_settings(PERSON_CACHE_VERIFY=False)
def test_every_ledger_posting_forgets_the_persons_ledger_answers(user, operator):
    build = Counter("before")
    answer(build, user_id=user.pk)
    pot_adjust(user=user, operator=operator, amount=50, reason="correction")
    answer(build, user_id=user.pk)
    assert build.calls == 2


class CacheDeletes:
    """Counts the forgets' deletes from the shared cache (`imatch.redis_held.delete_many`: each is one round trip)."""

    def __init__(self, monkeypatch):
        from imatch import redis_held

        self.calls = 0
        original = redis_held.delete_many

        def counted(keys):
            self.calls += 1
            return original(keys)

        monkeypatch.setattr(redis_held, "delete_many", counted)


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db(transaction=True)
def test_a_change_nothing_reads_before_its_commit_drops_the_tokens_once(monkeypatch):
    build = Counter("old")
    answer(build)
    deletes = CacheDeletes(monkeypatch)
    with transaction.atomic():
        person_forget([1], Scope.LEDGER)
        assert deletes.calls == 0  # not yet: nothing in this transaction read the answer
        build.value = "new"
    assert deletes.calls == 1  # at the commit
    assert answer(build) == "new"


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db(transaction=True)
def test_a_transaction_reads_its_own_change_before_the_commit(monkeypatch):
    build = Counter("old")
    answer(build)
    deletes = CacheDeletes(monkeypatch)
    with transaction.atomic():
        person_forget([1], Scope.LEDGER)
        build.value = "new"
        assert answer(build) == "new"  # the tokens were dropped before this read
        assert answer(build) == "new"  # kept again under a new token: no second drop
        assert deletes.calls == 1
    assert deletes.calls == 2  # and again at the commit (another reader may have kept the old rows meanwhile)
    assert answer(build) == "new"


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db(transaction=True)
def test_a_change_rolled_back_forgets_nothing(monkeypatch):
    build = Counter("old")
    answer(build)
    deletes = CacheDeletes(monkeypatch)
    with transaction.atomic():
        try:
            with transaction.atomic():
                person_forget([1], Scope.LEDGER)
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
        assert answer(build) == "old"
    assert deletes.calls == 0
    assert build.calls == 1


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db(transaction=True)
def test_the_forgets_of_one_transaction_are_dropped_in_one_round_trip(monkeypatch):
    ledger, bell = Counter("old ledger"), Counter("old bell")
    answer(ledger, user_id=1)
    answer(ledger, user_id=2)
    person_answer(user_id=2, scopes=[Scope.NOTIFICATIONS], name="bell", build=bell)
    deletes = CacheDeletes(monkeypatch)
    with transaction.atomic():
        person_forget([1], Scope.LEDGER)
        person_forget([2], Scope.LEDGER, Scope.NOTIFICATIONS)
        person_forget([1], Scope.LEDGER)  # again: nothing new to drop
        ledger.value, bell.value = "new ledger", "new bell"
        assert deletes.calls == 0
    assert deletes.calls == 1  # one DEL of the three tokens at the commit
    assert answer(ledger, user_id=1) == answer(ledger, user_id=2) == "new ledger"
    assert person_answer(user_id=2, scopes=[Scope.NOTIFICATIONS], name="bell", build=bell) == "new bell"


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoints_forget_does_not_join_the_transactions(monkeypatch):
    first, second = Counter("old"), Counter("old")
    answer(first, user_id=1)
    answer(second, user_id=2)
    deletes = CacheDeletes(monkeypatch)
    with transaction.atomic():
        person_forget([1], Scope.LEDGER)
        try:
            with transaction.atomic():
                person_forget([2], Scope.LEDGER)
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
        first.value = second.value = "new"
    assert deletes.calls == 1
    assert answer(first, user_id=1) == "new"
    assert answer(second, user_id=2) == "old"  # the rolled-back change forgot nothing


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db(transaction=True)
def test_a_forget_after_a_read_of_this_transactions_change_is_read_too(monkeypatch):
    first, second = Counter("old"), Counter("old")
    answer(first, user_id=1)
    answer(second, user_id=2)
    with transaction.atomic():
        person_forget([1], Scope.LEDGER)
        first.value = "new"
        assert answer(first, user_id=1) == "new"  # dropped early for this read
        person_forget([2], Scope.LEDGER)
        second.value = "new"
        assert answer(second, user_id=2) == "new"  # not joined to the forget dropped already
    assert answer(first, user_id=1) == answer(second, user_id=2) == "new"


# --- Reading ahead (the API throttle's round trip) ------------------------------------


def _read_ahead(user_id=1, name="balance"):
    keys = person_answer_keys(user_id=user_id, scopes=[Scope.LEDGER], name=name)
    person_read_ahead(keys, cache.get_many(keys))


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db
def test_an_answer_read_ahead_is_served_without_reading_the_cache_once(monkeypatch):
    build = Counter(10)
    answer(build)
    _read_ahead()
    reads = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: reads.append(keys) or get_many(keys))
    assert answer(build) == 10
    assert reads == []
    assert answer(build) == 10  # once: a second read of the same answer reads the cache
    assert len(reads) == 1 and build.calls == 1


def _both_read_ahead():
    """The two answers of a page (`balance` and `history`, under the one ledger scope) read ahead together."""
    person_answers_read_ahead(
        person_answer_keys(user_id=1, scopes=[Scope.LEDGER], name="balance"),
        person_answer_keys(user_id=1, scopes=[Scope.LEDGER], name="history"),
    )


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db
def test_two_answers_read_ahead_together_read_the_cache_once(monkeypatch):
    balance, history = Counter(10), Counter(["row"])
    answer(balance)
    answer(history, name="history")
    reads = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: reads.append(keys) or get_many(keys))
    _both_read_ahead()
    assert answer(balance) == 10 and answer(history, name="history") == ["row"]  # the scope's token serves both
    assert len(reads) == 1 and len(reads[0]) == 3  # the token once, the two answers
    assert answer(history, name="history") == ["row"] and len(reads) == 2  # each answer once
    assert balance.calls == history.calls == 1


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db(transaction=True)
def test_tokens_dropped_before_a_read_in_the_transaction_drop_what_was_read_ahead():
    balance, history = Counter("old"), Counter("old")
    answer(balance)
    answer(history, name="history")
    with transaction.atomic():
        person_forget([1], Scope.LEDGER)
        balance.value = history.value = "new"
        _both_read_ahead()  # the tokens the commit will drop, still in the cache
        assert answer(balance) == "new"  # dropped before this read
        assert answer(history, name="history") == "new"  # not the old token read ahead


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db
def test_a_forget_drops_what_was_read_ahead():
    build = Counter(10)
    answer(build)
    _read_ahead()
    build.value = 11
    person_forget([1], Scope.LEDGER)
    assert answer(build) == 11
    assert build.calls == 2


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db
def test_a_variant_is_checked_with_the_scopes_and_keeps_the_keys():
    build = Counter("v1")
    assert person_answer(user_id=1, scopes=[Scope.MATCHES], name="list", variant="catalogue-1", build=build) == "v1"
    build.value = "v2"
    assert person_answer(user_id=1, scopes=[Scope.MATCHES], name="list", variant="catalogue-1", build=build) == "v1"
    assert person_answer(user_id=1, scopes=[Scope.MATCHES], name="list", variant="catalogue-2", build=build) == "v2"
    assert build.calls == 2


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db
def test_an_answer_true_until_a_moment_is_built_again_from_then_on():
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    start = timezone.now()
    build = Counter(("text", start + timedelta(hours=1)))

    def kept_until(moment):
        with mock.patch("django.utils.timezone.now", return_value=moment):
            return person_answer(
                user_id=1, scopes=[Scope.LEDGER], name="timed", build=build, fresh_until=lambda value: value[1]
            )

    kept_until(start)
    kept_until(start + timedelta(minutes=59))
    assert build.calls == 1
    kept_until(start + timedelta(hours=1))  # its moment: no longer true
    assert build.calls == 2


@override_settings(PERSON_CACHE_VERIFY=False)
@pytest.mark.django_db
def test_a_variant_given_as_a_function_is_asked_at_each_read():
    version = {"now": "v1"}
    build = Counter(1)
    for _ in range(2):
        person_answer(user_id=1, scopes=[Scope.LEDGER], name="varied", build=build, variant=lambda: version["now"])
    assert build.calls == 1
    version["now"] = "v2"  # e.g. an operator changed the catalogue
    person_answer(user_id=1, scopes=[Scope.LEDGER], name="varied", build=build, variant=lambda: version["now"])
    assert build.calls == 2


@pytest.mark.django_db
def test_the_end_of_a_test_asks_again_for_what_it_kept():
    from imatch.person_cache import person_answers_verify

    build = Counter(1)
    answer(build)
    build.value = 2  # a write that forgot to forget
    with pytest.raises(StaleAnswer):
        person_answers_verify()
    build.value = 1
    person_answers_verify()  # nothing left to ask for: the list was emptied
