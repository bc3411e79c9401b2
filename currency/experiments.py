"""Earning-rate experiments: which arm a person is in, and what an award pays them.

`award_amount` is the award path's one hook: `pot_award` asks it what a rule pays a person
instead of reading the rule's amount itself. Outside a running experiment that varies the
rule it is the rule's amount; for a person assigned to an arm it is the arm's share of it.
A cap the caller gives (an engagement's commission budget) still applies afterwards, so an
experiment never pays more than the budget allows.

Arms are assigned by a hash of the experiment and the user id: the same person always
lands in the same arm, whichever process assigns them.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from currency.models import EarningRule, Experiment, ExperimentArm, ExperimentAssignment

BUCKETS = 10_000  # arms' shares are whole percents: 100 buckets per percent


def bucket(*, experiment_id: int, user_id: int) -> int:
    """A stable number in [0, BUCKETS) for this person in this experiment."""
    digest = hashlib.sha256(f"experiment:{experiment_id}:user:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def arm_for(*, experiment_id: int, user_id: int, arms: Sequence[ExperimentArm]) -> ExperimentArm:
    """The arm this person gets: arms (in id order) take consecutive ranges of buckets by their share."""
    position = bucket(experiment_id=experiment_id, user_id=user_id)
    ordered = sorted(arms, key=lambda arm: arm.pk)
    upper = 0
    for arm in ordered:
        upper += arm.share_percent * BUCKETS // 100
        if position < upper:
            return arm
    return ordered[-1]  # shares add up to 100: only rounding can get here


@dataclass(frozen=True)
class AwardAmount:
    """What an award pays this person: the amount, the rule's normal amount, and the arm that set it."""

    amount: int
    normal: int
    arm: ExperimentArm | None = None


def award_amount(
    *, rule: EarningRule, user, deal_value_usd: Decimal | None = None, experiment_rule_ids: frozenset[int] | None = None
) -> AwardAmount:
    """What `rule` pays `user` now: the arm's amount in a running experiment varying it, else the rule's.

    One query, none when `experiment_rule_ids` (the rules that experiments not ended vary, see
    `selectors.PotRules.experiment_rule_ids`) is given and does not hold the rule.
    """
    normal = rule.pot_for(deal_value_usd)
    if experiment_rule_ids is not None and rule.pk not in experiment_rule_ids:
        return AwardAmount(amount=normal, normal=normal)
    assignment = (
        ExperimentAssignment.objects.filter(user_id=user.pk, experiment__rules=rule)
        .filter(Experiment.running_q(timezone.now(), prefix="experiment__"))
        .select_related("arm")
        .order_by("experiment_id")
        .first()
    )
    if assignment is None:
        return AwardAmount(amount=normal, normal=normal)
    return AwardAmount(amount=assignment.arm.pays(normal), normal=normal, arm=assignment.arm)
