"""Earning: pot_award and pot_award_reverse, and profile creation wired to them."""

from decimal import Decimal
from unittest import mock

import pytest

from categories.errors import CategoryInactive
from currency.ledger import ledger_atomic, ledger_post
from currency.models import EarningRule, PotTransaction
from currency.services import pot_award, pot_award_reverse
from marketplace.models import Seeker
from marketplace.services import profiles
from tests.currency.factories import balance_of, pot_fund, rows_of
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db

NEEDS = "Help me plan for retirement."


def test_award_grants_the_rule_amount_with_reason_reference_and_balance(user):
    row = pot_award(
        user=user, rule_key="rating_given", cause="rating_given:rating:9", reference_type="rating", reference_id=9
    )
    assert (row.transaction_type, row.category, row.amount, row.balance_after) == ("earn", "rating_given", 10, 10)
    assert (row.reference_type, row.reference_id, row.idempotency_key) == ("rating", 9, "award:rating_given:rating:9")
    assert row.note == "Rating given"
    assert balance_of(user) == 10
    assert user.pot_wallet.lifetime_earned == 10


def test_award_happens_at_most_once_per_cause(user):
    assert pot_award(user=user, rule_key="rating_given", cause="rating_given:rating:1") is not None
    assert pot_award(user=user, rule_key="rating_given", cause="rating_given:rating:1") is None
    assert pot_award(user=user, rule_key="rating_given", cause="rating_given:rating:2") is not None
    assert balance_of(user) == 20
    assert len(rows_of(user)) == 2


def test_same_cause_for_another_user_is_still_one_award(user, other_user):
    assert pot_award(user=user, rule_key="engagement_bonus_seeker", cause="engagement_bonus:seeker:engagement:7")
    assert (
        pot_award(user=other_user, rule_key="engagement_bonus_seeker", cause="engagement_bonus:seeker:engagement:7")
        is None
    )
    assert balance_of(other_user) == 0


def test_percent_rule_rounds_down_and_needs_the_deal_value(user):
    row = pot_award(
        user=user,
        rule_key="engagement_bonus_provider",
        cause="engagement_bonus:provider:engagement:7",
        deal_value_usd=Decimal("1999.99"),
    )
    assert row.amount == 99  # 5% of 1999.99 = 99.9995 -> 99
    with pytest.raises(ValueError, match="deal_value_usd"):
        pot_award(user=user, rule_key="engagement_bonus_provider", cause="engagement_bonus:provider:engagement:8")


def test_award_yielding_zero_pot_writes_nothing(user):
    assert (
        pot_award(
            user=user,
            rule_key="engagement_bonus_provider",
            cause="engagement_bonus:provider:engagement:1",
            deal_value_usd=Decimal("19.99"),
        )
        is None
    )
    assert rows_of(user) == []


def test_inactive_or_missing_rule_awards_nothing(user):
    EarningRule.objects.filter(key="rating_given").update(active=False)
    assert pot_award(user=user, rule_key="rating_given", cause="rating_given:rating:1") is None
    EarningRule.objects.filter(key="rating_given").delete()
    assert pot_award(user=user, rule_key="rating_given", cause="rating_given:rating:1") is None
    assert rows_of(user) == []


def test_operator_edit_of_a_rule_applies_to_later_awards_and_rows_keep_what_was_applied(user):
    first = pot_award(user=user, rule_key="rating_given", cause="rating_given:rating:1")
    EarningRule.objects.filter(key="rating_given").update(amount=25)
    second = pot_award(user=user, rule_key="rating_given", cause="rating_given:rating:2")
    first.refresh_from_db()
    assert (first.amount, second.amount, second.balance_after) == (10, 25, 35)


def test_unknown_rule_key_or_empty_cause_is_a_programming_error(user):
    with pytest.raises(ValueError):
        pot_award(user=user, rule_key="no_such_rule", cause="x")
    with pytest.raises(ValueError):
        pot_award(user=user, rule_key="rating_given", cause="")


def test_reverse_takes_the_award_back_once(user):
    pot_award(
        user=user,
        rule_key="engagement_bonus_seeker",
        cause="engagement_bonus:seeker:engagement:3",
        reference_type="engagement",
        reference_id=3,
    )
    row = pot_award_reverse(cause="engagement_bonus:seeker:engagement:3", reason="Engagement cancelled")
    assert (row.transaction_type, row.category, row.amount, row.balance_after) == ("burn", "award_reversal", -100, 0)
    assert (row.reference_type, row.reference_id, row.note) == ("engagement", 3, "Engagement cancelled")
    assert pot_award_reverse(cause="engagement_bonus:seeker:engagement:3", reason="again") is None
    assert balance_of(user) == 0
    user.pot_wallet.refresh_from_db()
    assert user.pot_wallet.lifetime_earned == 0
    # A reversed cause is still awarded: it cannot be awarded again.
    assert (
        pot_award(user=user, rule_key="engagement_bonus_seeker", cause="engagement_bonus:seeker:engagement:3") is None
    )


def test_reverse_never_takes_the_balance_below_zero_and_records_the_rest_as_debt(user, other_user):
    pot_award(user=user, rule_key="engagement_bonus_seeker", cause="engagement_bonus:seeker:engagement:4")
    # The person spent 70 of the 100 meanwhile.
    ledger_atomic(lambda: ledger_post(user_id=user.pk, amount=-70, transaction_type="adjust", category="x"))()
    row = pot_award_reverse(cause="engagement_bonus:seeker:engagement:4", reason="Engagement cancelled")
    assert (row.amount, row.balance_after) == (-30, 0)
    assert "reversed 30 of 100 POT" in row.note
    debt_row = rows_of(user)[-1]
    assert (debt_row.transaction_type, debt_row.amount, debt_row.debt_change, debt_row.balance_after) == (
        "debt",
        0,
        70,
        0,
    )
    assert "70 of 100 POT were already spent and are owed" in debt_row.note
    user.pot_wallet.refresh_from_db()
    assert (user.pot_wallet.balance, user.pot_wallet.debt) == (0, 70)
    assert pot_award_reverse(cause="engagement_bonus:seeker:engagement:4", reason="again") is None
    assert len(rows_of(user)) == 4


def test_reverse_with_an_empty_wallet_records_a_debt_once_that_the_next_earnings_settle(user):
    pot_award(user=user, rule_key="engagement_bonus_seeker", cause="engagement_bonus:seeker:engagement:5")
    ledger_atomic(lambda: ledger_post(user_id=user.pk, amount=-100, transaction_type="adjust", category="x"))()
    row = pot_award_reverse(cause="engagement_bonus:seeker:engagement:5", reason="cancelled")
    assert (row.transaction_type, row.amount, row.debt_change, row.balance_after) == ("debt", 0, 100, 0)
    assert pot_award_reverse(cause="engagement_bonus:seeker:engagement:5", reason="cancelled") is None
    pot_fund(user, 40)  # an operator's adjustment does not settle a debt
    assert balance_of(user) == 40
    earned = pot_award(user=user, rule_key="rating_given", cause="rating_given:rating:1")
    settlement = rows_of(user)[-1]
    assert (earned.amount, earned.balance_after) == (10, 50)
    assert (settlement.transaction_type, settlement.category, settlement.amount, settlement.debt_change) == (
        "burn",
        "debt_settlement",
        -10,
        -10,
    )
    assert (settlement.reference_type, settlement.reference_id, settlement.balance_after) == (
        "pot_transaction",
        earned.pk,
        40,
    )
    user.pot_wallet.refresh_from_db()
    assert (user.pot_wallet.balance, user.pot_wallet.debt) == (40, 90)


def test_reverse_of_a_cause_never_awarded_is_none(user):
    assert pot_award_reverse(cause="engagement_bonus:seeker:engagement:404", reason="cancelled") is None


# --- Profile creation (marketplace calls currency) --------------------------------------


def test_seeker_and_provider_profiles_earn_once_per_role(seeded_categories):
    user = UserFactory()
    fa = seeded_categories["financial_advisors"]
    profiles.seeker_create(user=user, category=fa, needs_description=NEEDS)
    profiles.provider_create(user=user, category=fa, business_name="Acme Planning")
    seeded_categories["career_coaches"].active = True
    seeded_categories["career_coaches"].save()
    profiles.seeker_create(
        user=user, category=seeded_categories["career_coaches"], needs_description=NEEDS
    )  # a second seeker profile
    rows = rows_of(user)
    assert [(r.category, r.amount, r.reference_type) for r in rows] == [
        ("profile_creation", 50, "seeker"),
        ("profile_creation", 100, "provider"),
    ]
    assert balance_of(user) == 150


def test_a_referred_persons_profiles_pay_the_referrer_nothing_yet(seeded_categories):
    # Referral awards wait for the referred person's first paid engagement (tests/marketplace/test_referral_awards.py).
    referrer = UserFactory()
    referred = UserFactory(referred_by=referrer, verified=True)
    fa = seeded_categories["financial_advisors"]
    profiles.seeker_create(user=referred, category=fa, needs_description=NEEDS)
    profiles.provider_create(user=referred, category=fa, business_name="Second profile")
    assert rows_of(referrer) == []


def test_person_without_referrer_rewards_nobody(seeded_categories):
    user = UserFactory()
    profiles.seeker_create(user=user, category=seeded_categories["financial_advisors"], needs_description=NEEDS)
    assert PotTransaction.objects.exclude(user=user).count() == 0


def test_profile_and_award_commit_together_or_not_at_all(seeded_categories):
    user = UserFactory()
    # The award's posting crashes, whichever way it is written (one statement or the general path).
    crash = mock.patch("currency.services.ledger_post_recorded", side_effect=RuntimeError("crash in the award"))
    crash_too = mock.patch("currency.services.ledger_post_many", side_effect=RuntimeError("crash in the award"))
    with crash, crash_too, pytest.raises(RuntimeError):
        profiles.seeker_create(user=user, category=seeded_categories["financial_advisors"], needs_description=NEEDS)
    assert not Seeker.objects.filter(user=user).exists()
    assert rows_of(user) == []


def test_refused_profile_awards_nothing(seeded_categories):
    user = UserFactory()
    with pytest.raises(CategoryInactive):
        profiles.seeker_create(user=user, category=seeded_categories["therapists"], needs_description=NEEDS)
    assert rows_of(user) == []
