"""The state machine check shared by the core loop's services: refuse a transition the table forbids."""

from collections.abc import Mapping

from marketplace.errors import InvalidTransition


def check_transition(
    table: Mapping[str, frozenset[str]], current: str, target: str, *, message: str, labels: Mapping[str, str]
) -> None:
    """Refuse a move the transition table does not allow, saying what the state is."""
    if target not in table.get(current, frozenset()):
        raise InvalidTransition(f"{message} It is {labels.get(current, current).lower()}.", field="status")
