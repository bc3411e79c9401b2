"""Fitting a category's matching weights from outcomes, and an operator applying a fit."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from categories.models import Category, validate_matching_weights
from imatch.errors import DomainError
from imatch.errors import ErrorCode as CommonCode
from marketplace import selectors
from marketplace.candidates import category_rules
from marketplace.matching.factors import FACTORS, Weights
from marketplace.matching.learning import Fit, fit_weights
from marketplace.models import MatchingWeightFit, User


@dataclass(frozen=True)
class FitReport:
    """What `weights_fit` did: the fit (None when not fitted), why not, and the row it stored (None on a dry run)."""

    category: Category
    outcomes: int
    old_weights: dict[str, float]
    fit: Fit | None = None
    refusal: str = ""
    row: MatchingWeightFit | None = None


def weights_fit(*, category: Category, dry_run: bool = False, now: datetime | None = None) -> FitReport:
    """Fit the category's weights from its match outcomes; store the fit unless `dry_run` (weights unchanged).

    Never fits below `MATCHING_FIT_MIN_OUTCOMES` shown matches with a known outcome, nor
    when every outcome is alike (all good or all bad: nothing to learn from).
    """
    now = now or timezone.now()
    current = category_rules(category).weights
    old = {name: round(value, 4) for name, value in zip(FACTORS, current.normalised(), strict=True)}
    outcomes = selectors.match_outcomes(category=category, now=now)
    minimum = settings.MATCHING_FIT_MIN_OUTCOMES
    report = FitReport(category=category, outcomes=len(outcomes), old_weights=old)
    if len(outcomes) < minimum:
        return FitReport(
            **{**report.__dict__, "refusal": f"Not fitted: {len(outcomes)} outcomes, the minimum is {minimum}."}
        )
    if len({o.grade > 0 for o in outcomes}) < 2:
        return FitReport(**{**report.__dict__, "refusal": "Not fitted: every outcome is alike, nothing to learn."})
    fit = fit_weights(outcomes, current)
    row = None
    if not dry_run:
        row = MatchingWeightFit.objects.create(
            category=category,
            weights=fit.weights,
            previous_weights=old,
            metrics={
                "ndcg_old": fit.ndcg_old,
                "ndcg_new": fit.ndcg_new,
                "train": fit.train,
                "held_out": fit.held_out,
                "coefficients": list(fit.coefficients),
            },
            outcomes=len(outcomes),
        )
    return FitReport(**{**report.__dict__, "fit": fit, "row": row})


@transaction.atomic
def weights_fit_apply(*, fit: MatchingWeightFit, operator: User) -> Category:
    """Write a stored fit's weights to its category (keeping the category's boost); staff only."""
    if not operator.is_staff:
        raise DomainError("Only operators apply matching weights.", code=CommonCode.PERMISSION_DENIED)
    fit = MatchingWeightFit.objects.select_for_update().get(pk=fit.pk)
    category = Category.objects.select_for_update().get(pk=fit.category_id)
    weights = {name: fit.weights[name] for name in FACTORS if name in fit.weights}
    boost = (category.matching_weights or {}).get("boost")
    if boost is not None:
        weights["boost"] = boost
    try:
        validate_matching_weights(weights)  # the bounds of categories.matching_weights
        Weights.from_overrides(weights)
        if set(weights) - {"boost"} != set(FACTORS):
            raise ValidationError("The fit does not name every factor.")
    except (ValidationError, ValueError) as error:
        raise DomainError(f"These weights cannot be applied: {error}", code=CommonCode.INVALID) from error
    category.matching_weights = weights
    category.save(update_fields=["matching_weights"])
    fit.applied_at = timezone.now()
    fit.applied_by = operator
    fit.save(update_fields=["applied_at", "applied_by"])
    return category
