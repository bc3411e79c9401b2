"""The refusals of community answers, and their codes (see `imatch.errors` for the shared ones)."""

from enum import StrEnum

from imatch.errors import Conflict, PermissionDenied


class ErrorCode(StrEnum):
    """Codes of the community app."""

    NOT_A_PROVIDER = "not_a_provider"  # answering needs a listed provider profile in the question's category
    OWN_QUESTION = "own_question"  # nobody answers their own question
    ALREADY_ANSWERED = "already_answered"  # one answer per provider and question
    NOT_THE_ASKER = "not_the_asker"  # only the asker accepts an answer
    ALREADY_ACCEPTED = "already_accepted"  # the question has its accepted answer, for good
    OWN_ANSWER = "own_answer"  # nobody votes for their own answer
    ALREADY_VOTED = "already_voted"  # one vote per person and answer
    ALREADY_REPORTED = "already_reported"  # the person's report of this waits for an operator


class NotAProvider(PermissionDenied):
    """Only a listed provider of the question's category answers it."""

    code = ErrorCode.NOT_A_PROVIDER


class NotTheAsker(PermissionDenied):
    """Only the person who asked accepts an answer."""

    code = ErrorCode.NOT_THE_ASKER


class OwnQuestion(Conflict):
    code = ErrorCode.OWN_QUESTION


class AlreadyAnswered(Conflict):
    code = ErrorCode.ALREADY_ANSWERED


class AlreadyAccepted(Conflict):
    code = ErrorCode.ALREADY_ACCEPTED


class OwnAnswer(Conflict):
    code = ErrorCode.OWN_ANSWER


class AlreadyVoted(Conflict):
    code = ErrorCode.ALREADY_VOTED


class AlreadyReported(Conflict):
    code = ErrorCode.ALREADY_REPORTED
