"""Pro, the providers' premium tier: buying, renewing, refusals, the Pro rate and its saving cap."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from categories.models import Category
from currency.errors import IdempotencyConflict, InsufficientPot, SpendOptionUnavailable
from currency.models import Purchase, SpendEffect
from currency.selectors import featured_or_pro_user_ids, pro_ends_at, pro_user_ids
from currency.services import pot_spend
from marketplace.errors import NoProCategory, NotAProvider
from marketplace.services import engagements, matches
from marketplace.services.pro import pro_buy
from tests.currency.factories import balance_of, pot_fund
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import accepted_match, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db

PRICE = 500  # fixtures/spend_options.json pro_monthly


def _verify_ledger() -> None:
    call_command("verify_ledger", stdout=io.StringIO(), stderr=io.StringIO())


def _pro_category(**fields) -> Category:
    return make_category(**{"pro_commission_rate": Decimal("0.17"), **fields})


def _provider_user(category=None, pot: int = PRICE):
    provider = make_provider(category or _pro_category())
    if pot:
        pot_fund(provider.user, pot)
    return provider.user


def test_buying_pro_burns_the_price_and_starts_30_days_of_pro():
    user = _provider_user()
    before = balance_of(user)
    result = pro_buy(user=user, idempotency_key="k1", confirmed_cost=PRICE)
    purchase = result.purchase
    assert purchase.effect == SpendEffect.PRO_TIER
    assert purchase.ends_at - purchase.starts_at == timedelta(days=30)
    assert purchase.credit_usd == Decimal(PRICE) * settings.POT_USD_RATE  # the saving cap: $400
    assert before - balance_of(user) == PRICE
    assert pro_user_ids(user_ids=[user.pk]) == {user.pk}
    assert pro_ends_at(user_id=user.pk) == purchase.ends_at
    _verify_ledger()


def test_renewing_while_pro_extends_from_the_current_end():
    user = _provider_user(pot=2 * PRICE)
    first = pro_buy(user=user, idempotency_key="k1").purchase
    second = pro_buy(user=user, idempotency_key="k2").purchase
    assert second.starts_at == first.ends_at
    assert pro_ends_at(user_id=user.pk) == first.ends_at + timedelta(days=30)


def test_a_retry_with_the_same_key_charges_once():
    user = _provider_user(pot=2 * PRICE)
    before = balance_of(user)
    first = pro_buy(user=user, idempotency_key="same")
    again = pro_buy(user=user, idempotency_key="same")
    assert again.replayed and again.purchase.pk == first.purchase.pk
    assert before - balance_of(user) == PRICE
    assert Purchase.objects.filter(user=user, effect=SpendEffect.PRO_TIER).count() == 1


def test_the_same_key_for_another_spend_is_a_conflict():
    user = _provider_user(pot=2 * PRICE)
    pro_buy(user=user, idempotency_key="same")
    with pytest.raises(IdempotencyConflict):
        pot_spend(user=user, option_key="profile_boost", idempotency_key="same")


def test_refused_for_a_person_without_a_provider_profile():
    user = UserFactory(account_type="provider")
    pot_fund(user, PRICE)
    with pytest.raises(NotAProvider):
        pro_buy(user=user, idempotency_key="k")
    assert balance_of(user) == PRICE


def test_refused_when_no_category_of_the_person_offers_pro():
    user = _provider_user(make_category(pro_commission_rate=None))
    before = balance_of(user)
    with pytest.raises(NoProCategory):
        pro_buy(user=user, idempotency_key="k")
    assert balance_of(user) == before


def test_refused_with_too_few_pot_and_nothing_written():
    user = _provider_user(pot=0)
    before = balance_of(user)
    assert before < PRICE
    with pytest.raises(InsufficientPot):
        pro_buy(user=user, idempotency_key="k")
    assert not Purchase.objects.filter(user=user).exists()
    assert balance_of(user) == before


def test_the_generic_spend_refuses_pro():
    user = _provider_user()
    before = balance_of(user)
    with pytest.raises(SpendOptionUnavailable):
        pot_spend(user=user, option_key="pro_monthly")
    assert balance_of(user) == before


def test_the_database_refuses_a_pro_rate_above_the_rate():
    category = make_category()
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.filter(pk=category.pk).update(pro_commission_rate=Decimal("0.21"))


def test_the_form_refuses_a_pro_rate_above_the_rate():
    from django.core.exceptions import ValidationError

    category = make_category()
    category.pro_commission_rate = Decimal("0.25")
    with pytest.raises(ValidationError) as error:
        category.full_clean()
    assert "pro_commission_rate" in error.value.message_dict


# --- The Pro rate at confirmation ---------------------------------------------------------


def _report(category, provider_user_pot: int = PRICE):
    match = accepted_match(category)
    pot_fund(match.provider.user, provider_user_pot)
    return match


def _engagement(match, deal_value: str):
    return engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd=deal_value)


def test_an_engagement_confirmed_while_pro_snapshots_the_pro_rate():
    category = _pro_category()
    match = _report(category)
    pro_buy(user=match.provider.user, idempotency_key="k")
    engagement = engagements.engagement_confirm(engagement=_engagement(match, "1000.00"), user=match.provider.user)
    assert engagement.commission_rate == Decimal("0.17")
    assert engagement.commission_usd == Decimal("170.00")
    assert engagement.pro_saving_usd == Decimal("30.00")
    _verify_ledger()


def test_pro_that_ended_a_second_before_confirmation_gives_the_normal_rate():
    category = _pro_category()
    match = _report(category)
    purchase = pro_buy(user=match.provider.user, idempotency_key="k").purchase
    ended = timezone.now() - timedelta(seconds=1)
    Purchase.objects.filter(pk=purchase.pk).update(starts_at=ended - timedelta(days=30), ends_at=ended)
    engagement = engagements.engagement_confirm(engagement=_engagement(match, "1000.00"), user=match.provider.user)
    assert (engagement.commission_rate, engagement.commission_usd) == (Decimal("0.20"), Decimal("200.00"))
    assert engagement.pro_saving_usd == 0


def test_one_person_with_two_accounts_saves_at_most_the_pot_s_usd_value():
    """Promotional POT buys Pro for one huge deal between two accounts of one person.

    Without a cap, 3 points of a $1,000,000 deal would save $30,000 for 500 POT ($400).
    The period saves at most its price at the redemption rate: the POT is worth exactly what
    it saves, as a commission credit would be; the commission still pays for every bonus.
    """
    category = _pro_category()
    match = _report(category)
    pro_buy(user=match.provider.user, idempotency_key="k")
    engagement = engagements.engagement_confirm(engagement=_engagement(match, "1000000.00"), user=match.provider.user)
    cap = Decimal(PRICE) * settings.POT_USD_RATE
    assert engagement.pro_saving_usd == cap
    assert engagement.commission_usd == Decimal("200000.00") - cap
    # The period's saving is used up: a second deal in the same period saves nothing more.
    assert Purchase.objects.get(user=match.provider.user, effect=SpendEffect.PRO_TIER).credit_remaining_usd == 0
    _verify_ledger()


def test_a_cancelled_engagement_gives_its_saving_back_to_the_period():
    """Cancelled, an engagement is charged nothing: the saving it took is free for the period's next deal."""
    category = _pro_category()
    match = _report(category)
    user = match.provider.user
    pro_buy(user=user, idempotency_key="k")
    engagement = engagements.engagement_confirm(engagement=_engagement(match, "1000000.00"), user=user)
    period = Purchase.objects.get(user=user, effect=SpendEffect.PRO_TIER)
    assert period.credit_remaining_usd == 0
    engagements.engagement_cancel(engagement=engagement, user=match.seeker.user, reason="The deal fell through")
    engagement = engagements.engagement_cancel(engagement=engagement, user=user)  # the other side agrees
    period.refresh_from_db()
    assert engagement.status == "cancelled" and engagement.pro_saving_usd == 0
    assert period.credit_used_usd == 0  # given back once: cancelling cannot run twice
    second = _pro_category(name="second", display_name="Second")
    make_provider(second, user=user)
    [next_match] = matches.match_run_for_seeker(seeker=make_seeker(second))
    matches.match_introduce(match=next_match, user=next_match.seeker.user)
    next_match = matches.match_accept(match=next_match, user=user)
    again = engagements.engagement_confirm(engagement=_engagement(next_match, "1000000.00"), user=user)
    assert again.pro_saving_usd == period.credit_usd  # the whole cap again
    _verify_ledger()


def test_a_category_without_pro_charges_the_normal_rate_to_a_pro_provider():
    category = make_category(name="nopro", display_name="No Pro", pro_commission_rate=None)
    match = _report(category)
    other = _pro_category(name="withpro", display_name="With Pro")
    make_provider(other, user=match.provider.user)
    pro_buy(user=match.provider.user, idempotency_key="k")
    engagement = engagements.engagement_confirm(engagement=_engagement(match, "1000.00"), user=match.provider.user)
    assert (engagement.commission_rate, engagement.pro_saving_usd) == (Decimal("0.20"), 0)


# --- Matching: a bounded lift ---------------------------------------------------------------


def test_pro_providers_get_the_featured_near_tie_lift_only():
    from marketplace.matching.factors import Ranked, promote_featured

    user = _provider_user()
    pro_buy(user=user, idempotency_key="k")
    assert featured_or_pro_user_ids(user_ids=[user.pk]) == {user.pk}
    boost = 0.05
    # A clearly better fit (more than the boost band ahead) stays ahead of the Pro provider…
    clearly_better = [
        Ranked(score=0.90, need=0.9, budget=1.0, rating=4.5, featured=False),
        Ranked(score=0.70, need=0.7, budget=1.0, rating=4.5, featured=True),
    ]
    assert promote_featured(clearly_better, boost) == [0, 1]
    # …a near-tie is won by the Pro provider.
    near_tie = [
        Ranked(score=0.72, need=0.7, budget=1.0, rating=4.5, featured=False),
        Ranked(score=0.70, need=0.7, budget=1.0, rating=4.5, featured=True),
    ]
    assert promote_featured(near_tie, boost) == [1, 0]
