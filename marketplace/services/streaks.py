"""Writes on streaks: pay a streak's bonuses once the action that reached them commits.

The services of the actions that count (`match_accept` / `match_decline` by the provider within
24 hours, `rating_create`, community's `answer_accept` with an award) call
`streak_action_recorded`; after their commit, `streak_bonuses_pay` computes the person's streak
from the facts (`marketplace.selectors.streak_action_weeks`) and pays each bonus it reached.

Once per streak and length: the award's cause names the streak by its first week
(`streak_bonus_4_weeks:user:<id>:from:<Monday>`), so retries and concurrent actions claim the
same ledger key; a bonus of that length paid since the streak's first week also counts as paid
(a streak whose early weeks stopped counting, e.g. a cancelled engagement's rating, does not pay
again). A broken and rebuilt streak has a new first week and can earn again, at most
STREAK_BONUSES_PER_YEAR bonuses in any 365 days. The bonuses are promotional POT.
"""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from currency.models import PotTransaction
from currency.selectors import awards_since
from currency.services import pot_award
from imatch.weeks import calendar_week_start
from marketplace import selectors
from marketplace.models import User
from marketplace.streaks import BONUS_RULES

log = logging.getLogger(__name__)

STREAK_BONUS_CAUSE_PREFIX = "streak_bonus_"  # every streak bonus cause starts so (the yearly limit counts them)
BONUS_YEAR = timedelta(days=365)


def streak_bonus_cause(*, weeks: int, user_id: int, start: date) -> str:
    return f"{BONUS_RULES[weeks]}:user:{user_id}:from:{start.isoformat()}"


def streak_action_recorded(*, user: User) -> None:
    """The person did something that may count for a streak: check their bonuses after the commit.

    After the commit, so the action is what the check reads, and a failure of the check (logged)
    never undoes the action; the next action checks again.
    """
    transaction.on_commit(lambda: streak_bonuses_pay(user=user), robust=True)


@transaction.atomic
def streak_bonuses_pay(*, user: User) -> list[PotTransaction]:
    """Pay the bonuses the person's current streak reached and has not been paid; returns the new rows."""
    now = timezone.now()
    # One person's checks run one at a time: the yearly limit is counted, then awarded.
    User.objects.select_for_update().filter(pk=user.pk).first()
    streak = selectors.streaks_of_people(user_ids=[user.pk], now=now)[user.pk]
    rows = []
    for weeks in streak.bonuses_due:
        start = calendar_week_start(streak.start)
        if awards_since(user_id=user.pk, cause_prefix=f"{BONUS_RULES[weeks]}:user:{user.pk}:", since=start):
            continue  # paid for this streak already
        if awards_since(user_id=user.pk, cause_prefix=STREAK_BONUS_CAUSE_PREFIX, since=now - BONUS_YEAR) >= (
            settings.STREAK_BONUSES_PER_YEAR
        ):
            log.info("User %s: %s-week streak, but the yearly streak bonus limit is reached", user.pk, weeks)
            break
        row = pot_award(
            user=user,
            rule_key=BONUS_RULES[weeks],
            cause=streak_bonus_cause(weeks=weeks, user_id=user.pk, start=streak.start),
            reference_type="streak",
        )
        if row is not None:
            rows.append(row)
    return rows
