"""The money path of promotional POT: one person with several accounts turns none of it into USD;
a reversal after spending leaves a debt that the next award settles first; the ledger proves out."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from currency import services as pot
from currency.errors import DebtOpen, NotRedeemable
from currency.models import PotTransaction, Redemption, Wallet
from currency.selectors import wallet_summary
from imatch.errors import DomainError
from marketplace.models import BillingStatus, Engagement, User
from marketplace.services import engagements, matches, profiles, verification
from marketplace.services.engagements import engagement_bonus_cause
from tests.conftest import client_for
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"
THROWAWAYS = 8


def _sign_up(email: str, *, referral_code: str = "") -> User:
    """A sign-up as the web and the API do it, then the emailed link opened (the person owns the address)."""
    user = profiles.user_register(email=email, password=PASSWORD, name=email.split("@")[0], referral_code=referral_code)
    verification.email_verify(token=verification.email_verification_token(user=user))
    user.refresh_from_db()
    return user


def _wallet(user) -> Wallet:
    return Wallet.objects.get(user=user)


def _engagement(seeker, provider_profile) -> Engagement:
    [match] = [m for m in matches.match_run_for_seeker(seeker=seeker) if m.provider_id == provider_profile.pk]
    matches.match_introduce(match=match, user=seeker.user)
    matches.match_accept(match=match, user=provider_profile.user)
    engagement = engagements.engagement_report(match=match, user=seeker.user, deal_value_usd="1000.00")
    return engagements.engagement_confirm(engagement=engagement, user=provider_profile.user)


def _seeker_bonus_paid(engagement: Engagement) -> None:
    """The seeker's engagement bonus, however the bonus timing is set (at confirmation or at payment):
    the same award, once per cause."""
    pot.pot_award(
        user=engagement.seeker.user,
        rule_key="engagement_bonus_seeker",
        cause=engagement_bonus_cause(engagement.pk, "seeker"),
        deal_value_usd=engagement.deal_value_usd,
        reference_type="engagement",
        reference_id=engagement.pk,
    )


def test_one_person_with_many_accounts_redeems_no_promotional_pot_and_debts_settle_first(operator):
    category = make_category()
    # One person: a main account with both profiles and a crowd of throwaway accounts it referred,
    # each with a verified (throwaway) email address and a profile.
    main = _sign_up("me@example.com")
    seeker = make_seeker(category, user=main)
    make_provider(category, user=main, city="Dallas")
    throwaways = []
    for n in range(THROWAWAYS):
        alias = _sign_up(f"me+{n}@example.com", referral_code=main.referral_code)
        make_seeker(category, user=alias)
        throwaways.append(alias)

    main_wallet = _wallet(main)
    # Profiles only: the throwaways are the main address in disguise (+tags), and referral awards
    # wait for a referred person's paid engagement anyway.
    assert main_wallet.balance == 50 + 100
    assert main_wallet.promotional_balance == main_wallet.balance  # all of it promotional
    assert not PotTransaction.objects.filter(user=main, category="referral").exists()
    for person in [main, *throwaways]:
        summary = wallet_summary(user=person)
        assert summary.email_verified and summary.redeemable == 0 and summary.spendable == summary.balance > 0

    response = client_for(main).post(
        "/api/v1/pot/redeem/", {"pot_amount": 150, "payment_method": "PayPal me@example.com"}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] in ("not_redeemable", "below_minimum")
    with pytest.raises((NotRedeemable, DomainError)):
        pot.redemption_request(user=main, pot_amount=main_wallet.balance, payment_method="PayPal")
    assert not Redemption.objects.exists()

    # A real engagement with an independent provider earns a bonus; the person spends everything,
    # then the engagement is cancelled: the bonus cannot be taken back in full and becomes a debt.
    provider = make_provider(category)
    engagement = _engagement(seeker, provider)
    _seeker_bonus_paid(engagement)  # 100 POT, earned
    assert _wallet(main).balance == 250
    pot.pot_spend(user=main, option_key="commission_credit")  # 250 POT, promotional first
    assert (_wallet(main).balance, _wallet(main).promotional_balance) == (0, 0)
    engagements.engagement_cancel(engagement=engagement, user=main, reason="Fell through")
    # The bonus is taken back (by the cancellation; this call is a no-op then, and keeps the test
    # independent of when bonuses are paid and reversed).
    pot.pot_award_reverse(cause=engagement_bonus_cause(engagement.pk, "seeker"), reason="Engagement cancelled")
    wallet = _wallet(main)
    assert (wallet.balance, wallet.debt) == (0, 100)
    with pytest.raises(DebtOpen):
        pot.redemption_request(user=main, pot_amount=500, payment_method="PayPal")

    # The next award settles the debt first: a second engagement's bonus.
    second = _engagement(seeker, make_provider(category, city="Houston"))
    _seeker_bonus_paid(second)
    award, settlement = PotTransaction.objects.filter(user=main).order_by("-id")[:2][::-1]
    assert (award.category, award.amount) == ("engagement_bonus", 100)
    assert (settlement.category, settlement.amount, settlement.reference_id) == ("debt_settlement", -100, award.pk)
    assert (_wallet(main).balance, _wallet(main).debt) == (0, 0)

    # Only business the platform is paid for unlocks promotional POT: a paid commission.
    engagements.engagement_mark_invoiced(engagement=second, operator=operator)
    engagements.engagement_mark_paid(engagement=second, operator=operator)
    assert _wallet(main).paid_engagement_at is not None
    assert wallet_summary(user=main).redeemable == _wallet(main).balance
    assert all(_wallet(person).paid_engagement_at is None for person in throwaways)
    assert not PotTransaction.objects.filter(user=main, category="referral").exists()

    commissions = Engagement.objects.filter(billing_status=BillingStatus.PAID).aggregate(total=Sum("commission_usd"))
    redeemed = Redemption.objects.exclude(status="rejected").aggregate(total=Sum("usd_amount"))
    assert (redeemed["total"] or Decimal(0)) <= commissions["total"]

    out, err = io.StringIO(), io.StringIO()
    call_command("verify_ledger", stdout=out, stderr=err)
    assert out.getvalue().startswith("Ledger OK") and err.getvalue() == ""


def test_marking_a_commission_paid_records_the_paid_engagement_for_both_sides(operator):
    category = make_category()
    seeker = make_seeker(category)
    provider = make_provider(category)
    engagement = _engagement(seeker, provider)
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    assert not Wallet.objects.filter(paid_engagement_at__isnull=False).exists()  # invoiced is not paid
    engagements.engagement_mark_paid(engagement=engagement, operator=operator)
    paid = set(Wallet.objects.filter(paid_engagement_at__isnull=False).values_list("user_id", flat=True))
    assert paid == {seeker.user_id, provider.user_id}
