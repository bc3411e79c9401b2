"""Earning-rate experiments: deterministic arms, the award hook, the budget cap, ending, refusals, results."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from currency import experiments, services
from currency.errors import ErrorCode
from currency.models import EarningRule, Experiment, ExperimentArm, ExperimentAssignment, ExperimentAward
from currency.selectors import pot_rules_forget
from currency.services import ArmPlan, pot_award
from marketplace.services.profiles import user_register
from operations import selectors
from operations.statistics import proportion_difference
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_seeker

pytestmark = pytest.mark.django_db


def _experiment(*rule_keys: str, arms=(("control", True, 50, 100), ("double", False, 50, 200)), **fields):
    now = timezone.now()
    experiment = Experiment.objects.create(
        name=fields.pop("name", "Seeker sign-up bonus"),
        starts_at=fields.pop("starts_at", now - timedelta(hours=1)),
        **fields,
    )
    experiment.rules.set(EarningRule.objects.filter(key__in=rule_keys or ["profile_creation_seeker"]))
    for name, control, share, pays in arms:
        ExperimentArm.objects.create(
            experiment=experiment, name=name, control=control, share_percent=share, pot_percent=pays
        )
    return experiment


def _assign(experiment, user, arm_name: str) -> ExperimentAssignment:
    return ExperimentAssignment.objects.create(experiment=experiment, user=user, arm=experiment.arms.get(name=arm_name))


# --- Assignment -------------------------------------------------------------------------


def test_assignment_is_a_stable_hash_of_experiment_and_user_split_by_the_shares():
    arms = [ExperimentArm(pk=1, name="a", share_percent=20), ExperimentArm(pk=2, name="b", share_percent=80)]
    first = [experiments.arm_for(experiment_id=7, user_id=user_id, arms=arms).name for user_id in range(4000)]
    again = [experiments.arm_for(experiment_id=7, user_id=user_id, arms=arms[::-1]).name for user_id in range(4000)]
    assert first == again  # same person, same arm, whatever order the arms come in
    assert 700 < Counter(first)["a"] < 900  # about 20% of 4,000
    other = [experiments.arm_for(experiment_id=8, user_id=user_id, arms=arms).name for user_id in range(4000)]
    assert first != other  # each experiment splits people its own way


def test_people_who_sign_up_while_it_runs_are_assigned_once():
    UserFactory()  # signed up before: not in the experiment
    experiment = _experiment()
    _experiment("rating_given", name="Rating thanks", starts_at=timezone.now() + timedelta(days=1))  # not yet
    person = user_register(email="new@example.com", password="a-long-passphrase-1", name="New Person")
    [assignment] = ExperimentAssignment.objects.filter(user=person)
    arms = list(experiment.arms.all())
    assert assignment.arm == experiments.arm_for(experiment_id=experiment.pk, user_id=person.pk, arms=arms)
    services.experiment_assign(user=person)  # a second call keeps the first assignment
    assert ExperimentAssignment.objects.filter(user=person).count() == 1
    assert ExperimentAssignment.objects.count() == 1


# --- The award path ----------------------------------------------------------------------


def test_awards_of_a_varied_rule_pay_the_arms_amount_and_record_the_arm():
    experiment = _experiment()
    control, double, outsider = UserFactory(), UserFactory(), UserFactory()
    _assign(experiment, control, "control")
    _assign(experiment, double, "double")
    assert pot_award(user=control, rule_key="profile_creation_seeker", cause="c").amount == 50
    row = pot_award(user=double, rule_key="profile_creation_seeker", cause="d")
    assert row.amount == 100 and row.promotional_amount == 100
    award = ExperimentAward.objects.get(transaction=row)
    assert (award.arm.name, award.normal_amount) == ("double", 50)
    assert pot_award(user=outsider, rule_key="profile_creation_seeker", cause="o").amount == 50
    # A rule the experiment does not vary pays its normal amount, arm or not.
    assert pot_award(user=double, rule_key="rating_given", cause="r").amount == 10
    assert ExperimentAward.objects.count() == 2  # the control's and the double arm's varied awards


def test_an_experiment_never_raises_a_capped_award_beyond_its_budget():
    experiment = _experiment("rating_given", arms=(("control", True, 50, 100), ("ten times", False, 50, 1000)))
    person = UserFactory()
    _assign(experiment, person, "ten times")
    row = pot_award(user=person, rule_key="rating_given", cause="rating:1", max_amount=40)
    assert row.amount == 40  # the arm would pay 100; the engagement's budget left is 40
    assert "capped at 40 of 100 POT" in row.note


def test_ending_returns_everyone_to_the_normal_amounts_and_keeps_the_history(admin_user):
    experiment = _experiment()
    person = UserFactory()
    _assign(experiment, person, "double")
    pot_award(user=person, rule_key="profile_creation_seeker", cause="before")
    services.experiment_end(experiment_id=experiment.pk, operator=admin_user)
    assert pot_award(user=person, rule_key="profile_creation_seeker", cause="after").amount == 50
    assert ExperimentAssignment.objects.filter(experiment=experiment).count() == 1
    assert ExperimentAward.objects.filter(arm__experiment=experiment).count() == 1
    with pytest.raises(services.ExperimentEnded) as refused:
        services.experiment_end(experiment_id=experiment.pk, operator=admin_user)
    assert refused.value.code == ErrorCode.EXPERIMENT_ENDED


def test_a_stop_date_in_the_past_ends_it_too():
    experiment = _experiment(starts_at=timezone.now() - timedelta(days=10), ends_at=timezone.now() - timedelta(days=1))
    person = UserFactory()
    _assign(experiment, person, "double")
    assert pot_award(user=person, rule_key="profile_creation_seeker", cause="late").amount == 50


# --- Refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arms", "message"),
    [
        ([ArmPlan("control", True, 100, 100)], "two or more arms"),
        ([ArmPlan("a", False, 50, 100), ArmPlan("b", False, 50, 200)], "exactly one arm as the control"),
        ([ArmPlan("a", True, 50, 100), ArmPlan("b", True, 50, 100)], "exactly one arm as the control"),
        ([ArmPlan("a", True, 50, 150), ArmPlan("b", False, 50, 200)], "control arm pays today's amounts"),
        ([ArmPlan("a", True, 50, 100), ArmPlan("b", False, 40, 200)], "add up to 90%, not 100%"),
        ([ArmPlan("a", True, 50, 100), ArmPlan("a", False, 50, 200)], "its own name"),
    ],
)
def test_arms_that_cannot_split_new_users_are_refused(arms, message):
    with pytest.raises(services.ExperimentInvalid) as refused:
        services.experiment_arms_check(arms=arms)
    assert message in refused.value.message and refused.value.code == ErrorCode.EXPERIMENT_ARMS


def test_rules_are_refused_when_none_when_another_experiment_varies_them_or_once_started():
    running = _experiment()
    planned = Experiment(name="Later", starts_at=timezone.now() + timedelta(days=1))
    with pytest.raises(services.ExperimentInvalid) as none:
        services.experiment_rules_check(experiment=planned, rules=[])
    assert none.value.code == ErrorCode.EXPERIMENT_NO_RULES and none.value.field == "rules"
    seeker_rule = EarningRule.objects.get(key="profile_creation_seeker")
    with pytest.raises(services.ExperimentInvalid) as overlap:
        services.experiment_rules_check(experiment=planned, rules=[seeker_rule])
    assert overlap.value.code == ErrorCode.EXPERIMENT_OVERLAP and "Seeker sign-up bonus" in overlap.value.message
    services.experiment_rules_check(experiment=planned, rules=[EarningRule.objects.get(key="rating_given")])
    with pytest.raises(services.ExperimentStarted) as started:
        services.experiment_rules_check(experiment=running, rules=[seeker_rule])
    assert started.value.code == ErrorCode.EXPERIMENT_STARTED


# --- Results -----------------------------------------------------------------------------


def test_results_per_arm_with_hand_computed_figures():
    experiment = _experiment()
    category = make_category()
    people = {"control": [UserFactory() for _ in range(4)], "double": [UserFactory() for _ in range(2)]}
    for arm, users in people.items():
        for user in users:
            _assign(experiment, user, arm)
    for user in people["control"][:1] + people["double"]:
        make_seeker(category, user=user)  # profile: 50 POT in the control, 100 in the double arm
    results = selectors.experiment_results(experiment=experiment, minimum_per_arm=100)
    control, double = results.arms
    assert (control.users, control.pot_earned, control.pot_per_user) == (4, 50, Decimal("12.5"))
    assert (double.users, double.pot_earned, double.pot_per_user) == (2, 200, Decimal("100.0"))
    profile = {arm.arm.name: next(m for m in arm.metrics if m.key == "profile") for arm in results.arms}
    assert (profile["control"].count, profile["control"].share_display) == (1, "25.0%")
    assert (profile["double"].count, profile["double"].share_display) == (2, "100.0%")
    assert profile["control"].difference is None
    expected = proportion_difference(arm_successes=2, arm_total=2, control_successes=1, control_total=4)
    assert profile["double"].difference == expected
    assert round(expected.difference, 4) == 0.75
    active = next(m for m in double.metrics if m.key == "active_week_1")
    assert active.count == 2 and next(m for m in double.metrics if m.key == "active_week_2").count == 0
    assert results.verdict.startswith("Not enough data yet: the smallest arm has 2 of the 100 users")
    decided = selectors.experiment_results(experiment=experiment, minimum_per_arm=2)
    assert "no clear difference from the control" in decided.verdict


def test_the_two_proportion_interval_matches_the_textbook_formula():
    result = proportion_difference(arm_successes=60, arm_total=200, control_successes=40, control_total=200)
    assert round(result.difference, 4) == 0.1
    half_width = 1.959964 * ((0.3 * 0.7 / 200 + 0.2 * 0.8 / 200) ** 0.5)
    assert abs(result.low - (0.1 - half_width)) < 1e-6 and abs(result.high - (0.1 + half_width)) < 1e-6
    assert result.significant and 0.01 < result.p_value < 0.03  # z = 2.31 with the pooled proportion
    assert proportion_difference(arm_successes=0, arm_total=0, control_successes=1, control_total=2) is None


# --- Admin -------------------------------------------------------------------------------


def _add_form(**overrides) -> dict:
    rule = EarningRule.objects.get(key="rating_given")
    start = timezone.localtime() + timedelta(days=1)
    data = {
        "name": "Rating thanks x2",
        "hypothesis": "More raters",
        "rules": [rule.pk],
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "arms-TOTAL_FORMS": "2",
        "arms-INITIAL_FORMS": "0",
        "arms-MIN_NUM_FORMS": "0",
        "arms-MAX_NUM_FORMS": "1000",
        "arms-0-name": "control",
        "arms-0-control": "on",
        "arms-0-share_percent": "50",
        "arms-0-pot_percent": "100",
        "arms-1-name": "double",
        "arms-1-share_percent": "50",
        "arms-1-pot_percent": "200",
    }
    return {**data, **overrides}


def test_operators_define_an_experiment_in_the_admin(admin_client):
    response = admin_client.post(reverse("admin:currency_experiment_add"), _add_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    experiment = Experiment.objects.get(name="Rating thanks x2")
    assert sorted(experiment.arms.values_list("name", "pot_percent")) == [("control", 100), ("double", 200)]


def test_the_admin_shows_refusals_next_to_the_arms_and_the_rules(admin_client):
    _experiment("rating_given", name="Running rating test")
    response = admin_client.post(reverse("admin:currency_experiment_add"), _add_form(**{"arms-1-share_percent": "30"}))
    page = response.content.decode()
    assert response.status_code == 200 and "add up to 80%, not 100%" in page
    assert "Running rating test" in page  # the overlap, next to the rules
    assert not Experiment.objects.filter(name="Rating thanks x2").exists()


def test_ending_from_the_admin_and_the_results_page(admin_client, django_assert_num_queries):
    experiment = _experiment()
    for arm in ("control", "double", "double"):
        _assign(experiment, UserFactory(), arm)
    url = reverse("admin:currency_experiment_results", args=[experiment.pk])
    admin_client.get(url)
    with django_assert_num_queries(6):
        page = admin_client.get(url).content.decode()
    assert 'id="experiment-results"' in page and "Not enough data yet" in page and "(control)" in page
    done = admin_client.post(
        reverse("admin:currency_experiment_changelist"),
        {"action": "end_experiments", "_selected_action": [experiment.pk]},
        follow=True,
    )
    assert "Ended 1 experiment." in done.content.decode()
    experiment.refresh_from_db()
    assert experiment.ended_at is not None
    assert admin_client.get(reverse("admin:currency_experiment_results", args=[999999])).status_code == 404


# --- Kept with the rules per process -------------------------------------------------------


@pytest.fixture
def rules_kept(settings):
    """Production's per-process copy of the rules and of the rules experiments vary (tests read them each time)."""
    settings.POT_RULES_CACHE_SECONDS = 30
    pot_rules_forget()
    yield
    pot_rules_forget()


def test_an_experiment_saved_in_the_admin_changes_this_process_s_awards_at_once(admin_client, rules_kept):
    person = UserFactory()
    assert pot_award(user=person, rule_key="rating_given", cause="before").amount == 10  # no experiment: no lookup
    start = timezone.localtime() - timedelta(minutes=1)
    form = _add_form(**{"starts_at_0": start.strftime("%Y-%m-%d"), "starts_at_1": start.strftime("%H:%M:%S")})
    assert admin_client.post(reverse("admin:currency_experiment_add"), form).status_code == 302
    _assign(Experiment.objects.get(name="Rating thanks x2"), person, "double")
    assert pot_award(user=person, rule_key="rating_given", cause="after").amount == 20


def test_an_experiment_ended_by_another_process_pays_the_normal_amount_at_once(rules_kept):
    experiment = _experiment("rating_given")
    person = UserFactory()
    _assign(experiment, person, "double")
    assert pot_award(user=person, rule_key="rating_given", cause="during").amount == 20
    Experiment.objects.filter(pk=experiment.pk).update(ended_at=timezone.now())  # another process's operator
    assert pot_award(user=person, rule_key="rating_given", cause="after").amount == 10
