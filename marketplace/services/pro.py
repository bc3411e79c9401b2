"""Pro, the providers' premium tier: buying (and renewing) a period, and the commission it saves.

A person is Pro while a `pro_tier` purchase's window runs (`currency.Purchase`); Pro is per
person, not per profile: one price covers every provider profile they have (the badge is on
the person, and the matching lift and the Pro rate apply in each of their categories that
offers Pro). Renewal is explicit: the person presses "Renew", which buys the next period
starting where the current one ends; nothing is ever charged automatically.

Commission: an engagement confirmed while the provider is Pro is charged the category's
`pro_commission_rate`, but one Pro period saves at most its own price at the redemption
rate (500 POT x $0.80 = $400 by default). So POT spent on Pro (promotional POT included)
never cuts more commission than the same POT would pay as a commission credit: buying Pro
for one big deal saves no more than the POT is worth.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from categories.models import Category
from currency.models import Purchase, SpendEffect
from currency.services import SpendResult, pot_spend, pro_saving_return, pro_saving_take
from marketplace import emails
from marketplace.errors import NoProCategory, NotAProvider
from marketplace.models import Engagement, Provider, User

PRO_OPTION_KEY = "pro_monthly"
CENT = Decimal("0.01")


def pro_categories(*, user: User) -> list[Category]:
    """The categories of the person's provider profiles that offer Pro."""
    return list(
        Category.objects.filter(providers__user=user, pro_commission_rate__isnull=False).distinct().order_by("pk")
    )


def pro_buy(*, user: User, idempotency_key: str | None = None, confirmed_cost: int | None = None) -> SpendResult:
    """Buy (or renew) one Pro period: it starts now, or where the running period ends.

    Refused: a person with no provider profile, one whose categories offer no Pro, too few
    POT, a changed price. A retry with the same Idempotency-Key charges nothing again.
    """
    if not Provider.objects.filter(user=user).exists():
        raise NotAProvider("Pro is for providers: create a provider profile first.", field="option")
    if not Category.objects.filter(providers__user=user, pro_commission_rate__isnull=False).exists():
        raise NoProCategory("None of your categories offers Pro yet.", field="option")
    return pot_spend(
        user=user,
        option_key=PRO_OPTION_KEY,
        idempotency_key=idempotency_key,
        confirmed_cost=confirmed_cost,
        allow_pro=True,
    )


def pro_commission_apply(engagement: Engagement, *, full_commission: Decimal, commission_for) -> None:
    """At confirmation: a Pro provider's engagement gets the Pro rate, within the period's saving cap.

    Sets `commission_rate`, `commission_usd` and `pro_saving_usd`; the normal rate when the
    provider is not Pro at `confirmed_at` (a period ended a second before does not count),
    when the category offers no Pro, or when the period's saving is used up.
    """
    category = engagement.category
    pro_rate = category.pro_commission_rate
    engagement.pro_saving_usd = Decimal("0.00")
    if pro_rate is None or pro_rate >= category.commission_rate:
        return
    wanted = full_commission - commission_for(engagement.deal_value_usd, pro_rate)
    saved = pro_saving_take(user_id=engagement.provider.user_id, at=engagement.confirmed_at, saving_usd=wanted)
    if saved <= 0:
        return
    engagement.commission_rate = pro_rate
    engagement.commission_usd = (full_commission - saved).quantize(CENT)
    engagement.pro_saving_usd = saved


def pro_saving_release(engagement: Engagement) -> None:
    """At cancellation: the engagement is charged nothing, so its Pro saving goes back to its period's cap."""
    if engagement.pro_saving_usd > 0 and engagement.confirmed_at is not None:
        pro_saving_return(
            user_id=engagement.provider.user_id, at=engagement.confirmed_at, saving_usd=engagement.pro_saving_usd
        )
    engagement.pro_saving_usd = Decimal("0.00")


def pro_expiry_notify(*, now=None) -> int:
    """Tell each provider whose Pro ends within PRO_EXPIRY_NOTICE_DAYS (email + in-app), once per period.

    Only the last of back-to-back periods counts (a renewed Pro is not ending). Each period is
    claimed by an UPDATE of its `expiry_notified_at`: a task run twice (or two workers) tells
    the person once. Returns how many were told.
    """
    now = now or timezone.now()
    horizon = now + timedelta(days=settings.PRO_EXPIRY_NOTICE_DAYS)
    renewed = Purchase.objects.filter(
        user_id=OuterRef("user_id"), effect=SpendEffect.PRO_TIER, starts_at=OuterRef("ends_at")
    )
    ending = (
        Purchase.objects.filter(
            effect=SpendEffect.PRO_TIER, expiry_notified_at__isnull=True, ends_at__gt=now, ends_at__lte=horizon
        )
        .exclude(Exists(renewed))
        .select_related("user")
        .order_by("ends_at")
    )
    told = 0
    for purchase in ending:
        with transaction.atomic():
            claimed = Purchase.objects.filter(pk=purchase.pk, expiry_notified_at__isnull=True).update(
                expiry_notified_at=now
            )
            if claimed:
                emails.pro_expiring(purchase.user, ends_at=purchase.ends_at)
                told += claimed
    return told
