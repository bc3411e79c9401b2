"""Learning from outcomes (issue 16, item 7): fitting the weights, the command, the admin's "Apply"."""

import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from categories.models import Category
from imatch.errors import DomainError
from marketplace.matching.factors import FACTORS, Weights
from marketplace.matching.learning import (
    MIN_FITTED_WEIGHT,
    Outcome,
    fit_coefficients,
    fit_weights,
    grade,
    ndcg,
    propensity,
)
from marketplace.models import Match, MatchingWeightFit, MatchStatus
from marketplace.services.weight_fits import weights_fit, weights_fit_apply
from tests.marketplace.factories import CategoryFactory, ProviderFactory, SeekerFactory, UserFactory

BUDGET = FACTORS.index("budget")


def planted(favoured: int, *, seekers: int = 250, seed: int = 3) -> list[Outcome]:
    """Three matches shown per seeker; good outcomes follow one factor, seen less often lower down."""
    rng = random.Random(seed)
    outcomes = []
    for seeker_id in range(1, seekers + 1):
        for rank in (1, 2, 3):
            factors = tuple(rng.random() for _ in FACTORS)
            seen = rng.random() < propensity(rank)
            good = seen and rng.random() < factors[favoured] ** 3
            outcomes.append(Outcome(seeker_id, factors, rank, rng.choice((2, 3, 4)) if good else 0))
    return outcomes


def test_outcomes_favouring_one_factor_raise_its_weight():
    current = Weights()
    fit = fit_weights(planted(BUDGET), current)
    old_share = current.normalised()[BUDGET]
    assert fit.weights["budget"] > 2 * old_share
    assert fit.weights["budget"] == max(fit.weights.values())
    assert fit.ndcg_new > fit.ndcg_old  # on held-out seekers
    assert all(weight >= MIN_FITTED_WEIGHT for weight in fit.weights.values())  # every weight stays positive


def test_coefficients_are_never_negative_even_when_a_factor_hurts():
    rng = random.Random(5)
    outcomes = []
    for seeker_id in range(1, 100):
        for rank in (1, 2, 3):
            factors = tuple(rng.random() for _ in FACTORS)
            outcomes.append(Outcome(seeker_id, factors, rank, 4 if factors[0] < 0.3 else 0))  # need fit "hurts"
    coefficients = fit_coefficients(outcomes)
    assert coefficients[0] == 0.0 and min(coefficients) >= 0.0


def test_a_good_outcome_shown_low_teaches_more_than_one_shown_first():
    """Inverse propensity weighting: a success at rank 3 happened despite being seen less."""
    base = [o for i in range(1, 20) for o in (Outcome(i, (0.9,) + (0.5,) * 5, 1, 3), Outcome(i, (0.5,) * 6, 2, 0))]
    good, bad = (0.5, 0.9, 0.5, 0.5, 0.5, 0.5), (0.5,) * 6
    at_top = fit_coefficients([*base, Outcome(99, good, 1, 4), Outcome(99, bad, 3, 0)], steps=100)
    low_down = fit_coefficients([*base, Outcome(99, good, 3, 4), Outcome(99, bad, 1, 0)], steps=100)
    assert low_down[BUDGET] > at_top[BUDGET]


@pytest.mark.parametrize(
    ("status", "engagement", "stars", "skipped", "expected"),
    [
        ("suggested", None, None, False, None),
        ("suggested", None, None, True, 0),
        ("declined", None, None, False, 0),
        ("expired", None, None, False, 0),
        ("introduced", None, None, False, 1),
        ("accepted", None, None, False, 2),
        ("engaged", "confirmed", None, False, 3),
        ("engaged", "paid", 5, False, 4),
        ("engaged", "paid", 2, False, 3),
        ("engaged", "cancelled", None, False, 1),
    ],
)
def test_grades_of_what_happened(status, engagement, stars, skipped, expected):
    assert grade(status=status, engagement_status=engagement, seeker_stars=stars, skipped=skipped) == expected


def test_ndcg_is_one_when_the_weights_order_the_outcomes_perfectly():
    shown = [Outcome(1, (0.9,) * 6, 2, 4), Outcome(1, (0.1,) * 6, 1, 0)]
    assert ndcg(shown, Weights()) == pytest.approx(1.0)


# --- With the database ------------------------------------------------------------------


def _record(category: Category, *, seekers: int, favoured: int = BUDGET) -> None:
    """Shown matches with outcomes: the good ones have a high `favoured` factor."""
    providers = [ProviderFactory(category=category) for _ in range(3)]
    rng = random.Random(11)
    old = timezone.now() - timedelta(days=30)
    rows = []
    for _ in range(seekers):
        seeker = SeekerFactory(category=category)
        for rank, provider in enumerate(providers, start=1):
            factors = [round(rng.random(), 4) for _ in FACTORS]
            good = factors[favoured] > 0.6
            rows.append(
                Match(
                    seeker=seeker,
                    provider=provider,
                    category=category,
                    status=MatchStatus.ACCEPTED if good else MatchStatus.DECLINED,
                    score="0.5",
                    rank=rank,
                    breakdown=dict(zip(FACTORS, factors, strict=True)),
                )
            )
    Match.objects.bulk_create(rows)
    Match.objects.filter(category=category).update(created_at=old)


@pytest.fixture
def category(db):
    return CategoryFactory(name="coaches", active=True, matching_weights={"boost": 0.03})


@pytest.mark.django_db
def test_below_the_minimum_nothing_is_fitted(category, settings, capsys):
    settings.MATCHING_FIT_MIN_OUTCOMES = 100
    _record(category, seekers=10)  # 30 outcomes
    call_command("fit_matching_weights", "--category", "coaches")
    assert "Not fitted: 30 outcomes, the minimum is 100." in capsys.readouterr().out
    assert not MatchingWeightFit.objects.exists()


@pytest.mark.django_db
def test_a_dry_run_prints_the_fit_and_writes_nothing(category, settings, capsys):
    settings.MATCHING_FIT_MIN_OUTCOMES = 30
    _record(category, seekers=40)
    call_command("fit_matching_weights", "--category", "coaches", "--dry-run")
    out = capsys.readouterr().out
    assert "budget" in out and "held-out NDCG: old" in out and "Dry run: nothing stored." in out
    assert not MatchingWeightFit.objects.exists()
    assert Category.objects.get(pk=category.pk).matching_weights == {"boost": 0.03}


@pytest.mark.django_db
def test_a_fit_is_stored_and_an_operator_applies_it_within_the_bounds(category, settings, operator):
    settings.MATCHING_FIT_MIN_OUTCOMES = 30
    _record(category, seekers=40)
    report = weights_fit(category=category)
    fit = report.row
    assert fit is not None and fit.applied_at is None and fit.outcomes == 120
    assert fit.weights["budget"] == max(fit.weights.values())
    assert Category.objects.get(pk=category.pk).matching_weights == {"boost": 0.03}  # not applied yet

    with pytest.raises(DomainError):
        weights_fit_apply(fit=fit, operator=UserFactory())  # not staff
    applied = weights_fit_apply(fit=fit, operator=operator)

    assert applied.matching_weights == {**fit.weights, "boost": 0.03}  # the category's boost is kept
    Weights.from_overrides(applied.matching_weights)  # within the bounds
    fit.refresh_from_db()
    assert fit.applied_at is not None and fit.applied_by == operator


@pytest.mark.django_db
def test_the_admin_lists_fits_and_applies_one(category, settings, operator, client, django_assert_max_num_queries):
    settings.MATCHING_FIT_MIN_OUTCOMES = 30
    _record(category, seekers=40)
    for _ in range(3):
        weights_fit(category=category)
    client.force_login(operator)
    url = reverse("admin:marketplace_matchingweightfit_changelist")
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.status_code == 200 and "Apply these weights" in page.content.decode()
    fit = MatchingWeightFit.objects.first()
    response = client.post(url, {"action": "apply_weights", "_selected_action": [fit.pk]}, follow=True)
    assert "now matches with the weights of fit" in response.content.decode()
    assert Category.objects.get(pk=category.pk).matching_weights["budget"] == fit.weights["budget"]
