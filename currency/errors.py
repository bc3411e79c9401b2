"""The refusals of the POT ledger, wallet, spending and redemptions, and their codes.

Listed once here (see `imatch.errors` for the shared ones); services raise these classes,
or a base error with one of these codes where the refusal concerns a single input.
"""

from enum import StrEnum

from imatch.errors import Conflict, DomainError


class ErrorCode(StrEnum):
    """Codes of the currency app."""

    INSUFFICIENT_POT = "insufficient_pot"  # the balance is too small
    UNKNOWN_OPTION = "unknown_option"  # no such spend option, or switched off
    WRONG_AUDIENCE = "wrong_audience"  # the option is for the other role
    PRICE_CHANGED = "price_changed"  # the cost changed since the person confirmed it
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"  # same key, different request
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"  # empty or longer than 120 characters
    NOT_WHOLE = "not_whole"  # POT is a whole number
    BELOW_MINIMUM = "below_minimum"  # a redemption under the minimum
    ALREADY_DECIDED = "already_decided"  # the redemption was approved or rejected before
    ZERO = "zero"  # an adjustment of 0 POT
    NOT_REDEEMABLE = "not_redeemable"  # promotional POT no commission paid for yet, or an unverified email
    DEBT_OPEN = "debt_open"  # the person owes POT: redemptions wait until it is settled
    NOT_APPROVED = "not_approved"  # only an approved redemption is marked paid
    EXPERIMENT_ARMS = "experiment_arms"  # not 2+ arms, not exactly one control, shares not adding up to 100
    EXPERIMENT_NO_RULES = "experiment_no_rules"  # an experiment varies at least one earning rule
    EXPERIMENT_OVERLAP = "experiment_overlap"  # another experiment varies the same rule at the same time
    EXPERIMENT_STARTED = "experiment_started"  # its arms, rules and start are fixed once it started
    EXPERIMENT_ENDED = "experiment_ended"  # ended before


class InsufficientPot(DomainError):
    """The posting would take a balance below zero."""

    code = ErrorCode.INSUFFICIENT_POT


class SpendOptionUnavailable(DomainError):
    """No such spend option, or it is switched off."""

    code = ErrorCode.UNKNOWN_OPTION


class WrongAudience(DomainError):
    """The spend option is for the other role (e.g. a boost for a seeker-only account)."""

    code = ErrorCode.WRONG_AUDIENCE


class PriceChanged(Conflict):
    """The option's cost changed since the person confirmed it."""

    code = ErrorCode.PRICE_CHANGED


class AlreadyDecided(Conflict):
    """The redemption was approved or rejected before (e.g. two operators clicked)."""

    code = ErrorCode.ALREADY_DECIDED


class IdempotencyConflict(Conflict):
    """The Idempotency-Key was used before for a different request."""

    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class NotRedeemable(DomainError):
    """The POT asked for is not redeemable yet: the email is not verified, or it is promotional
    POT that no paid commission has paid for yet (the message says which)."""

    code = ErrorCode.NOT_REDEEMABLE


class DebtOpen(DomainError):
    """The person owes POT (a reversal found too small a balance): redemptions wait until it is settled."""

    code = ErrorCode.DEBT_OPEN


class RedemptionNotApproved(Conflict):
    """Only an approved redemption (with its payout reference) can be marked paid, once."""

    code = ErrorCode.NOT_APPROVED


class ExperimentInvalid(DomainError):
    """An experiment's definition does not hold (its arms, its rules, an overlap): the message says what."""

    code = ErrorCode.EXPERIMENT_ARMS


class ExperimentStarted(Conflict):
    """The experiment started: its arms, rules and start date are fixed (end it and start another)."""

    code = ErrorCode.EXPERIMENT_STARTED


class ExperimentEnded(Conflict):
    """The experiment was ended before."""

    code = ErrorCode.EXPERIMENT_ENDED
