"""The arithmetic of experiment results: a difference of two proportions with its confidence interval.

Pure Python (the standard library's `statistics.NormalDist`), no Django: the selectors give
it counts. The interval is Wald's for a difference of proportions; the test of "no
difference" uses the pooled proportion. Both are the usual normal approximations, sound
once each arm has some tens of users and some successes, which the minimum sample enforces.
"""

from dataclasses import dataclass
from math import sqrt
from statistics import NormalDist

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Difference:
    """An arm's proportion minus the control's, with its confidence interval and p-value."""

    arm: float
    control: float
    low: float
    high: float
    p_value: float

    @property
    def difference(self) -> float:
        return self.arm - self.control

    @property
    def significant(self) -> bool:
        """The interval leaves out 0: at this confidence the arm differs from the control."""
        return self.low > 0 or self.high < 0


def proportion_difference(
    *, arm_successes: int, arm_total: int, control_successes: int, control_total: int, confidence: float = CONFIDENCE
) -> Difference | None:
    """The difference of the arm's proportion and the control's; None when an arm has nobody."""
    if arm_total <= 0 or control_total <= 0:
        return None
    p_arm = arm_successes / arm_total
    p_control = control_successes / control_total
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    spread = sqrt(p_arm * (1 - p_arm) / arm_total + p_control * (1 - p_control) / control_total)
    pooled = (arm_successes + control_successes) / (arm_total + control_total)
    pooled_spread = sqrt(pooled * (1 - pooled) * (1 / arm_total + 1 / control_total))
    # Everyone (or no one) succeeded in both arms: no evidence of a difference (p = 1).
    z_score = abs(p_arm - p_control) / pooled_spread if pooled_spread else 0.0
    p_value = 2 * (1 - NormalDist().cdf(z_score))
    difference = p_arm - p_control
    return Difference(
        arm=p_arm, control=p_control, low=difference - z * spread, high=difference + z * spread, p_value=p_value
    )
