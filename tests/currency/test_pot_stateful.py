"""A Hypothesis state machine drives the POT services against an in-memory reference model.

Random sequences of award / reverse / spend / redeem / approve / reject / adjust / a paid
engagement / a release of promotional POT, with retries under the same idempotency key (same or
different request). After every step the balances (spendable, promotional, redeemable, owed), each wallet's history,
levels and the economy statistics agree with the model, and `verify_ledger` holds.
"""

from dataclasses import dataclass, field

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from currency import selectors, services
from currency.audit import verify_ledger
from currency.errors import DebtOpen, InsufficientPot, NotRedeemable
from currency.models import PotTransaction, Wallet
from imatch.errors import Conflict, DomainError
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db

RULES = {"engagement_bonus_seeker": 100, "profile_creation_seeker": 50, "referral_first_engagement": 200}
PROMOTIONAL = {"profile_creation_seeker"}  # referral and rating awards are earned: a commission pays for them
OPTIONS = {"extra_matches": (100, "seeker"), "profile_boost": (200, "provider"), "commission_credit": (250, "provider")}
ROLES = ["seeker", "provider", "both"]
MIN_REDEMPTION = 500


@dataclass
class Model:
    balances: list[int]
    earned: list[int]
    history: list[list[int]]
    promotional: list[int]
    debt: list[int]
    paid_engagement: list[bool]
    awards: dict[str, tuple[int, int, bool]] = field(default_factory=dict)  # cause -> (person, amount, promotional)
    releases: set[str] = field(default_factory=set)
    reversed: set[str] = field(default_factory=set)
    requests: dict[tuple[str, int, str], tuple[tuple, object]] = field(default_factory=dict)
    redemptions: dict[int, list] = field(default_factory=dict)  # id -> [person, amount, status]
    earned_total: int = 0
    spent_total: int = 0
    reversed_total: int = 0

    def post(self, person: int, amount: int, *, promotional: int = 0, earned_first: bool = False) -> int:
        """A row of `amount`; a credit's promotional part is given, a debit takes promotional POT first
        (or earned POT first). Returns the row's promotional part."""
        if amount < 0:
            earned = self.balances[person] - self.promotional[person]
            take = -amount
            promotional = -(max(take - earned, 0) if earned_first else min(take, self.promotional[person]))
        self.balances[person] += amount
        self.promotional[person] += promotional
        assert self.balances[person] >= 0 and 0 <= self.promotional[person] <= self.balances[person]
        self.history[person].append(amount)
        return promotional

    def credit(self, person: int, amount: int, *, promotional: int = 0) -> None:
        """An earning or a refund: an open debt is settled from it first (a burn row)."""
        self.post(person, amount, promotional=promotional)
        settle = min(self.debt[person], amount)
        if settle:
            self.post(person, -settle)
            self.debt[person] -= settle
            self.earned[person] -= settle
            self.reversed_total += settle

    def redeemable(self, person: int) -> int:
        if self.debt[person]:
            return 0
        return self.balances[person] - self.promotional[person]  # a paid engagement alone unlocks nothing


class LedgerMachine(RuleBasedStateMachine):
    people: list = []
    operator = None

    redemptions = Bundle("redemptions")

    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown: the next starts from empty wallets.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        count = len(self.people)
        self.model = Model(
            balances=[0] * count,
            earned=[0] * count,
            history=[[] for _ in range(count)],
            promotional=[0] * count,
            debt=[0] * count,
            paid_engagement=[False] * count,
        )

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize()
    def start(self):
        assert not PotTransaction.objects.exists()

    # --- Rules ----------------------------------------------------------------------

    @rule(person=st.integers(0, 2), amount=st.integers(1, 1500))
    def adjust(self, person, amount):
        services.pot_adjust(user=self.people[person], operator=self.operator, amount=amount, reason="top up")
        self.model.post(person, amount)

    @rule(person=st.integers(0, 2), rule_key=st.sampled_from(sorted(RULES)), cause=st.sampled_from("abcdef"))
    def award(self, person, rule_key, cause):
        row = services.pot_award(user=self.people[person], rule_key=rule_key, cause=cause)
        if cause in self.model.awards:
            assert row is None
            return
        amount = RULES[rule_key]
        promotional = rule_key in PROMOTIONAL
        assert row is not None and row.amount == amount and row.promotional_amount == (amount if promotional else 0)
        self.model.awards[cause] = (person, amount, promotional)
        self.model.earned[person] += amount
        self.model.earned_total += amount
        self.model.credit(person, amount, promotional=amount if promotional else 0)

    @rule(cause=st.sampled_from("abcdef"))
    def reverse(self, cause):
        row = services.pot_award_reverse(cause=cause, reason="cancelled")
        if cause not in self.model.awards or cause in self.model.reversed:
            assert row is None
            return
        person, amount, promotional = self.model.awards[cause]
        take = min(amount, self.model.balances[person])
        owed = amount - take
        self.model.reversed.add(cause)
        if take:
            assert (row.transaction_type, row.amount) == ("burn", -take)
            self.model.post(person, -take, earned_first=not promotional)
            self.model.earned[person] -= take
            self.model.reversed_total += take
        else:
            assert (row.transaction_type, row.amount, row.debt_change) == ("debt", 0, amount)
        if owed:
            self.model.post(person, 0)  # the debt row moves no POT
            self.model.debt[person] += owed

    @rule(person=st.integers(0, 2))
    def paid_engagement(self, person):
        first = services.pot_paid_engagement_record(user=self.people[person], engagement_id=person + 1)
        assert first == (not self.model.paid_engagement[person])
        self.model.paid_engagement[person] = True

    @rule(person=st.integers(0, 2), budget=st.integers(0, 120), cause=st.sampled_from("uvwxyz"))
    def release(self, person, budget, cause):
        """A paid commission pays for up to `budget` of the person's promotional POT (once per cause)."""
        released = services.pot_promotional_release(user=self.people[person], cause=cause, max_amount=budget)
        expected = 0 if cause in self.model.releases else min(budget, self.model.promotional[person])
        assert released == expected
        if released:
            self.model.releases.add(cause)
            self.model.post(person, 0, promotional=-released)  # one `release` row: no POT moves

    @rule(person=st.integers(0, 2), option=st.sampled_from(sorted(OPTIONS)), key=st.sampled_from([None, "k1", "k2"]))
    def spend(self, person, option, key):
        request = ("spend", person, key)
        outcome = self._call(
            lambda: services.pot_spend(user=self.people[person], option_key=option, idempotency_key=key)
        )
        if key and request in self.model.requests:
            first_body, first_result = self.model.requests[request]
            if first_body == (option,):
                assert outcome.replayed and outcome.transaction.pk == first_result
            else:
                assert isinstance(outcome, Conflict)
            return
        cost, audience = OPTIONS[option]
        role = ROLES[person]
        if audience != role and role != "both":
            assert isinstance(outcome, services.WrongAudience)
        elif cost > self.model.balances[person]:
            assert isinstance(outcome, InsufficientPot)
        else:
            assert not outcome.replayed and outcome.transaction.amount == -cost
            self.model.post(person, -cost)
            self.model.spent_total += cost
            if key:
                self.model.requests[request] = ((option,), outcome.transaction.pk)

    @rule(
        target=redemptions,
        person=st.integers(0, 2),
        amount=st.sampled_from([400, 500, 800, 1500]),
        key=st.sampled_from([None, "k1"]),
    )
    def redeem(self, person, amount, key):
        request = ("redeem", person, key)
        outcome = self._call(
            lambda: services.redemption_request(
                user=self.people[person], pot_amount=amount, payment_method="PayPal", idempotency_key=key
            )
        )
        if key and request in self.model.requests:
            first_body, first_result = self.model.requests[request]
            if first_body == (amount,):
                assert outcome.replayed and outcome.redemption.pk == first_result
            else:
                assert isinstance(outcome, Conflict)
            return -1
        if amount < MIN_REDEMPTION:
            assert isinstance(outcome, DomainError) and outcome.code == "below_minimum"
            return -1
        if self.model.debt[person]:
            assert isinstance(outcome, DebtOpen)
            return -1
        if amount > self.model.balances[person]:
            assert isinstance(outcome, InsufficientPot)
            return -1
        if amount > self.model.redeemable(person):
            assert isinstance(outcome, NotRedeemable) and "no paid engagement yet" in outcome.message
            return -1
        redemption = outcome.redemption
        promotional = self.model.post(person, -amount, earned_first=True)
        self.model.redemptions[redemption.pk] = [person, amount, "pending", promotional]
        if key:
            self.model.requests[request] = ((amount,), redemption.pk)
        return redemption.pk

    @rule(redemption_id=redemptions, approve=st.booleans())
    def decide(self, redemption_id, approve):
        if redemption_id == -1:
            return
        if approve:
            call = lambda: services.redemption_approve(  # noqa: E731
                redemption_id=redemption_id, operator=self.operator, payout_reference="PP-1"
            )
        else:
            call = lambda: services.redemption_reject(  # noqa: E731
                redemption_id=redemption_id, operator=self.operator, reason="no"
            )
        outcome = self._call(call)
        person, amount, status, promotional = self.model.redemptions[redemption_id]
        if status != "pending":
            assert isinstance(outcome, Conflict)
            return
        assert outcome.status == ("approved" if approve else "rejected")
        self.model.redemptions[redemption_id][2] = outcome.status
        if not approve:
            self.model.credit(person, amount, promotional=-promotional)

    @staticmethod
    def _call(function):
        try:
            return function()
        except DomainError as error:
            return error

    # --- What must always hold -------------------------------------------------------

    @invariant()
    def balances_and_history_agree(self):
        wallets = dict(Wallet.objects.values_list("user_id", "balance"))
        for index, person in enumerate(self.people):
            assert wallets.get(person.pk, 0) == self.model.balances[index]
            amounts = list(PotTransaction.objects.filter(user=person).order_by("id").values_list("amount", flat=True))
            assert amounts == self.model.history[index]
            summary = selectors.wallet_summary(user=person)
            assert summary.lifetime_earned == self.model.earned[index]
            assert (summary.spendable, summary.promotional_balance, summary.debt) == (
                self.model.balances[index],
                self.model.promotional[index],
                self.model.debt[index],
            )
            assert summary.redeemable == self.model.redeemable(index)

    @invariant()
    def statistics_agree(self):
        stats = selectors.economy_statistics()
        model = self.model
        assert stats["total_pot_in_circulation"] == sum(model.balances)
        assert stats["users_with_pot"] == sum(1 for balance in model.balances if balance > 0)
        assert stats["total_pot_earned_all_time"] == model.earned_total
        assert stats["total_pot_spent_all_time"] == model.spent_total
        assert stats["total_pot_burned_all_time"] == model.spent_total  # awards taken back are not spending
        assert stats["transactions_last_7_days"] == sum(len(h) for h in model.history)

    @invariant()
    def ledger_verifies(self):
        report = verify_ledger()
        assert report.ok, report.problems


def test_ledger_agrees_with_the_reference_model(db):
    LedgerMachine.people = [UserFactory(account_type=role, verified=True) for role in ROLES]
    LedgerMachine.operator = UserFactory(is_staff=True)
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
