"""Posting mechanics that keep the ledger fast: rules kept per process, keys claimed by
ON CONFLICT (no savepoint), and many awards in one posting (`pot_award_many`)."""

import pytest
from django.db import connection
from django.urls import reverse

from currency import selectors
from currency.models import EarningRule, PotTransaction, SpendOption
from currency.services import AwardRequest, pot_award, pot_award_many, pot_spend
from tests.currency.factories import balance_of, pot_fund, rows_of
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules_kept(settings):
    """Production's per-process copy of the rules (the test settings read them every time)."""
    settings.POT_RULES_CACHE_SECONDS = 30
    selectors.pot_rules_forget()
    yield
    selectors.pot_rules_forget()


def test_an_award_is_three_statements_once_the_rules_are_read(user, rules_kept, django_assert_num_queries):
    pot_award(user=user, rule_key="rating_given", cause="warm-up")
    # No rule lookup, no experiment lookup (no experiment varies the rule). PostgreSQL: the award and
    # its notification as one statement, in a savepoint as the test runs in a transaction (a
    # request's award is the statement alone). SQLite: the service's savepoint, lock, insert, wallet
    # update, the "POT earned" notification, release.
    one_statement = connection.vendor == "postgresql"
    with django_assert_num_queries(3 if one_statement else 6):
        assert pot_award(user=user, rule_key="rating_given", cause="second").amount == 10
    # A cause already awarded: the insert claims nothing, the wallet is not updated (PostgreSQL: the
    # same statement; SQLite: savepoint, lock, insert, release).
    with django_assert_num_queries(3 if one_statement else 4):
        assert pot_award(user=user, rule_key="rating_given", cause="second") is None
    assert balance_of(user) == 20


def test_a_spend_reads_no_option_once_the_rules_are_read(user, rules_kept, django_assert_num_queries):
    pot_fund(user, 500)
    pot_spend(user=user, option_key="extra_matches", idempotency_key="first")
    # PostgreSQL: savepoint, the spend as one statement (wallet, row and purchase), release (inside the
    # test's transaction; a request's spend is the statement alone). SQLite: savepoint, lock, insert,
    # wallet update, purchase, release.
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 6):
        pot_spend(user=user, option_key="extra_matches", idempotency_key="second")
    assert balance_of(user) == 300


def test_a_rule_changed_in_the_admin_is_used_at_once_by_that_process(admin_client, user, rules_kept):
    assert pot_award(user=user, rule_key="rating_given", cause="before").amount == 10
    rule = EarningRule.objects.get(key="rating_given")
    fields = {"name": rule.name, "description": "", "reason": rule.reason, "audience": rule.audience}
    response = admin_client.post(
        reverse("admin:currency_earningrule_change", args=[rule.pk]),
        {**fields, "amount": "15", "percent_of_deal_value": "", "active": "on"},
    )
    assert response.status_code == 302
    assert pot_award(user=user, rule_key="rating_given", cause="after").amount == 15


def test_a_spend_option_switched_off_in_the_admin_is_refused_at_once(admin_client, user, rules_kept):
    pot_fund(user, 500)
    pot_spend(user=user, option_key="extra_matches", idempotency_key="before")
    option = SpendOption.objects.get(key="extra_matches")
    fields = {"name": option.name, "description": option.description, "cost": option.cost, "audience": option.audience}
    response = admin_client.post(
        reverse("admin:currency_spendoption_change", args=[option.pk]),
        {**fields, "duration_days": option.duration_days or "", "quantity": option.quantity or ""},
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    with pytest.raises(Exception, match="no spend option"):
        pot_spend(user=user, option_key="extra_matches", idempotency_key="after")
    assert balance_of(user) == 400


def test_other_processes_see_an_edit_when_their_copy_expires(user, rules_kept, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    assert pot_award(user=user, rule_key="rating_given", cause="one").amount == 10
    EarningRule.objects.filter(key="rating_given").update(amount=40)  # another process's admin edit
    assert pot_award(user=user, rule_key="rating_given", cause="two").amount == 10
    clock[0] += 30
    assert pot_award(user=user, rule_key="rating_given", cause="three").amount == 40


def test_award_many_posts_each_cause_once_and_skips_those_already_awarded(django_assert_max_num_queries):
    people = UserFactory.create_batch(30)
    pot_award(user=people[0], rule_key="rating_given", cause="batch:0")
    awards = [
        AwardRequest(user_id=person.pk, rule_key="rating_given", cause=f"batch:{n}") for n, person in enumerate(people)
    ]
    awards.append(AwardRequest(user_id=people[1].pk, rule_key="rating_given", cause="batch:1"))  # twice in the batch
    awards.append(AwardRequest(user_id=people[2].pk, rule_key="profile_creation_seeker", cause="batch:seeker:2"))
    # One lock statement and one wallet-creation insert for all, then an INSERT per award and
    # an UPDATE per wallet: the count grows with the awards, never with a lookup per award.
    with django_assert_max_num_queries(2 + 4 + len(awards) + len(people) + 2):
        rows = pot_award_many(awards=awards)
    assert rows[0] is None and rows[-2] is None  # awarded before; the repeated cause
    assert all(row is not None for row in rows[1:-2]) and rows[-1].amount > 0
    assert [balance_of(person) for person in people[:3]] == [10, 10, 10 + rows[-1].amount]
    assert len(rows_of(people[1])) == 1
    assert PotTransaction.objects.filter(idempotency_key__startswith="award:batch:").count() == 31


def test_award_many_of_an_inactive_rule_awards_nothing(user):
    EarningRule.objects.filter(key="rating_given").update(active=False)
    assert pot_award_many(awards=[AwardRequest(user_id=user.pk, rule_key="rating_given", cause="x")]) == [None]
    assert rows_of(user) == []
