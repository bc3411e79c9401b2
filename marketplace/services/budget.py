"""An engagement's POT budget: what its paid commission may still pay out in POT.

No engagement pays out more than it brought in. Everything it causes to be paid out (its
bonuses, the referral awards its payment releases, the awards of its ratings, the `release`
rows that make each side's promotional POT redeemable) is written with a reference to the
engagement or to one of its ratings, so the budget left is the paid commission at the
redemption rate, less those rows. Services that pay from it hold the engagement's row lock,
so two payments never spend the same budget.
"""

from django.db.models import Q, Sum

from currency.models import PotTransaction, TransactionType
from currency.selectors import usd_to_pot_floor
from marketplace.models import BillingStatus, Engagement, EngagementStatus, Rating


def engagement_pot_awarded(*, engagement: Engagement) -> int:
    """POT already paid out because of this engagement: awards referring to it or its ratings, and the
    promotional POT it released (reversals not counted)."""
    rating_ids = Rating.objects.filter(engagement_id=engagement.pk).values("pk")
    totals = PotTransaction.objects.filter(
        Q(reference_type="engagement", reference_id=engagement.pk)
        | Q(reference_type="rating", reference_id__in=rating_ids),
        transaction_type__in=[TransactionType.EARN, TransactionType.RELEASE],
    ).aggregate(
        earned=Sum("amount", filter=Q(transaction_type=TransactionType.EARN)),
        released=Sum("promotional_amount", filter=Q(transaction_type=TransactionType.RELEASE)),  # negative
    )
    return (totals["earned"] or 0) - (totals["released"] or 0)


def engagement_pot_budget_left(*, engagement: Engagement) -> int:
    """POT the engagement may still pay out: its paid commission at the redemption rate, less what it paid.

    0 until the commission is paid, and for a cancelled engagement.
    """
    if engagement.billing_status != BillingStatus.PAID or engagement.status == EngagementStatus.CANCELLED:
        return 0
    return max(0, usd_to_pot_floor(engagement.amount_due_usd) - engagement_pot_awarded(engagement=engagement))
