"""Badges: what a person has earned, computed from facts about them, never granted by hand.

Pure Python (no Django): `growth.selectors.people_facts` gathers the facts for a page of
people; the rules here decide, and each badge carries its rule in words, shown on hover and
on the badges page.
"""

from dataclasses import dataclass, field

from marketplace.matching.factors import bayesian_rating

TOP_RATED_MIN_RATING = 4.7
TOP_RATED_MIN_RATINGS = 10
RISING_STAR_ENGAGEMENTS = 3
RISING_STAR_DAYS = 90
CONNECTOR_ACTIVATED_REFERRALS = 5
MULTI_CATEGORY_CATEGORIES = 2
EARLY_ADOPTER_DAYS = 30
HELPFUL_ACCEPTED_ANSWERS = 10
AUTHOR_PUBLISHED_ARTICLES = 3


@dataclass(frozen=True)
class Badge:
    key: str
    name: str
    rule: str


@dataclass(frozen=True)
class ProviderRating:
    """One provider profile's rating average and count."""

    average: float
    count: int


@dataclass
class PersonFacts:
    """What the badge rules look at for one person."""

    license_verified: bool = False
    ratings: list[ProviderRating] = field(default_factory=list)
    early_engagements: int = 0  # engagements confirmed as a provider within RISING_STAR_DAYS of joining
    activated_referrals: int = 0
    categories: set[int] = field(default_factory=set)  # categories of their seeker and provider profiles
    early_adopter: bool = False  # a profile within EARLY_ADOPTER_DAYS of its category's launch
    accepted_answers: int = 0  # community answers of theirs that the asker accepted
    published_articles: int = 0  # articles of the content library published, all their provider profiles
    pro: bool = False  # a Pro period (bought with POT, renewed by hand) runs now


VERIFIED = Badge("verified", "Verified", "An operator verified the person's professional license.")
TOP_RATED = Badge(
    "top_rated",
    "Top Rated",
    f"A provider profile with a Bayesian rating of {TOP_RATED_MIN_RATING} or more from at least "
    f"{TOP_RATED_MIN_RATINGS} ratings (a few ratings are pulled towards the average).",
)
RISING_STAR = Badge(
    "rising_star",
    "Rising Star",
    f"{RISING_STAR_ENGAGEMENTS} or more engagements confirmed as a provider in the first {RISING_STAR_DAYS} days "
    "after joining (cancelled ones do not count).",
)
CONNECTOR = Badge(
    "connector",
    "Connector",
    f"{CONNECTOR_ACTIVATED_REFERRALS} or more referred people who created a profile.",
)
MULTI_CATEGORY = Badge(
    "multi_category",
    "Multi-category",
    f"Profiles (seeker or provider) in {MULTI_CATEGORY_CATEGORIES} or more categories.",
)
EARLY_ADOPTER = Badge(
    "early_adopter",
    "Early Adopter",
    f"A profile created within {EARLY_ADOPTER_DAYS} days of its category's launch.",
)
HELPFUL = Badge(
    "helpful",
    "Helpful",
    f"{HELPFUL_ACCEPTED_ANSWERS} or more community answers accepted by the people who asked "
    "(hidden ones do not count).",
)
AUTHOR = Badge(
    "author",
    "Author",
    f"{AUTHOR_PUBLISHED_ARTICLES} or more articles published in the content library.",
)
PRO = Badge(
    "pro",
    "Pro",
    "A provider with Pro running now: bought with POT for 30 days at a time, renewed by hand.",
)
BADGES: tuple[Badge, ...] = (
    PRO,
    VERIFIED,
    TOP_RATED,
    RISING_STAR,
    CONNECTOR,
    MULTI_CATEGORY,
    EARLY_ADOPTER,
    HELPFUL,
    AUTHOR,
)


def _top_rated(facts: PersonFacts) -> bool:
    return any(
        rating.count >= TOP_RATED_MIN_RATINGS and bayesian_rating(rating.average, rating.count) >= TOP_RATED_MIN_RATING
        for rating in facts.ratings
    )


def badges_earned(facts: PersonFacts) -> list[Badge]:
    """The badges these facts earn, in the order of BADGES."""
    held = {
        PRO: facts.pro,
        VERIFIED: facts.license_verified,
        TOP_RATED: _top_rated(facts),
        RISING_STAR: facts.early_engagements >= RISING_STAR_ENGAGEMENTS,
        CONNECTOR: facts.activated_referrals >= CONNECTOR_ACTIVATED_REFERRALS,
        MULTI_CATEGORY: len(facts.categories) >= MULTI_CATEGORY_CATEGORIES,
        EARLY_ADOPTER: facts.early_adopter,
        HELPFUL: facts.accepted_answers >= HELPFUL_ACCEPTED_ANSWERS,
        AUTHOR: facts.published_articles >= AUTHOR_PUBLISHED_ARTICLES,
    }
    return [badge for badge in BADGES if held[badge]]
