"""Spend effects other apps read (boost, extra matches, commission credit) and redemption services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from currency import selectors, services
from currency.models import CommissionCreditUse, Purchase, Redemption, SpendOption
from imatch.errors import Conflict, DomainError, PermissionDenied
from tests.currency.factories import balance_of, funded_user, rows_of

pytestmark = pytest.mark.django_db


def test_profile_boost_runs_for_the_option_duration_and_stacks():
    provider = funded_user(1000, account_type="provider")
    first = services.pot_spend(user=provider, option_key="profile_boost").purchase
    assert first.ends_at - first.starts_at == timedelta(days=7)
    second = services.pot_spend(user=provider, option_key="profile_boost").purchase
    assert second.starts_at == first.ends_at and second.ends_at == first.ends_at + timedelta(days=7)
    assert balance_of(provider) == 600


def test_boosted_user_ids_at_a_time():
    boosted = funded_user(1000, account_type="provider")
    not_boosted = funded_user(1000, account_type="provider")
    purchase = services.pot_spend(user=boosted, option_key="profile_boost").purchase
    ids = [boosted.pk, not_boosted.pk]
    assert selectors.boosted_user_ids(user_ids=ids, at=timezone.now()) == {boosted.pk}
    assert selectors.boosted_user_ids(user_ids=ids, at=purchase.ends_at) == set()
    assert selectors.boosted_user_ids(user_ids=ids, at=purchase.starts_at - timedelta(seconds=1)) == set()
    assert selectors.boosted_user_ids(user_ids=[], at=timezone.now()) == set()


def test_extra_matches_are_taken_once():
    seeker = funded_user(1000)
    services.pot_spend(user=seeker, option_key="extra_matches")
    services.pot_spend(user=seeker, option_key="extra_matches")
    assert selectors.extra_matches_available(user=seeker) == 6
    assert services.extra_matches_take(user=seeker) == 6
    assert services.extra_matches_take(user=seeker) == 0
    assert all(p.matches_taken_at for p in Purchase.objects.filter(user=seeker))


def test_extra_matches_of_someone_who_bought_none_is_zero(user):
    assert services.extra_matches_take(user=user) == 0


def test_commission_credit_is_worth_its_cost_at_the_redemption_rate_and_is_used_up():
    provider = funded_user(1000, account_type="provider")
    purchase = services.pot_spend(user=provider, option_key="commission_credit").purchase
    assert purchase.credit_usd == Decimal("200.00")  # 250 POT x 0.80
    assert selectors.commission_credit_available_usd(user=provider) == Decimal("200.00")
    applied = services.commission_credit_apply(
        user=provider, amount_usd=Decimal("150.00"), reference_type="engagement", reference_id=7
    )
    assert applied == Decimal("150.00")
    applied = services.commission_credit_apply(
        user=provider, amount_usd=Decimal("80.00"), reference_type="engagement", reference_id=8
    )
    assert applied == Decimal("50.00")
    assert services.commission_credit_apply(
        user=provider, amount_usd=Decimal("10"), reference_type="engagement", reference_id=9
    ) == Decimal("0.00")
    assert selectors.commission_credit_available_usd(user=provider) == Decimal("0.00")
    uses = list(CommissionCreditUse.objects.order_by("id").values_list("amount_usd", "reference_id"))
    assert uses == [(Decimal("150.00"), 7), (Decimal("50.00"), 8)]


def test_commission_credit_spans_several_purchases_oldest_first():
    provider = funded_user(1000, account_type="provider")
    first = services.pot_spend(user=provider, option_key="commission_credit").purchase
    second = services.pot_spend(user=provider, option_key="commission_credit").purchase
    applied = services.commission_credit_apply(
        user=provider, amount_usd=Decimal("300"), reference_type="engagement", reference_id=1
    )
    assert applied == Decimal("300.00")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.credit_used_usd, second.credit_used_usd) == (Decimal("200.00"), Decimal("100.00"))


def test_commission_credit_refuses_a_non_positive_amount(user):
    with pytest.raises(DomainError):
        services.commission_credit_apply(user=user, amount_usd=Decimal("0"), reference_type="e", reference_id=1)


def test_an_option_for_everyone_is_open_to_both_roles():
    SpendOption.objects.filter(key="extra_matches").update(audience="any")
    provider = funded_user(1000, account_type="provider")
    assert services.pot_spend(user=provider, option_key="extra_matches").purchase.matches_granted == 3


def test_a_person_with_both_roles_may_buy_either():
    both = funded_user(1000, account_type="both")
    services.pot_spend(user=both, option_key="extra_matches")
    services.pot_spend(user=both, option_key="profile_boost")
    assert balance_of(both) == 700


def test_price_change_since_confirmation_charges_nothing():
    provider = funded_user(1000, account_type="provider")
    SpendOption.objects.filter(key="profile_boost").update(cost=300)
    with pytest.raises(services.PriceChanged):
        services.pot_spend(user=provider, option_key="profile_boost", confirmed_cost=200)
    assert balance_of(provider) == 1000
    assert services.pot_spend(user=provider, option_key="profile_boost", confirmed_cost=300).transaction.amount == -300


# --- Redemptions ------------------------------------------------------------------------


@override_settings(POT_USD_RATE=Decimal("0.50"), POT_MIN_REDEMPTION=100)
def test_redemption_uses_the_settings_rate_and_minimum():
    person = funded_user(300, verified=True)
    redemption = services.redemption_request(user=person, pot_amount=100, payment_method="x").redemption
    assert (redemption.usd_amount, redemption.usd_rate) == (Decimal("50.00"), Decimal("0.5000"))
    with pytest.raises(DomainError, match="minimum redemption is 100"):
        services.redemption_request(user=person, pot_amount=99, payment_method="x")


def test_redemption_amount_must_be_whole(user):
    for amount in (500.0, "500", True, None):
        with pytest.raises(DomainError):
            services.redemption_request(user=user, pot_amount=amount, payment_method="x")
    assert not Redemption.objects.exists()


def test_only_operators_decide(user, other_user):
    person = funded_user(500, verified=True)
    redemption = services.redemption_request(user=person, pot_amount=500, payment_method="x").redemption
    with pytest.raises(PermissionDenied):
        services.redemption_approve(redemption_id=redemption.pk, operator=user, payout_reference="x")
    with pytest.raises(PermissionDenied):
        services.redemption_reject(redemption_id=redemption.pk, operator=user, reason="x")
    redemption.refresh_from_db()
    assert redemption.status == "pending"


def test_reject_then_approve_is_refused_and_the_refund_happens_once(operator):
    person = funded_user(500, verified=True)
    redemption = services.redemption_request(user=person, pot_amount=500, payment_method="x").redemption
    services.redemption_reject(redemption_id=redemption.pk, operator=operator, reason="Wrong account")
    with pytest.raises(Conflict):
        services.redemption_approve(redemption_id=redemption.pk, operator=operator, payout_reference="PP")
    with pytest.raises(Conflict):
        services.redemption_reject(redemption_id=redemption.pk, operator=operator, reason="again")
    assert [row.transaction_type for row in rows_of(person)] == ["adjust", "redeem", "refund"]
    assert balance_of(person) == 500
    redemption.refresh_from_db()
    assert (redemption.status, redemption.rejection_reason, redemption.decided_by) == (
        "rejected",
        "Wrong account",
        operator,
    )
