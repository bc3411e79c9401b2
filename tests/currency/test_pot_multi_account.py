"""Issue 9's property: one person with several accounts never gets more USD out than the platform received.

A Hypothesis state machine plays one person who controls every non-operator account: they sign
up (with or without a referral code of one of their own accounts, with addresses that do or do
not look alike), verify emails, create seeker and provider profiles, match, introduce, accept,
report engagements with any deal value (huge ones too), confirm, cancel or agree to cancel,
dispute, rate, spend and redeem, all through the services. An operator approves every
redemption, sometimes invoices and marks commissions paid, and decides disputes.

After every step: the USD approved for redemptions is at most the commission paid in USD
(commission minus POT commission credit) x a reward ratio of 1, and `verify_ledger` is clean.
Profile-creation POT counts too: it becomes redeemable only as far as a paid commission pays
for it. The test runs with a low redemption minimum, so that small gains are cashed out too,
and it fails if no example ever got a redemption approved (a property that was never tried).
About a quarter of the examples start with business under way up to a paid commission cashed
out, so that guard does not hang on the few random walks that go the whole loop.
`test_both_accounts_cash_out_what_the_commission_paid_and_no_more` walks the same path to
approved redemptions deterministically as well.
"""

import io
from collections import Counter
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Sum
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from currency import services as pot
from currency.models import Redemption, RedemptionStatus
from currency.selectors import wallet_summary
from imatch.errors import DomainError
from marketplace.candidates import clear_pool_cache
from marketplace.models import (
    ENGAGEMENT_CANCEL_PENDING_STATUSES,
    ENGAGEMENT_RATEABLE_STATUSES,
    BillingStatus,
    Engagement,
    EngagementStatus,
    Match,
    MatchStatus,
    Provider,
    Seeker,
)
from marketplace.services import engagements, matches, profiles, ratings, verification
from marketplace.services.budget import engagement_pot_budget_left
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db

REWARD_RATIO = Decimal(1)
PASSWORD = "a-long-and-unusual-passphrase"
DEAL_VALUES = st.sampled_from(
    ["1.00", "99.99", "500.00", "1000.00", "2500.00", "7000.00", "15000.00", "250000.00", "9999999999.99"]
) | st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
SPEND_OPTIONS = st.sampled_from(["profile_boost", "extra_matches", "commission_credit"])
pick = st.integers(0, 10_000)
DECIDED_BY_OPERATORS = (EngagementStatus.UNDER_REVIEW, *ENGAGEMENT_CANCEL_PENDING_STATUSES)


class MultiAccountMachine(RuleBasedStateMachine):
    categories: list = []
    operator = None
    approved_redemptions = 0  # over every example: the property must have been tried
    refused_redemptions: Counter = Counter()  # why the others were refused (the guard's message)

    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown: the next starts from nothing.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        clear_pool_cache()
        cache.clear()  # limits counted in the cache (e.g. links sent) start from nothing too
        self.accounts = []
        self.emails = 0

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        clear_pool_cache()

    def _try(self, action, /, **kwargs):
        """Run one service; a refusal (a domain error) is a fine outcome for a random action."""
        try:
            return action(**kwargs)
        except DomainError:
            return None

    def _account(self, index: int):
        account = self.accounts[index % len(self.accounts)]
        account.refresh_from_db()
        return account

    def _pick(self, queryset, index: int):
        """One of the rows (by index, wrapping round), or None when there is none."""
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        return queryset.model.objects.get(pk=ids[index % len(ids)]) if ids else None

    def _side(self, engagement: Engagement, which: int):
        person = engagement.seeker.user if which % 2 == 0 else engagement.provider.user
        person.refresh_from_db()
        return person

    @initialize(steps=st.integers(0, 7), deal_value=DEAL_VALUES)
    def first_accounts(self, steps, deal_value):
        """Two accounts to start with, the second referred by the first: a seeker and a provider in each category.

        Then up to seven natural steps of business (match, introduce, accept, report, confirm,
        bill and cash out, rate): about a quarter of the examples start from a paid commission
        already cashed out, so every run tries the property on real money, not only the examples
        whose random rules happen to walk the whole loop.
        """
        self.sign_up(referrer=None, look_alike=False)
        self.sign_up(referrer=0, look_alike=False)
        for category in (0, 1):
            self.create_profile(account=0, category=category, provider=False)
            self.create_profile(account=1, category=category, provider=True)
        for _ in range(steps):
            self.carry_on(step=0, deal_value=deal_value)

    @precondition(lambda self: Seeker.objects.exists())
    @rule(step=pick, deal_value=DEAL_VALUES)
    def carry_on(self, step, deal_value):
        """The next natural step of the business in progress: match, introduce, accept, report, confirm, bill."""
        waiting = [
            (Match.objects.filter(status=MatchStatus.SUGGESTED), "introduce"),
            (Match.objects.filter(status=MatchStatus.INTRODUCED), "accept"),
            (Match.objects.filter(status=MatchStatus.ACCEPTED), "report"),
            (Engagement.objects.filter(status=EngagementStatus.REPORTED), "confirm"),
            (Engagement.objects.filter(status__in=ENGAGEMENT_RATEABLE_STATUSES).exclude(billing_status="paid"), "bill"),
            (Engagement.objects.filter(status__in=ENGAGEMENT_RATEABLE_STATUSES), "rate"),
        ]
        waiting = [(queryset, action) for queryset, action in waiting if queryset.exists()]
        if not waiting:
            self.match(seeker=step)
            return
        queryset, action = waiting[step % len(waiting)]
        if action == "introduce":
            self.answer_match(match=step, decline=1)
        elif action == "accept":
            match = self._pick(queryset, step)
            self._try(matches.match_accept, match=match, user=match.provider.user)
        elif action == "report":
            self.report(match=step, side=step % 2, deal_value=deal_value)
        elif action == "confirm":
            self.confirm(engagement=step, wrong_side=1)
        elif action == "rate":
            engagement = self._pick(queryset, step)
            for side in (0, 1):
                self._try(ratings.rating_create, engagement=engagement, user=self._side(engagement, side), stars=5)
            self.cash_out()
        else:
            self.bill(engagement=self._pick(queryset, step), pay=1)
            self.cash_out()

    # --- The person ---------------------------------------------------------------------

    @precondition(lambda self: len(self.accounts) < 6)
    @rule(referrer=st.none() | pick, look_alike=st.booleans(), verify=st.booleans())
    def sign_up(self, referrer, look_alike, verify=True):
        self.emails += 1
        email = f"me+{self.emails}@gmail.com" if look_alike else f"someone{self.emails}@example{self.emails}.net"
        code = self._account(referrer).referral_code if referrer is not None and self.accounts else None
        user = profiles.user_register(email=email, password=PASSWORD, name=f"Me {self.emails}", referral_code=code)
        self.accounts.append(user)
        if verify:
            self.verify_email(account=len(self.accounts) - 1)

    @rule(account=pick)
    def verify_email(self, account):
        user = self._account(account)
        self._try(verification.email_verify, token=verification.email_verification_token(user=user))

    @rule(account=pick, category=st.integers(0, 1), provider=st.booleans())
    def create_profile(self, account, category, provider):
        user, category = self._account(account), self.categories[category]
        if provider:
            if not Provider.objects.filter(user=user, category=category).exists():
                self._try(make_provider, category=category, user=user)
        elif not Seeker.objects.filter(user=user, category=category).exists():
            self._try(make_seeker, category=category, user=user)

    @precondition(lambda self: Seeker.objects.exists())
    @rule(seeker=pick)
    def match(self, seeker):
        self._try(matches.match_run_for_seeker, seeker=self._pick(Seeker.objects.all(), seeker))

    @precondition(
        lambda self: Match.objects.filter(status__in=[MatchStatus.SUGGESTED, MatchStatus.INTRODUCED]).exists()
    )
    @rule(match=pick, decline=st.integers(0, 9))
    def answer_match(self, match, decline):
        """The seeker asks for an introduction, the provider accepts (or, now and then, declines)."""
        match = self._pick(Match.objects.filter(status__in=[MatchStatus.SUGGESTED, MatchStatus.INTRODUCED]), match)
        if decline == 0:
            self._try(matches.match_decline, match=match, user=match.provider.user, reason="Not now")
        elif match.status == MatchStatus.SUGGESTED:
            self._try(matches.match_introduce, match=match, user=match.seeker.user)
        else:
            self._try(matches.match_accept, match=match, user=match.provider.user)

    @precondition(lambda self: Match.objects.filter(status=MatchStatus.ACCEPTED).exists())
    @rule(match=pick, side=st.integers(0, 1), deal_value=DEAL_VALUES)
    def report(self, match, side, deal_value):
        match = self._pick(Match.objects.filter(status=MatchStatus.ACCEPTED), match)
        user = match.seeker.user if side == 0 else match.provider.user
        self._try(engagements.engagement_report, match=match, user=user, deal_value_usd=str(deal_value))

    @precondition(lambda self: Engagement.objects.filter(status=EngagementStatus.REPORTED).exists())
    @rule(engagement=pick, wrong_side=st.integers(0, 4))
    def confirm(self, engagement, wrong_side):
        engagement = self._pick(Engagement.objects.filter(status=EngagementStatus.REPORTED), engagement)
        reporter_is_seeker = engagement.reported_by_id == engagement.seeker.user_id
        other = 1 if reporter_is_seeker else 0
        side = 1 - other if wrong_side == 0 else other
        self._try(engagements.engagement_confirm, engagement=engagement, user=self._side(engagement, side))

    @precondition(lambda self: Engagement.objects.exists())
    @rule(engagement=pick, side=st.integers(0, 1), dispute=st.booleans())
    def cancel(self, engagement, side, dispute):
        engagement = self._pick(Engagement.objects.all(), engagement)
        user = self._side(engagement, side)
        if dispute:
            self._try(engagements.engagement_cancel_dispute, engagement=engagement, user=user, reason="It stands")
        else:
            self._try(engagements.engagement_cancel, engagement=engagement, user=user, reason="Fell through")

    @precondition(lambda self: Engagement.objects.filter(status__in=ENGAGEMENT_RATEABLE_STATUSES).exists())
    @rule(engagement=pick, side=st.integers(0, 1), stars=st.integers(1, 5))
    def rate(self, engagement, side, stars):
        engagement = self._pick(Engagement.objects.filter(status__in=ENGAGEMENT_RATEABLE_STATUSES), engagement)
        self._try(ratings.rating_create, engagement=engagement, user=self._side(engagement, side), stars=stars)

    @rule(account=pick, option=SPEND_OPTIONS)
    def spend(self, account, option):
        self._try(pot.pot_spend, user=self._account(account), option_key=option)

    @rule(account=pick, amount=st.none() | st.none() | st.integers(1, 5000))
    def redeem(self, account, amount):
        """Ask for everything redeemable (or any amount); the operator approves every redemption."""
        user = self._account(account)
        amount = amount or max(wallet_summary(user=user).redeemable, 1)
        try:
            redemption = pot.redemption_request(user=user, pot_amount=amount, payment_method="PayPal: me").redemption
        except DomainError as refused:
            MultiAccountMachine.refused_redemptions[refused.code] += 1
            return
        MultiAccountMachine.approved_redemptions += 1
        pot.redemption_approve(
            redemption_id=redemption.pk, operator=self.operator, payout_reference=f"PP-{redemption.pk}"
        )

    @rule()
    def cash_out(self):
        """Every account asks to redeem all it may (from the minimum up); the operator approves each."""
        for index in range(len(self.accounts)):
            user = self._account(index)
            redeemable = wallet_summary(user=user).redeemable
            if redeemable >= django_settings.POT_MIN_REDEMPTION:
                self.redeem(account=index, amount=redeemable)

    # --- The operator ---------------------------------------------------------------------

    @precondition(lambda self: Engagement.objects.exclude(billing_status=BillingStatus.PAID).exists())
    @rule(engagement=pick, pay=st.integers(0, 3))
    def bill(self, engagement, pay):
        """Invoice a commission; most times the provider pays it."""
        if not isinstance(engagement, Engagement):
            engagement = self._pick(Engagement.objects.exclude(billing_status=BillingStatus.PAID), engagement)
        if engagement.billing_status == BillingStatus.PENDING:
            self._try(engagements.engagement_mark_invoiced, engagement=engagement, operator=self.operator)
        if pay:
            self._try(engagements.engagement_mark_paid, engagement=engagement, operator=self.operator)

    @precondition(lambda self: Engagement.objects.filter(status__in=DECIDED_BY_OPERATORS).exists())
    @rule(engagement=pick, cancel=st.booleans())
    def decide(self, engagement, cancel):
        engagement = self._pick(Engagement.objects.filter(status__in=DECIDED_BY_OPERATORS), engagement)
        if engagement.status == EngagementStatus.UNDER_REVIEW:
            self._try(engagements.engagement_review_approve, engagement=engagement, operator=self.operator)
        else:
            self._try(
                engagements.engagement_dispute_resolve, engagement=engagement, operator=self.operator, cancel=cancel
            )

    # --- What must hold -------------------------------------------------------------------

    @invariant()
    def no_more_usd_out_than_commission_in(self):
        redeemed = Redemption.objects.filter(status=RedemptionStatus.APPROVED).aggregate(total=Sum("usd_amount"))
        paid = Engagement.objects.filter(billing_status=BillingStatus.PAID).aggregate(
            total=Sum(F("commission_usd") - F("commission_credit_usd"))
        )
        usd_out, usd_in = redeemed["total"] or Decimal(0), paid["total"] or Decimal(0)
        assert usd_out <= usd_in * REWARD_RATIO, f"${usd_out} redeemed, ${usd_in} of commission paid"

    @invariant()
    def ledger_verifies(self):
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command("verify_ledger", stdout=out, stderr=err)
        except SystemExit:
            pytest.fail(err.getvalue())
        assert out.getvalue().startswith("Ledger OK"), err.getvalue()


@override_settings(POT_MIN_REDEMPTION=10)
def test_one_person_with_many_accounts_gets_no_more_usd_than_the_platform_received(db):
    # Transactional tests that ran before (live servers) flush the earning rules the migrations seeded.
    call_command("seed_pot", stdout=io.StringIO())
    MultiAccountMachine.approved_redemptions = 0
    MultiAccountMachine.refused_redemptions = Counter()
    MultiAccountMachine.categories = [
        make_category(name="planners", commission_rate=Decimal("0.20")),
        make_category(name="coaches", display_name="Coaches", commission_rate=Decimal("0.03")),
    ]
    MultiAccountMachine.operator = UserFactory(is_staff=True)
    run_state_machine_as_test(
        MultiAccountMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,  # the same examples on every run: CI is repeatable, and so is the count below
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    assert MultiAccountMachine.approved_redemptions > 0, (
        f"no example reached a redemption (refused: {dict(MultiAccountMachine.refused_redemptions)}): "
        "the property went untried"
    )


def test_profile_creation_pot_is_not_redeemable_beyond_the_commission_paid(operator):
    category = make_category(name="coaches", commission_rate=Decimal("0.03"))
    me = UserFactory(verified=True)
    seeker = make_seeker(category, user=me)  # 50 POT, promotional
    provider = make_provider(category, user=UserFactory(verified=True))  # my other account: 100 POT, promotional
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=me)
    matches.match_accept(match=match, user=provider.user)
    engagement = engagements.engagement_report(match=match, user=me, deal_value_usd="15000.00")
    engagement = engagements.engagement_confirm(engagement=engagement, user=provider.user)
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    engagements.engagement_mark_paid(engagement=engagement, operator=operator)  # $450 = 562 POT, all to bonuses
    summary = wallet_summary(user=provider.user)
    redeemed = pot.redemption_request(user=provider.user, pot_amount=summary.redeemable, payment_method="PayPal")
    assert redeemed.redemption.usd_amount <= Decimal("450.00")


def test_what_a_paid_commission_leaves_makes_sign_up_pot_redeemable_provider_first(operator):
    category = make_category(name="planners")  # 20%: a $1,000 deal pays $200 = 250 POT of budget
    me = UserFactory(verified=True)
    seeker = make_seeker(category, user=me)  # 50 POT, promotional
    provider = make_provider(category, user=UserFactory(verified=True))  # 100 POT, promotional
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=me)
    matches.match_accept(match=match, user=provider.user)
    engagement = engagements.engagement_report(match=match, user=me, deal_value_usd="1000.00")
    engagement = engagements.engagement_confirm(engagement=engagement, user=provider.user)
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    engagement = engagements.engagement_mark_paid(engagement=engagement, operator=operator)
    assert (engagement.provider_bonus_pot, engagement.seeker_bonus_pot) == (50, 100)  # 100 POT of budget left
    provider_wallet, seeker_wallet = wallet_summary(user=provider.user), wallet_summary(user=me)
    assert (provider_wallet.balance, provider_wallet.promotional_balance, provider_wallet.redeemable) == (150, 0, 150)
    assert (seeker_wallet.balance, seeker_wallet.promotional_balance, seeker_wallet.redeemable) == (150, 50, 100)
    assert engagement_pot_budget_left(engagement=engagement) == 0
    # Paying the same commission again is refused; the seeker's 50 POT wait for another paid commission.
    with pytest.raises(DomainError):
        engagements.engagement_mark_paid(engagement=engagement, operator=operator)
    assert wallet_summary(user=me).promotional_balance == 50


@override_settings(POT_MIN_REDEMPTION=10)
def test_both_accounts_cash_out_what_the_commission_paid_and_no_more(operator):
    category = make_category(name="planners")  # 20%: a $1,000 deal pays $200 of commission
    me = UserFactory(verified=True)
    seeker = make_seeker(category, user=me)
    provider = make_provider(category, user=UserFactory(verified=True))  # my other account
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=me)
    matches.match_accept(match=match, user=provider.user)
    engagement = engagements.engagement_report(match=match, user=me, deal_value_usd="1000.00")
    engagement = engagements.engagement_confirm(engagement=engagement, user=provider.user)
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    engagements.engagement_mark_paid(engagement=engagement, operator=operator)
    for account in (provider.user, me):
        everything = wallet_summary(user=account).redeemable
        redemption = pot.redemption_request(user=account, pot_amount=everything, payment_method="PayPal").redemption
        pot.redemption_approve(redemption_id=redemption.pk, operator=operator, payout_reference=f"PP-{redemption.pk}")
        with pytest.raises(DomainError):  # nothing more is redeemable: the seeker's 50 sign-up POT stay promotional
            pot.redemption_request(user=account, pot_amount=wallet_summary(user=account).balance, payment_method="x")
    paid_out = Redemption.objects.filter(status=RedemptionStatus.APPROVED).aggregate(total=Sum("usd_amount"))["total"]
    assert paid_out == Decimal("200.00")  # 250 POT x $0.80: every dollar of the commission, not one more
