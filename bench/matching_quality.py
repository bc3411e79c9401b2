"""The matching engine on a seeded synthetic market with planted answers: does it find the right provider?

    .venv/bin/python bench/matching_quality.py [--providers 400] [--seekers 200] [--seed 7]

Pure engine (no database). A therapists-like category with the real synonym file
(`fixtures/matching_synonyms.json`). Every seeker has one *planted ideal* provider: it
shares the seeker's specialty, its bio names the seeker's concern in other words (a
synonym or another form: "PTSD" ↔ "post-traumatic stress disorder"), its prices are inside
the budget, it is in the seeker's city, well rated and answers quickly. The others are
drawn at random (some rated higher, some Featured, some new, some who never answer).
It prints:

- hard-filter and dominance violations (must be 0);
- hit@3 and MRR of the planted ideal: the engine, the engine without the synonym file
  (words only), sorting by rating, and a random order;
- lead spread over a sequential run (each match counts as a lead for the next seeker):
  Gini of leads, share of providers without a lead;
- newcomers (no rating, 1 year of experience): seekers until their first lead;
- providers who never answer: their share of leads before and after their expired
  introductions are known to the engine;
- the largest rating gap the Featured boost can bridge between otherwise equal providers.
"""

import argparse
import itertools
import json
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
    passes_hard_filters,
)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--providers", type=int, default=400)
    parser.add_argument("--seekers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    people, asks, newcomers, silent = market(rng, args.providers, args.seekers)
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
    print(f"  leads: Gini {s['gini']:.2f}, providers without a lead {s['no_lead']:.0%}")
    print(
        f"  newcomers ({s['newcomers']}): median wait for a first lead {s['newcomer_median_wait']:.0f} seekers, "
        f"{s['newcomers_within_50']:.0%} within the first 50"
    )
    print(
        f"  providers who never answer ({s['silent_share']:.0%} of providers): {s['silent_leads_first_half']:.1%} of "
        f"leads in the first half, {s['silent_leads_second_half']:.1%} in the second"
    )
    print(f"  largest rating gap the Featured boost bridges: {boost_bridge():.1f} stars")


if __name__ == "__main__":
    main()
