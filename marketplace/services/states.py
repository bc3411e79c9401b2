"""Refusals shared by the core loop's services: a transition the table forbids, the wrong side."""

from collections.abc import Mapping

from imatch.errors import DomainError, PermissionDenied


class InvalidTransition(DomainError):
    """The object is not in a state that allows this action (e.g. confirming twice)."""

    code = "invalid_transition"


class WrongSide(PermissionDenied):
    """The person is part of the match or engagement, but this action belongs to the other side."""

    code = "wrong_side"


def check_transition(
    table: Mapping[str, frozenset[str]], current: str, target: str, *, message: str, labels: Mapping[str, str]
) -> None:
    """Refuse a move the transition table does not allow, saying what the state is."""
    if target not in table.get(current, frozenset()):
        raise InvalidTransition(f"{message} It is {labels.get(current, current).lower()}.", field="status")
