"""Levels from the POT a person earned over time (pure: no ORM)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    number: int
    name: str
    min_earned: int
    next_name: str | None
    next_at: int | None

    def as_dict(self, lifetime_earned: int) -> dict:
        return {
            "number": self.number,
            "name": self.name,
            "lifetime_pot_earned": lifetime_earned,
            "next_level": self.next_name,
            "next_level_at": self.next_at,
        }


# (lifetime POT earned at least, name) in increasing order.
LEVELS: tuple[tuple[int, str], ...] = (
    (0, "Newcomer"),
    (100, "Member"),
    (500, "Bronze"),
    (1_500, "Silver"),
    (5_000, "Gold"),
    (15_000, "Platinum"),
)


def level_for(lifetime_earned: int) -> Level:
    """The level reached with this much POT earned (monotone: earning more never lowers it)."""
    index = 0
    for position, (threshold, _) in enumerate(LEVELS):
        if lifetime_earned >= threshold:
            index = position
    threshold, name = LEVELS[index]
    following = LEVELS[index + 1] if index + 1 < len(LEVELS) else None
    return Level(
        number=index + 1,
        name=name,
        min_earned=threshold,
        next_name=following[1] if following else None,
        next_at=following[0] if following else None,
    )
