"""Writes on ratings: each side of a confirmed engagement rates the other once.

A rating's POT awards (the rater's, and the rated person's for 5 stars) are promotional and
paid only once the engagement's commission is paid, within what is left of the engagement's
POT budget (`marketplace.services.budget`): a rating given before that is recorded at once
and its awards wait for `engagement_mark_paid` (`rating_awards_pay`); one given after it is
paid at once. Each award is paid at most once (its cause is the rating), and an award the
budget cut to 0 is not paid later.

Ratings of a cancelled engagement stop counting in the provider's average, and their POT
awards are taken back (`ratings_of_cancelled_engagement`, called by the engagement services).
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count

from currency.services import pot_award, pot_award_reverse
from imatch.errors import DomainError
from imatch.errors import ErrorCode as CommonCode
from imatch.text import clean_text
from marketplace import emails, selectors
from marketplace.errors import AlreadyRated, ErrorCode, InvalidTransition, WrongSide
from marketplace.models import (
    ENGAGEMENT_RATEABLE_STATUSES,
    BillingStatus,
    Engagement,
    EngagementStatus,
    Provider,
    RatedRole,
    Rating,
    User,
)
from marketplace.services.budget import engagement_pot_budget_left
from marketplace.services.lists import lists_forget_around
from marketplace.services.streaks import streak_action_recorded

REVIEW_MAX = 5000


def rating_given_cause(rating_id: int) -> str:
    return f"rating_given:rating:{rating_id}"


def rating_five_star_cause(rating_id: int) -> str:
    return f"rating_five_star_received:rating:{rating_id}"


@transaction.atomic
def rating_create(*, engagement: Engagement, user: User, stars, review: str = "") -> Rating:
    """Rate the other side of a confirmed engagement (1-5 stars); a provider's average updates at once.

    The rating's POT awards are paid now if the commission is paid (within the engagement's
    budget), else when it is (`rating_awards_pay`).
    """
    engagement = (
        Engagement.objects.select_for_update(of=("self",))  # the budget is spent under this lock
        .select_related("seeker__user", "provider__user")
        .get(pk=engagement.pk)
    )
    if user.pk == engagement.seeker.user_id:
        rated, role = engagement.provider.user, RatedRole.PROVIDER
    elif user.pk == engagement.provider.user_id:
        rated, role = engagement.seeker.user, RatedRole.SEEKER
    else:
        raise WrongSide("Only the seeker and the provider of an engagement rate it.")
    if rated.pk == user.pk:
        raise DomainError("You cannot rate yourself.", code=ErrorCode.SELF_RATING)
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise DomainError("Give 1 to 5 stars.", field="stars", code=ErrorCode.INVALID_STARS)
    review = clean_text(review)
    if len(review) > REVIEW_MAX:
        raise DomainError(f"Keep the review under {REVIEW_MAX} characters.", field="review", code=CommonCode.TOO_LONG)
    if engagement.status not in ENGAGEMENT_RATEABLE_STATUSES:
        raise InvalidTransition("You can rate once the engagement is confirmed.", field="engagement")
    already = AlreadyRated("You already rated this engagement.", field="engagement")
    if Rating.objects.filter(engagement=engagement, rater=user).exists():
        raise already
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                engagement=engagement,
                rater=user,
                rated=rated,
                rated_role=role,
                provider=engagement.provider,
                stars=stars,
                review=review,
            )
    except IntegrityError as error:  # a concurrent request rated first
        raise already from error
    if role == RatedRole.PROVIDER:
        provider_rating_refresh(provider_id=engagement.provider_id)
    if engagement.billing_status == BillingStatus.PAID:
        _rating_award_pay(engagement=engagement, rating=rating)
    emails.rating_received(rating)
    streak_action_recorded(user=user)
    return rating


def _rating_award_pay(*, engagement: Engagement, rating: Rating) -> int:
    """Pay one rating's awards within what is left of the engagement's budget (the rater's first); the POT paid."""
    paid = 0
    awards = [("rating_given", rating.rater, rating_given_cause(rating.pk))]
    if rating.stars == 5:
        awards.append(("rating_five_star_received", rating.rated, rating_five_star_cause(rating.pk)))
    for rule_key, person, cause in awards:
        row = pot_award(
            user=person,
            rule_key=rule_key,
            cause=cause,
            reference_type="rating",
            reference_id=rating.pk,
            max_amount=engagement_pot_budget_left(engagement=engagement),
        )
        paid += row.amount if row else 0
    return paid


def rating_awards_pay(*, engagement: Engagement) -> int:
    """Pay the awards of the engagement's ratings that waited for its commission (oldest rating first).

    Called by `engagement_mark_paid` under the engagement's lock, after the bonuses and the
    referral awards; each award at most once, cut to the budget left. Returns the POT paid.
    """
    ratings = Rating.objects.filter(engagement_id=engagement.pk).select_related("rater", "rated").order_by("pk")
    return sum(_rating_award_pay(engagement=engagement, rating=rating) for rating in ratings)


def ratings_of_cancelled_engagement(*, engagement: Engagement, reason: str) -> None:
    """A cancelled engagement's ratings stop counting and their POT awards are reversed (once per award).

    Runs inside the cancelling service's transaction, after the engagement is saved as cancelled.
    """
    rating_ids = list(Rating.objects.filter(engagement=engagement).order_by("pk").values_list("pk", flat=True))
    for rating_id in rating_ids:
        pot_award_reverse(cause=rating_given_cause(rating_id), reason=reason)
        pot_award_reverse(cause=rating_five_star_cause(rating_id), reason=reason)
    if rating_ids:
        provider_rating_refresh(provider_id=engagement.provider_id)


def provider_rating_refresh(*, provider_id: int) -> None:
    """Recompute a provider's average and count from their ratings (row locked); cancelled engagements do not count."""
    provider = Provider.objects.select_for_update().get(pk=provider_id)
    summary = (
        Rating.objects.filter(provider_id=provider_id, rated_role=RatedRole.PROVIDER)
        .exclude(engagement__status=EngagementStatus.CANCELLED)
        .aggregate(avg=Avg("stars"), count=Count("id"))
    )
    provider.rating_avg = Decimal(str(summary["avg"] or 0)).quantize(Decimal("0.01"))
    provider.rating_count = summary["count"]
    provider.save(update_fields=["rating_avg", "rating_count", "updated_at"])
    lists_forget_around(provider_ids=[provider_id])  # the rating shows in the matches lists
    selectors.directory_changed()  # the directory's order and its minimum-rating filter
