"""The matching weights a category may override, defined once. Pure Python: no Django import.

A category's `matching_weights` JSON overrides the engine's defaults: a relative weight
per factor, and the Featured boost. `categories.models` validates what operators type
with these bounds, and the matching engine (`marketplace.matching.factors`, which imports
no ORM) weighs with them, so the two can never disagree on a key or a bound.
"""

FACTORS = (
    "need",
    "budget",
    "location",
    "quality",
    "capacity",
    "responsiveness",
)  # the weighted factors, in the engine's order
MAX_WEIGHT = 100  # a factor's weight is relative: any number in (0, MAX_WEIGHT]
MAX_BOOST = 0.15  # the score gap a Featured provider may bridge among near-ties (see the engine's band)
MIN_RADIUS_KM = 1  # a seeker's "within N km", and a category's default for it
MAX_RADIUS_KM = 500
