"""Fitting a category's factor weights from what happened to its matches. Pure Python: no ORM import.

Each shown match is one example: its six factors as the engine recorded them, the rank at
which it was shown, and a grade of what followed (`grade`): skipped, declined or left to
expire 0, introduction asked 1, accepted 2, engagement 3, engagement rated 4 or 5 stars 4.

The model is a pairwise logistic regression (RankNet-like, linear): within each seeker,
each match with a good outcome is paired with every other shown match, and the probability
that it wins is the logistic of the weighted difference of their factors. The weights are **non-negative**
(monotone: a better factor never lowers the score), fitted by projected gradient descent.
Pairwise, because the engine only orders one seeker's candidates: what differs between
seekers (some answer every match, some none) cancels out. It is written here by
hand rather than taken from scikit-learn: scikit-learn's LogisticRegression cannot constrain
the signs of its coefficients, the engine must stay importable without a compiled stack
(numpy is not a dependency), and a few thousand examples of six features fit in well
under a second in plain Python.

Position bias: a match shown first is looked at more often than one shown third, so its
good outcome says less about its factors. Each pair is weighted by the inverse of the
propensity of the good match's rank, (1 / rank) ** POSITION_BIAS_POWER, capped at
MAX_IPS_WEIGHT (inverse propensity weighting, as in propensity-weighted ranking SVMs).

The fitted coefficients, normalised to sum to 1 and floored at MIN_FITTED_WEIGHT (the
engine needs every weight positive), become the new weights; ranking only depends on their
ratios. Offline metric: NDCG of held-out seekers' outcomes (every HOLDOUT_EVERY-th seeker by
id is never fitted on) when their shown matches are ordered by the old or the new weights.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from marketplace.matching.factors import FACTORS, Weights, combine

MAX_GRADE = 4
POSITION_BIAS_POWER = 1.0
MAX_IPS_WEIGHT = 10.0
MIN_FITTED_WEIGHT = 0.01
HOLDOUT_EVERY = 5  # seekers whose id is a multiple of this are held out for the offline metric
L2 = 1e-3
STEPS = 300
LEARNING_RATE = 4.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """One shown match: the seeker, its factors (in FACTORS order), the rank shown, the grade of what followed."""

    seeker_id: int
    factors: tuple[float, ...]
    rank: int
    grade: int


@dataclass(frozen=True, slots=True)
class Fit:
    """The result of `fit_weights`: new weights (FACTORS → weight, summing to about 1) and offline metrics."""

    weights: dict[str, float]
    ndcg_old: float
    ndcg_new: float
    train: int
    held_out: int
    coefficients: tuple[float, ...]


def grade(
    *, status: str, engagement_status: str | None = None, seeker_stars: int | None = None, skipped: bool = False
) -> int | None:
    """What happened to a shown match, as a relevance grade; None while it is still open.

    `status` is the match's status; a suggestion the seeker never acted on counts as 0
    only once it is old (`skipped`), before that it is still open.
    """
    if status == "engaged":
        if engagement_status == "cancelled":
            return 1
        return 4 if seeker_stars is not None and seeker_stars >= 4 else 3
    if status == "accepted":
        return 2
    if status == "introduced":
        return 1
    if status in ("declined", "expired"):
        return 0
    if status == "suggested":
        return 0 if skipped else None
    return None


def propensity(rank: int) -> float:
    return (1.0 / max(1, rank)) ** POSITION_BIAS_POWER


def split(outcomes: Iterable[Outcome]) -> tuple[list[Outcome], list[Outcome]]:
    """(train, held out): by seeker, so no seeker's matches are in both."""
    train, held = [], []
    for outcome in outcomes:
        (held if outcome.seeker_id % HOLDOUT_EVERY == 0 else train).append(outcome)
    return train, held


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def preference_pairs(outcomes: Sequence[Outcome]) -> list[tuple[tuple[float, ...], float]]:
    """Within each seeker, each match with a good outcome against every other shown match: (x_good - x_other, weight).

    The weight is the grade (over MAX_GRADE) times the inverse propensity of the good
    one's rank (capped): a good outcome shown third says more than one shown first. Every
    other match counts, whatever its own outcome (two good ones make a pair each way):
    leaving out the pairs of two good ones would teach that the matches shown first, seen
    more often and so more often good, are better (the propensity-weighted ranking
    estimator of Joachims, Swaminathan and Schnabel, 2017).
    """
    by_seeker: dict[int, list[Outcome]] = {}
    for outcome in outcomes:
        by_seeker.setdefault(outcome.seeker_id, []).append(outcome)
    pairs = []
    for shown in by_seeker.values():
        for index, good in enumerate(shown):
            if good.grade <= 0:
                continue
            weight = min(MAX_IPS_WEIGHT, 1.0 / propensity(good.rank)) * good.grade / MAX_GRADE
            for other_index, other in enumerate(shown):
                if other_index != index:
                    difference = tuple(a - b for a, b in zip(good.factors, other.factors, strict=True))
                    pairs.append((difference, weight))
    return pairs


def fit_coefficients(outcomes: Sequence[Outcome], *, steps: int = STEPS) -> tuple[float, ...]:
    """Non-negative coefficients of the IPS-weighted pairwise logistic model (projected gradient descent).

    Minimises sum over pairs of weight x log(1 + e^(-w . (x_better - x_worse))) + L2 |w|^2 / 2,
    projecting w onto w >= 0 after each step (monotone: no factor may count against a match).
    """
    n_features = len(FACTORS)
    pairs = preference_pairs(outcomes)
    total = sum(weight for _, weight in pairs) or 1.0
    w = [1.0] * n_features
    for _ in range(steps):
        grad = [0.0] * n_features
        for x, weight in pairs:
            margin = sum(wi * xi for wi, xi in zip(w, x, strict=True))
            d = -weight * (1.0 - _sigmoid(margin))
            for i in range(n_features):
                grad[i] += d * x[i]
        w = [max(0.0, wi - LEARNING_RATE * (gi / total + L2 * wi)) for wi, gi in zip(w, grad, strict=True)]
    return tuple(w)


def weights_from_coefficients(coefficients: Sequence[float]) -> dict[str, float]:
    """Normalised to sum to 1, each at least MIN_FITTED_WEIGHT (the engine wants every weight positive)."""
    total = sum(coefficients)
    if total <= 0:
        shares = [1.0 / len(coefficients)] * len(coefficients)
    else:
        shares = [max(MIN_FITTED_WEIGHT, c / total) for c in coefficients]
    norm = sum(shares)
    return {name: max(MIN_FITTED_WEIGHT, round(share / norm, 4)) for name, share in zip(FACTORS, shares, strict=True)}


def ndcg(outcomes: Sequence[Outcome], weights: Weights) -> float:
    """Mean NDCG over seekers (with at least one good outcome) of their shown matches ordered by these weights.

    Position-debiased: each outcome's gain is divided by the propensity of the rank it was
    shown at, otherwise the order that was shown (the old weights') would look best only
    because its first matches were seen the most.
    """
    normalised = weights.normalised()
    by_seeker: dict[int, list[Outcome]] = {}
    for outcome in outcomes:
        by_seeker.setdefault(outcome.seeker_id, []).append(outcome)
    values = []
    for shown in by_seeker.values():
        ideal = sorted((_gain(o) for o in shown), reverse=True)
        best = _dcg(ideal)
        if best <= 0:
            continue
        ordered = sorted(shown, key=lambda o: (-combine(o.factors, normalised), o.rank))
        values.append(_dcg([_gain(o) for o in ordered]) / best)
    return sum(values) / len(values) if values else 0.0


def _gain(outcome: Outcome) -> float:
    return (2**outcome.grade - 1) * min(MAX_IPS_WEIGHT, 1.0 / propensity(outcome.rank))


def _dcg(gains: Sequence[float]) -> float:
    return sum(gain / math.log2(position + 2) for position, gain in enumerate(gains))


def fit_weights(outcomes: Sequence[Outcome], current: Weights) -> Fit:
    """Fit on the training seekers, compare old and new weights on the held-out ones."""
    train, held = split(outcomes)
    coefficients = fit_coefficients(train)
    fitted = weights_from_coefficients(coefficients)
    new = Weights(**fitted, boost=current.boost)
    return Fit(
        weights=fitted,
        ndcg_old=round(ndcg(held, current), 4),
        ndcg_new=round(ndcg(held, new), 4),
        train=len(train),
        held_out=len(held),
        coefficients=tuple(round(c, 4) for c in coefficients),
    )


def factors_of(breakdown: Mapping[str, object]) -> tuple[float, ...] | None:
    """A stored breakdown as the engine's factor tuple; None when a factor is missing (an older match)."""
    try:
        return tuple(float(breakdown[name]) for name in FACTORS)
    except (KeyError, TypeError, ValueError):
        return None
