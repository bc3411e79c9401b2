"""The matching engine on a seeded synthetic market with planted answers: does it find the right provider?

    .venv/bin/python bench/matching_quality.py [--providers 400] [--seekers 200] [--seed 7]

Pure engine (no database). A therapists-like category with the real synonym file
(`fixtures/matching_synonyms.json`). Every seeker has one *planted ideal* provider: it
shares the seeker's specialty, its bio names the seeker's concern in other words (a
synonym or another form: "PTSD" ↔ "post-traumatic stress disorder"), its prices are inside
the budget, it is in the seeker's city, well rated and answers quickly. The others are
drawn at random (some rated higher, some Featured, some new, some who never answer).
Seekers and providers live in five cities and, three in ten of each, in the town next
to one (9 to 28 km away).
It prints:

- hard-filter and dominance violations (must be 0);
- hit@3 and MRR of the planted ideal: the engine, the engine without the synonym file
  (words only), sorting by rating, and a random order;
- lead spread over a sequential run (each match counts as a lead for the next seeker):
  Gini of leads, share of providers without a lead, and the same for leads drawn at
  random among the compatible providers, and among those with the seeker's specialty
  (what the market's supply and demand allow); the same over the longer run of the
  learning part's seekers;
- newcomers (no rating, 1 year of experience): seekers until their first lead;
- providers who never answer: their share of leads before and after their expired
  introductions are known to the engine;
- the largest rating gap the Featured boost can bridge between otherwise equal providers;
- distance: for in-person top-3 matches, the share within the seeker's radius and their
  median distance, by coordinates against the old same city > same state rule;
- learning from outcomes: simulated outcomes of shown matches (position-biased: a match
  shown lower is seen less; seekers here care more about distance and answers than the
  hand-set weights say), the weights `learning.fit_weights` fits from them, and the
  held-out NDCG of the fitted weights against the hand-set ones.
"""

import argparse
import itertools
import json
import math
import random
import statistics
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marketplace.matching.factors import (  # noqa: E402
    CategoryRules,
    Exclusions,
    ProviderCandidate,
    Responsiveness,
    SeekerProfile,
    Weights,
    great_circle_km,
    passes_hard_filters,
)
from marketplace.matching.learning import Outcome, fit_weights, ndcg, propensity, split  # noqa: E402
from marketplace.matching.pool import CandidatePool  # noqa: E402

# Specialty → (how a seeker says it, how a provider's bio says it): different words, one meaning.
CONCERNS = {
    1: ("Trauma", ["PTSD after an accident", "flashbacks and PTSD"], ["post-traumatic stress disorder", "trauma"]),
    2: ("Anxiety", ["I feel anxious all the time", "panic attacks at work"], ["anxiety", "worry and panic"]),
    3: ("Grief", ["grieving my father", "coping with bereavement"], ["grief counseling", "loss of a loved one"]),
    4: ("Couples", ["my marriage is struggling", "marital problems"], ["couples therapy", "relationships"]),
    5: ("Perinatal", ["pregnant and overwhelmed", "expecting a baby and worried"], ["pregnancy", "prenatal support"]),
    6: ("Addiction", ["drinking too much", "addicted to alcohol"], ["substance use", "addiction recovery"]),
}
CITIES = [("Austin", "TX"), ("Dallas", "TX"), ("Houston", "TX"), ("Denver", "CO"), ("Boulder", "CO")]
# Where they are (as the gazetteer says), and towns next to them where some providers work.
PLACES = {
    ("Austin", "TX"): (30.26715, -97.74306),
    ("Dallas", "TX"): (32.78306, -96.80667),
    ("Houston", "TX"): (29.76328, -95.36327),
    ("Denver", "CO"): (39.73915, -104.9847),
    ("Boulder", "CO"): (40.01499, -105.27055),
    ("Round Rock", "TX"): (30.50826, -97.6789),
    ("Plano", "TX"): (33.01984, -96.69889),
    ("Pasadena", "TX"): (29.69106, -95.2091),
    ("Lakewood", "CO"): (39.70471, -105.08137),
    ("Longmont", "CO"): (40.16721, -105.10193),
}
NEIGHBOURS = {
    "Austin": "Round Rock",
    "Dallas": "Plano",
    "Houston": "Pasadena",
    "Denver": "Lakewood",
    "Boulder": "Longmont",
}
FILLER = [
    "compassionate",
    "licensed",
    "clinician",
    "evidence",
    "based",
    "sessions",
    "weekly",
    "telehealth",
    "calm",
    "practice",
]


def synonyms() -> tuple[tuple[str, ...], ...]:
    data = json.loads((ROOT / "fixtures" / "matching_synonyms.json").read_text())
    return tuple(tuple(group) for group in [*data["all"], *data["therapists"]])


def category(with_synonyms: bool) -> CategoryRules:
    return CategoryRules(
        id=1,
        active=True,
        requires_license=False,
        specialty_names={sid: name for sid, (name, _, _) in CONCERNS.items()},
        synonyms=synonyms() if with_synonyms else (),
    )


def market(rng: random.Random, providers: int, seekers: int):
    """Random providers, then one seeker and their planted ideal provider at a time."""
    people: list[ProviderCandidate] = []
    newcomers, silent = set(), set()
    for pid in range(1, providers + 1):
        concern = rng.choice(list(CONCERNS))
        city, state = rng.choice(CITIES)
        if rng.random() < 0.3:
            city = NEIGHBOURS[city]  # the next town: another city, 9 to 28 km away
        latitude, longitude = PLACES[(city, state)]
        low = rng.randrange(60, 260, 10)
        new = rng.random() < 0.08
        quiet = not new and rng.random() < 0.08
        (newcomers if new else silent if quiet else set()).add(pid)
        people.append(
            ProviderCandidate(
                id=pid,
                user_id=10_000 + pid,
                category_id=1,
                specialty_ids=frozenset({concern} | ({rng.choice(list(CONCERNS))} if rng.random() < 0.4 else set())),
                bio=" ".join([rng.choice(CONCERNS[concern][2]), *rng.sample(FILLER, 5)]),
                pricing_min=float(low),
                pricing_max=float(low + rng.randrange(20, 120, 10)),
                city=city,
                state=state,
                latitude=latitude,
                longitude=longitude,
                remote=rng.random() < 0.4,
                max_active_clients=rng.randint(8, 25),
                years_experience=1 if new else rng.randint(2, 30),
                rating_avg=0.0 if new else round(rng.uniform(3.2, 5.0), 1),
                rating_count=0 if new else rng.randint(3, 80),
                featured=rng.random() < 0.1,
                history=Responsiveness() if new else Responsiveness(answered=10, accepted=7, median_hours=8, leads=6),
            )
        )
    asks = []
    for sid in range(1, seekers + 1):
        concern = rng.choice(list(CONCERNS))
        city, state = rng.choice(CITIES)
        if rng.random() < 0.3:
            city = NEIGHBOURS[city]  # seekers live in the next towns as often as providers work there
        budget_max = float(rng.randrange(150, 320, 10))
        seeker = SeekerProfile(
            id=sid,
            user_id=sid,
            category_id=1,
            specialty_ids=frozenset({concern}),
            needs_description=rng.choice(CONCERNS[concern][1]),
            budget_min=60.0,
            budget_max=budget_max,
            city=city,
            state=state,
            latitude=PLACES[(city, state)][0],
            longitude=PLACES[(city, state)][1],
            remote_ok=rng.random() < 0.6,
        )
        ideal = ProviderCandidate(
            id=100_000 + sid,
            user_id=200_000 + sid,
            category_id=1,
            specialty_ids=frozenset({concern}),
            bio=" ".join([CONCERNS[concern][2][0], *rng.sample(FILLER, 5)]),
            pricing_min=budget_max - 60,
            pricing_max=budget_max - 10,
            city=city,
            state=state,
            latitude=seeker.latitude,
            longitude=seeker.longitude,
            max_active_clients=20,
            years_experience=12,
            rating_avg=4.8,
            rating_count=40,
            history=Responsiveness(answered=12, accepted=11, median_hours=3, leads=6),
        )
        asks.append((seeker, ideal))
    return people, asks, newcomers, silent


def quality(people, asks, *, with_synonyms: bool, rng: random.Random) -> dict[str, float]:
    """hit@3 and MRR of each seeker's planted ideal, ranked among all the random providers."""
    rules = category(with_synonyms)
    results = {"engine": [], "rating": [], "random": []}
    violations = dominance = 0
    for seeker, ideal in asks:
        pool = CandidatePool(rules, [*people, ideal])
        ranked = pool.rank(seeker, limit=len(pool))
        for match in ranked:
            provider = pool.current(pool._position[match.provider_id])
            violations += not passes_hard_filters(seeker, provider, pool.category, Exclusions())
        dominance += sum(
            1
            for upper, lower in itertools.combinations(ranked[:20], 2)
            if all(lower.breakdown[k] >= upper.breakdown[k] for k in upper.breakdown)
            and any(lower.breakdown[k] > upper.breakdown[k] for k in upper.breakdown)
        )
        order = [m.provider_id for m in ranked]
        compatible = [pool.providers[pool._position[pid]] for pid in order]
        by_rating = [p.id for p in sorted(compatible, key=lambda p: (-p.rating_avg, -p.rating_count, p.id))]
        shuffled = list(order)
        rng.shuffle(shuffled)
        for name, ids in (("engine", order), ("rating", by_rating), ("random", shuffled)):
            results[name].append(ids.index(ideal.id) + 1)
    out = {"violations": violations, "dominance": dominance}
    for name, ranks in results.items():
        out[f"{name}_hit3"] = sum(r <= 3 for r in ranks) / len(ranks)
        out[f"{name}_mrr"] = statistics.fmean(1 / r for r in ranks)
    return out


def gini(values: list[int]) -> float:
    ordered = sorted(values)
    n, total = len(ordered), sum(ordered)
    if not total:
        return 0.0
    return sum((2 * i - n + 1) * v for i, v in enumerate(ordered)) / (n * total)


def spread(people, asks, newcomers, silent, *, limit: int = 3) -> dict[str, float]:
    """Seekers one after the other (no ideals): leads, newcomers' first lead, silent providers' share."""
    pool = CandidatePool(category(True), people)
    leads = dict.fromkeys([p.id for p in people], 0)
    first_lead: dict[int, int] = {}
    expired: dict[int, int] = {}
    silent_share = []
    half = len(asks) // 2
    for number, (seeker, _) in enumerate(asks, start=1):
        for match in pool.rank(seeker, limit=limit):
            leads[match.provider_id] += 1
            pool.note_lead(match.provider_id)
            first_lead.setdefault(match.provider_id, number)
            if match.provider_id in silent:
                expired[match.provider_id] = expired.get(match.provider_id, 0) + 1
            silent_share.append((number, match.provider_id in silent))
        if number % 25 == 0:  # the loader reads the histories every few minutes: introductions expired since
            histories = {
                p.id: replace(p.history, expired_streak=expired.get(p.id, 0), leads=p.history.leads + leads[p.id])
                for p in people
            }
            pool = pool.with_histories(histories)
    waits = [first_lead.get(pid, len(asks) + 1) for pid in newcomers]
    before = [s for n, s in silent_share if n <= half]
    after = [s for n, s in silent_share if n > half]
    return {
        "gini": gini(list(leads.values())),
        "no_lead": sum(1 for v in leads.values() if not v) / len(leads),
        "newcomers": len(newcomers),
        "newcomer_median_wait": statistics.median(waits) if waits else 0,
        "newcomers_within_50": sum(w <= 50 for w in waits) / max(1, len(waits)),
        "silent_share": len(silent) / len(people),
        "silent_leads_first_half": sum(before) / max(1, len(before)),
        "silent_leads_second_half": sum(after) / max(1, len(after)),
    }


def spread_by_chance(people, asks, rng: random.Random, *, limit: int = 3) -> dict[str, float]:
    """The same run with each seeker's leads drawn at random: what the market's supply and demand allow.

    Two lotteries: among every provider that passes the hard filters, and among those of
    them who also have the seeker's specialty (a lottery that still respects need). With
    few leads per provider even a blind draw leaves many without one, so the engine's
    spread is read against these, not against zero.
    """
    pool = CandidatePool(category(True), people)
    specialties = {p.id: p.specialty_ids for p in people}
    out = {}
    for label in ("compatible", "specialty"):
        leads = dict.fromkeys(specialties, 0)
        for seeker, _ in asks:
            drawn = [match.provider_id for match in pool.rank(seeker, limit=len(pool))]
            if label == "specialty":
                drawn = [pid for pid in drawn if specialties[pid] & seeker.specialty_ids]
            for provider_id in rng.sample(drawn, min(limit, len(drawn))):
                leads[provider_id] += 1
        out[f"{label}_gini"] = gini(list(leads.values()))
        out[f"{label}_no_lead"] = sum(1 for v in leads.values() if not v) / len(leads)
    return out


def boost_bridge() -> float:
    """The largest rating gap (stars, 40 reviews each) a Featured provider overcomes against an equal one."""
    rules = category(False)
    seeker = SeekerProfile(id=1, user_id=1, category_id=1, specialty_ids=frozenset({1}), city="Austin", state="TX")
    base = ProviderCandidate(
        id=1,
        user_id=11,
        category_id=1,
        specialty_ids=frozenset({1}),
        city="Austin",
        state="TX",
        rating_avg=5.0,
        rating_count=40,
        years_experience=10,
    )
    bridged = 0.0
    for tenths in range(1, 41):
        gap = tenths / 10
        featured = replace(base, id=2, user_id=12, rating_avg=5.0 - gap, featured=True)
        if CandidatePool(rules, [base, featured]).rank(seeker, limit=1)[0].provider_id == 2:
            bridged = gap
    return bridged


def extra_asks(seed: int, count: int, providers: int):
    """More seekers of the same market (for the simulated outcomes), with ids after the first ones."""
    _, asks, _, _ = market(random.Random(seed + 1), 0, count)
    return [(replace(seeker, id=seeker.id + 10_000), ideal) for seeker, ideal in asks]


def distance_effect(people, asks, *, limit: int = 3) -> dict[str, float]:
    """In-person top-3 matches (not remote): share within the radius and median km, with and without coordinates."""
    rules = category(True)
    radius = rules.default_radius_km
    out = {}
    for label, market_people in (
        ("km", people),
        ("strings", [replace(p, latitude=None, longitude=None) for p in people]),
    ):
        pool = CandidatePool(rules, market_people)
        distances = []
        for seeker, _ in asks:
            seeker_at = seeker if label == "km" else replace(seeker, latitude=None, longitude=None)
            for match in pool.rank(seeker_at, limit=limit):
                provider = people[match.provider_id - 1]  # ids are 1..n, in order
                if not provider.remote:
                    distances.append(great_circle_km(seeker.latitude, seeker.longitude, *PLACES_OF[provider.id]))
        out[f"{label}_within"] = sum(d <= radius for d in distances) / max(1, len(distances))
        beyond = [d for d in distances if d > radius]
        out[f"{label}_beyond_km"] = statistics.fmean(beyond) if beyond else 0.0
        out[f"{label}_next_town"] = sum(1.0 < d <= radius for d in distances) / max(1, len(distances))
    out["radius"] = radius
    return out


PLACES_OF: dict[int, tuple[float, float]] = {}


# Simulated seekers judge matches by these (hidden) weights, not by the hand-set ones: distance
# and answering matter more to them, the capacity/fairness factor not at all.
TRUE_WEIGHTS = {"need": 3.0, "budget": 1.0, "location": 3.0, "quality": 1.0, "capacity": 0.0, "responsiveness": 2.5}
UTILITY_MIDDLE = 9.43  # about the true utility of a typical shown match (they are all decent)


def learning(people, asks, rng: random.Random, *, shown: int = 3) -> dict[str, object]:
    """Simulate what happened to shown matches (position-biased), fit weights from it, compare held-out NDCG."""
    pool = CandidatePool(category(True), people)
    outcomes = []
    for seeker, _ in asks:
        for match in pool.rank(seeker, limit=shown):
            factors = tuple(match.breakdown[name] for name in TRUE_WEIGHTS)
            # Shown matches are all decent: what decides is how they differ (about 0.1 of utility).
            utility = sum(w * f for w, f in zip(TRUE_WEIGHTS.values(), factors, strict=True)) - UTILITY_MIDDLE
            seen = rng.random() < propensity(match.rank)  # position bias: the third is seen a third as often
            good = seen and rng.random() < 1 / (1 + math.exp(-12 * utility))
            if good:
                grade = 4 if rng.random() < 1 / (1 + math.exp(-12 * (utility - 0.05))) else rng.choice((2, 3))
            else:
                grade = 1 if seen and rng.random() < 0.2 else 0
            outcomes.append(Outcome(seeker.id, factors, match.rank, grade))
    fit = fit_weights(outcomes, Weights())
    truth = Weights(**{name: weight or 0.01 for name, weight in TRUE_WEIGHTS.items()})
    return {"outcomes": len(outcomes), "fit": fit, "ndcg_truth": ndcg(split(outcomes)[1], truth)}


def print_spread(label: str, engine: dict[str, float], chance: dict[str, float]) -> None:
    print(
        f"  {label}: Gini {engine['gini']:.2f}, providers without a lead {engine['no_lead']:.0%}; drawn at random "
        f"among the compatible providers: Gini {chance['compatible_gini']:.2f}, {chance['compatible_no_lead']:.0%}; "
        f"among those with the seeker's specialty: Gini {chance['specialty_gini']:.2f}, "
        f"{chance['specialty_no_lead']:.0%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--providers", type=int, default=400)
    parser.add_argument("--seekers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    people, asks, newcomers, silent = market(rng, args.providers, args.seekers)
    PLACES_OF.update({p.id: (p.latitude, p.longitude) for p in people})
    print(f"Synthetic market: {args.providers} providers, {args.seekers} seekers, seed {args.seed}")
    meaning = quality(people, asks, with_synonyms=True, rng=random.Random(args.seed))
    words = quality(people, asks, with_synonyms=False, rng=random.Random(args.seed))
    print(f"  hard-filter violations: {meaning['violations']}, dominance violations: {meaning['dominance']}")
    print("  planted ideal provider         hit@3    MRR")
    for label, data, name in (
        ("engine (stems + synonyms)", meaning, "engine"),
        ("engine, words only", words, "engine"),
        ("sort by rating", meaning, "rating"),
        ("random order", meaning, "random"),
    ):
        print(f"  {label:<30} {data[f'{name}_hit3']:6.2f} {data[f'{name}_mrr']:6.3f}")
    s = spread(people, asks, newcomers, silent)
    print_spread(f"leads of {args.seekers} seekers", s, spread_by_chance(people, asks, random.Random(args.seed)))
    print(
        f"  newcomers ({s['newcomers']}): median wait for a first lead {s['newcomer_median_wait']:.0f} seekers, "
        f"{s['newcomers_within_50']:.0%} within the first 50"
    )
    print(
        f"  providers who never answer ({s['silent_share']:.0%} of providers): {s['silent_leads_first_half']:.1%} of "
        f"leads in the first half, {s['silent_leads_second_half']:.1%} in the second"
    )
    print(f"  largest rating gap the Featured boost bridges: {boost_bridge():.1f} stars")
    d = distance_effect(people, asks)
    print(
        f"  distance (in-person top-3, radius {d['radius']:.0f} km): within the radius {d['km_within']:.0%} by km "
        f"vs {d['strings_within']:.0%} by same city/state (those beyond it: {d['km_beyond_km']:.0f} km vs "
        f"{d['strings_beyond_km']:.0f} km away on average); from the next town {d['km_next_town']:.0%} "
        f"vs {d['strings_next_town']:.0%}"
    )
    simulated = [*asks, *extra_asks(args.seed, args.seekers * 7, args.providers)]
    longer = spread(people, simulated, newcomers, silent)
    chance = spread_by_chance(people, simulated, random.Random(args.seed))
    print_spread(f"leads of {len(simulated)} seekers", longer, chance)
    learned = learning(people, simulated, random.Random(args.seed))
    fit = learned["fit"]
    print(f"  learning from {learned['outcomes']} simulated outcomes (3 shown per seeker, position-biased):")
    default = dict(zip(TRUE_WEIGHTS, Weights().normalised(), strict=True))
    print("    weights  " + "  ".join(f"{name} {default[name]:.2f}→{fit.weights[name]:.2f}" for name in TRUE_WEIGHTS))
    print(
        f"    held-out NDCG ({fit.held_out} outcomes, position-debiased): hand-set {fit.ndcg_old:.3f}, "
        f"fitted {fit.ndcg_new:.3f} (the simulation's true weights: {learned['ndcg_truth']:.3f})"
    )


if __name__ == "__main__":
    main()
