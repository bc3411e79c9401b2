"""Why a provider was matched, in plain words. Pure Python: no ORM import."""

import math
from collections.abc import Mapping, Sequence

from marketplace.matching.factors import (
    BUDGET_UNKNOWN,
    DEFAULT_RADIUS_KM,
    LOCATION_REMOTE,
    LOCATION_SAME_CITY,
    LOCATION_SAME_STATE,
    ProviderCandidate,
    SeekerProfile,
    distance_fit,
    provider_distance_km,
)

BUDGET_WITHIN = 0.97  # the prices are (nearly all) inside the budget
BUDGET_CLOSE = 0.5  # e.g. prices about 25% over the maximum


def match_reasons(
    seeker: SeekerProfile,
    provider: ProviderCandidate,
    factors: Sequence[float],
    *,
    specialty_names: Mapping[int, str],
    matched_terms: Sequence[str],
    terms: Mapping[str, str],
    radius_km: float = DEFAULT_RADIUS_KM,
) -> list[str]:
    """Plain-language reasons for a match, most telling first.

    `factors` are the match's six factors; `terms` maps the seeker's query terms to the
    words they typed, and `matched_terms` are those the provider's profile contains,
    rarest first (`BM25Index.matched_terms`): a synonym or another form of the word
    counts, and the reason quotes the seeker's own words.
    """
    reasons: list[str] = []
    names = specialty_names
    shared = sorted(seeker.specialty_ids & provider.specialty_ids, key=lambda s: names.get(s, ""))
    for specialty_id in shared[:2]:
        reasons.append(f"Specializes in {_lower_first(names.get(specialty_id, 'your need'))}")
    if matched_terms and not shared:
        quoted = ", ".join(f"“{terms[t]}”" for t in matched_terms[:3])
        reasons.append(f"Their profile mentions {quoted}")
    _, budget, location, _, _, _ = factors
    if budget >= BUDGET_WITHIN:
        reasons.append("Within your budget")
    elif budget != BUDGET_UNKNOWN and budget >= BUDGET_CLOSE:
        reasons.append("Close to your budget")
    reasons.append(location_reason(seeker, provider, location, radius_km))
    if provider.rating_count:
        noun = "review" if provider.rating_count == 1 else "reviews"
        reasons.append(f"Rated {provider.rating_avg:.1f} from {provider.rating_count} {noun}")
    if provider.license_verified:
        reasons.append("License verified")
    if (provider.years_experience or 0) >= 5:
        reasons.append(f"{provider.years_experience} years of experience")
    history = provider.history
    if history.median_hours is not None and history.answered >= 2 and not history.expired_streak:
        reasons.append(f"Usually answers within {_duration(history.median_hours)}")
    if not provider.rating_count and history.leads < 3:
        reasons.append("New on I MATCH")
    if provider.active_clients * 2 <= provider.max_active_clients and provider.open_leads <= 1:
        reasons.append("Has time for new clients")
    if provider.featured:
        reasons.append("Featured")
    return reasons


def location_reason(seeker: SeekerProfile, provider: ProviderCandidate, location: float, radius_km: float) -> str:
    """'About 12 km away', 'About 40 km away (beyond your 25 km)', 'Works remotely' or 'Distance unknown: same state'.

    Unknown: either place is not in the gazetteer, so the engine used same city > same state > remote.
    """
    distance = provider_distance_km(seeker, provider)
    if distance is not None:
        if seeker.remote_ok and provider.remote and distance_fit(distance, radius_km) < LOCATION_REMOTE:
            return "Works remotely"
        near = "Under 1 km away" if distance < 1 else f"About {round(distance):,} km away"
        if distance > radius_km:
            return f"{near} (beyond your {round(radius_km):,} km)"
        return near
    if location == LOCATION_SAME_CITY:
        return "Distance unknown: same city"
    if location == LOCATION_SAME_STATE:
        return "Distance unknown: same state"
    return "Works remotely"


def _duration(hours: float) -> str:
    """4.2 → '5 hours', 0.3 → '1 hour', 50 → '3 days' (rounded up: a promise, not a boast)."""
    if hours <= 1:
        return "an hour"
    if hours <= 48:
        whole = math.ceil(hours)
        return f"{whole} hours"
    return f"{math.ceil(hours / 24)} days"


def _lower_first(name: str) -> str:
    """'Retirement planning' → 'retirement planning', but 'SEO audits' stays as it is."""
    if len(name) > 1 and name[1].isupper():
        return name
    return name[:1].lower() + name[1:]
