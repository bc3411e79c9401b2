"""Rating awards are promotional POT paid only from a paid commission, within the engagement's budget.

Issue 9: two accounts of one person reported a $1 deal, confirmed it and rated each other 5
stars: 220 POT (~$176) with no commission paid. Money tests: also run on PostgreSQL.
"""

import pytest

from currency.models import PotTransaction
from currency.selectors import wallet_summary
from marketplace.models import Rating
from marketplace.services import engagements, ratings
from marketplace.services.budget import engagement_pot_awarded, engagement_pot_budget_left
from tests.currency.factories import balance_of
from tests.marketplace.loop import confirmed_engagement, make_category

pytestmark = pytest.mark.django_db


def _rating_rows():
    return PotTransaction.objects.filter(reference_type="rating", transaction_type="earn")


def _pay(engagement, operator):
    engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
    return engagements.engagement_mark_paid(engagement=engagement, operator=operator)


def _rate_each_other(engagement, stars=5):
    ratings.rating_create(engagement=engagement, user=engagement.seeker.user, stars=stars)
    ratings.rating_create(engagement=engagement, user=engagement.provider.user, stars=stars)


def test_two_accounts_rating_each_other_on_a_dollar_deal_mint_nothing(operator):
    engagement = confirmed_engagement("1.00")  # one person's two accounts
    accounts = engagement.seeker.user, engagement.provider.user
    before = [balance_of(account) for account in accounts]
    _rate_each_other(engagement)
    assert Rating.objects.count() == 2  # the ratings are recorded at once
    assert [balance_of(account) for account in accounts] == before and not _rating_rows().exists()
    _pay(engagement, operator)  # $0.20 commission: not one whole POT of budget
    assert [balance_of(account) for account in accounts] == before and not _rating_rows().exists()


def test_ratings_given_before_payment_are_paid_with_the_commission_within_the_budget(operator):
    engagement = confirmed_engagement("1000.00")  # 20%: $200 commission = 250 POT of budget
    _rate_each_other(engagement)
    assert not _rating_rows().exists()
    engagement = _pay(engagement, operator)
    assert (engagement.provider_bonus_pot, engagement.seeker_bonus_pot) == (50, 100)  # bonuses first: 100 left
    seeker_rating, provider_rating = Rating.objects.order_by("pk")
    paid = {(row.idempotency_key, row.amount, row.promotional_amount) for row in _rating_rows()}
    assert paid == {
        (f"award:{ratings.rating_given_cause(seeker_rating.pk)}", 10, 0),
        (f"award:{ratings.rating_five_star_cause(seeker_rating.pk)}", 90, 0),  # cut to what was left
    }
    assert engagement_pot_awarded(engagement=engagement) == 250
    assert engagement_pot_budget_left(engagement=engagement) == 0
    assert provider_rating.pk  # its awards found no budget left: not paid, not written
    # Nothing was left for the sign-up POT of either side: it stays promotional (not redeemable).
    assert not PotTransaction.objects.filter(transaction_type="release").exists()
    assert wallet_summary(user=engagement.provider.user).promotional_balance == 100


def test_a_rating_after_payment_is_paid_at_once_and_each_award_once(operator):
    engagement = _pay(confirmed_engagement("10000.00"), operator)  # 2,500 POT budget, 600 in bonuses
    seeker_user, provider_user = engagement.seeker.user, engagement.provider.user
    before = balance_of(seeker_user), balance_of(provider_user)
    ratings.rating_create(engagement=engagement, user=seeker_user, stars=5)
    assert (balance_of(seeker_user) - before[0], balance_of(provider_user) - before[1]) == (10, 100)
    assert ratings.rating_awards_pay(engagement=engagement) == 0  # already paid: once per cause
    assert _rating_rows().count() == 2
    assert all(row.promotional_amount == 0 for row in _rating_rows())


def test_rating_pot_is_earned_pot_because_the_commission_paid_for_it(operator):
    engagement = _pay(confirmed_engagement("10000.00", make_category(commission_rate="0.50")), operator)
    seeker_user = engagement.seeker.user
    before = wallet_summary(user=seeker_user)
    ratings.rating_create(engagement=engagement, user=seeker_user, stars=4)
    row = _rating_rows().get()
    assert (row.amount, row.promotional_amount, row.reference_type) == (10, 0, "rating")
    after = wallet_summary(user=seeker_user)
    assert (after.balance, after.promotional_balance) == (before.balance + 10, before.promotional_balance)
