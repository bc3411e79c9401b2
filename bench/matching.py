"""Benchmark the matching engine: one seeker against 1,000 / 10,000 / 100,000 providers.

    .venv/bin/python bench/matching.py [--sizes 1000 10000 100000] [--seekers 1000] [--samples 50]

Builds a throw-away test database (an SQLite file, or PostgreSQL `test_<name>` when
DATABASE_URL points there), fills one category per size with generated providers (50
states, a quarter remote, bios from a 300-word vocabulary), and prints per size:

- a fresh worker process (what a gunicorn worker is), measured in a child process:
  its resident memory (RSS) with Django loaded; the first match request *cold* (the
  worker builds the category's index on it: `GUNICORN_PRELOAD=0`); the first request
  *after the boot warm-up* (`warm_pools()`, what gunicorn's master runs before forking
  its workers, `gunicorn.conf.py`); warm requests (median); and its RSS with the index;

- index build: loading the category's providers and building the profile index (cold cache);
- pool after a rating change: the cached index refreshed from the one changed row;
- one seeker, end to end: `match_run_for_seeker` (loads, exclusions, ranking, saving the
  matches) with the index cached, median and p95, and its SQL query count;
- engine only: `CandidatePool.rank` on the loaded pool, for a seeker in a populous state and
  for the worst case where every provider is location-compatible (all remote): wall-clock
  and CPU time (`time.process_time`, what a loaded machine does not inflate), the
  median over three rounds of the sampled seekers;
- 1,000 seekers: `match_run_for_category`, what `run_matching` does in each category (its
  open seekers, one pool, then each seeker in turn).
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imatch.test_settings")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from categories.models import Category, Specialty  # noqa: E402
from marketplace import candidates as loader  # noqa: E402
from marketplace.models import Provider, Seeker, User  # noqa: E402
from marketplace.services import matches  # noqa: E402

STATES = [
    ("CA", 12),
    ("TX", 9),
    ("FL", 7),
    ("NY", 6),
    ("PA", 4),
    ("IL", 4),
    ("OH", 3),
    ("GA", 3),
    ("NC", 3),
    ("MI", 3),
    ("NJ", 3),
    ("VA", 3),
    ("WA", 2),
    ("AZ", 2),
    ("MA", 2),
    ("TN", 2),
    ("IN", 2),
    ("MD", 2),
    ("MO", 2),
    ("WI", 2),
    ("CO", 2),
    ("MN", 2),
    ("SC", 2),
    ("AL", 1),
    ("LA", 1),
    ("KY", 1),
    ("OR", 1),
    ("OK", 1),
    ("CT", 1),
    ("UT", 1),
    ("IA", 1),
    ("NV", 1),
    ("AR", 1),
    ("MS", 1),
    ("KS", 1),
    ("NM", 1),
    ("NE", 1),
    ("ID", 1),
    ("WV", 1),
    ("HI", 1),
    ("NH", 1),
    ("ME", 1),
    ("MT", 1),
    ("RI", 1),
    ("DE", 1),
    ("SD", 1),
    ("ND", 1),
    ("AK", 1),
    ("VT", 1),
    ("WY", 1),
]
CITIES = ["Springfield", "Riverside", "Franklin", "Greenville", "Fairview", "Madison", "Georgetown", "Salem"]
SPECIALTIES = [
    ("retirement", "Retirement planning"),
    ("investing", "Investment management"),
    ("tax", "Tax planning"),
    ("estate", "Estate planning"),
    ("debt", "Debt management"),
    ("college", "College savings"),
    ("insurance", "Insurance planning"),
    ("business", "Small business finance"),
    ("budget", "Budgeting"),
    ("esg", "Socially responsible investing"),
]
_TOPICS = (
    "retirement income pension annuity social security withdrawal portfolio allocation index funds bonds "
    "stocks dividends tax returns deductions capital gains roth ira 401k estate trust will probate heirs "
    "debt consolidation credit mortgage refinance college tuition savings 529 insurance life disability "
    "long term care business payroll cash flow bookkeeping budget spending emergency fund esg impact "
    "sustainable ethical fiduciary fee only certified planner cfp cfa cpa advisor wealth family goals"
)
TOPIC_WORDS = _TOPICS.split()
SETTLE_PROFILES = {
    "sqlite": "UPDATE providers SET updated_at = datetime('now', '-1 hour', '-' || (id %% 43200) || ' minutes') "
    "WHERE category_id = %s",
    "postgresql": "UPDATE providers SET updated_at = now() - interval '1 hour' - (id %% 43200) * interval '1 minute' "
    "WHERE category_id = %s",
}
NO_PASSWORD = make_password(None)  # generated people never log in
FILLER = [f"word{i}" for i in range(220)]
VOCABULARY = TOPIC_WORDS + FILLER
NEEDS = [
    "I want to retire at 60 with a steady income and understand my pension options.",
    "Help with taxes for my small business and payroll.",
    "Planning an estate and a trust for my children.",
    "Paying down credit card debt and building an emergency fund.",
    "Saving for college tuition with a 529 plan.",
    "Looking for a fiduciary to manage my portfolio with ESG funds.",
]


def place(rng: random.Random, state: str) -> tuple[float | None, float | None]:
    """Coordinates near the state's (made-up, fixed) middle, within about 50 km; one in ten unknown."""
    if rng.random() < 0.1:
        return None, None
    middle = random.Random(state)
    return middle.uniform(26, 48) + rng.uniform(-0.45, 0.45), middle.uniform(-122, -70) + rng.uniform(-0.5, 0.5)


def weighted_state(rng: random.Random) -> str:
    return rng.choices([s for s, _ in STATES], weights=[w for _, w in STATES])[0]


def build_category(size: int, rng: random.Random, *, all_remote: bool = False) -> Category:
    suffix = "remote" if all_remote else "mixed"
    category = Category.objects.create(
        name=f"bench_{size}_{suffix}", display_name=f"Bench {size} {suffix}", active=True, requires_license=True
    )
    specialties = Specialty.objects.bulk_create(
        [Specialty(category=category, slug=slug, name=name) for slug, name in SPECIALTIES]
    )
    users = User.objects.bulk_create(
        [
            User(email=f"p{size}{suffix}{i}@bench.example", name=f"Provider {i}", password=NO_PASSWORD)
            for i in range(size)
        ],
        batch_size=2000,
    )
    providers = []
    for i, user in enumerate(users):
        low = rng.randrange(50, 300, 10)
        state = weighted_state(rng)
        city = rng.choice(CITIES)
        latitude, longitude = place(rng, state)
        providers.append(
            Provider(
                user=user,
                category=category,
                business_name=f"Practice {i}",
                bio=" ".join(rng.choices(VOCABULARY, k=rng.randint(20, 60))),
                certifications=rng.choice(["CFP", "CFA", "CPA", "CFP, CFA", ""]),
                years_experience=rng.randint(0, 35),
                license_number=f"L{i}",
                license_verified=rng.random() < 0.9,
                pricing_min=Decimal(low),
                pricing_max=Decimal(low + rng.randrange(50, 300, 10)),
                city=city,
                state=state,
                location=f"{city}, {state}",
                latitude=latitude,
                longitude=longitude,
                remote=all_remote or rng.random() < 0.25,
                max_active_clients=rng.randint(5, 30),
                rating_avg=Decimal(str(round(rng.uniform(3.0, 5.0), 2))),
                rating_count=rng.randint(0, 80),
            )
        )
    providers = Provider.objects.bulk_create(providers, batch_size=2000)
    # A settled category: profiles last edited over the past 30 days, none in the last hour.
    with connection.cursor() as cursor:
        cursor.execute(SETTLE_PROFILES[connection.vendor], [category.pk])
    through = Provider.specialties.through
    through.objects.bulk_create(
        [
            through(provider_id=p.pk, specialty_id=s.pk)
            for p in providers
            for s in rng.sample(specialties, rng.randint(1, 4))
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:  # statistics and visibility map, as autovacuum keeps them
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return category


def build_seekers(category: Category, count: int, rng: random.Random) -> list[Seeker]:
    users = User.objects.bulk_create(
        [
            User(email=f"s{category.pk}-{i}@bench.example", name=f"Seeker {i}", password=NO_PASSWORD)
            for i in range(count)
        ],
        batch_size=2000,
    )
    specialties = list(Specialty.objects.filter(category=category))
    states = [weighted_state(rng) for _ in users]
    seekers = Seeker.objects.bulk_create(
        [
            Seeker(
                user=user,
                category=category,
                needs_description=rng.choice(NEEDS),
                budget_min=Decimal(100),
                budget_max=Decimal(rng.randrange(150, 500, 10)),
                city=rng.choice(CITIES),
                state=state,
                latitude=latitude,
                longitude=longitude,
                remote_ok=rng.random() < 0.7,
            )
            for user, state in zip(users, states, strict=True)
            for latitude, longitude in [place(rng, state)]
        ],
        batch_size=2000,
    )
    through = Seeker.specialties.through
    through.objects.bulk_create(
        [through(seeker_id=s.pk, specialty_id=sp.pk) for s in seekers for sp in rng.sample(specialties, 2)]
    )
    return list(Seeker.objects.filter(pk__in=[s.pk for s in seekers]).prefetch_related("specialties").order_by("pk"))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench_size(size: int, *, seekers: int, samples: int, rng: random.Random) -> None:
    started = time.perf_counter()
    category = build_category(size, rng)
    people = build_seekers(category, seekers + samples + 12, rng)
    print(f"\n{size:,} providers ({connection.vendor}; data built in {time.perf_counter() - started:.1f}s)")

    bench_worker(category, people[samples : samples + 12])
    loader.clear_pool_cache()
    with CaptureQueriesContext(connection) as cold_queries:
        t = time.perf_counter()
        pool = loader.candidate_pool(category)
        cold = time.perf_counter() - t
    print(f"  index build (cold cache):       {ms(cold)}  {len(cold_queries)} queries, {len(pool):,} matchable")

    # One seeker, end to end, the profile index cached (as a web or API request finds it).
    timings, query_counts = [], []
    for seeker in people[:samples]:
        with CaptureQueriesContext(connection) as captured:
            t = time.perf_counter()
            made = matches.match_run_for_seeker(seeker=seeker)
            timings.append(time.perf_counter() - t)
        query_counts.append(len(captured))
        assert made, "every bench seeker should get matches"
    print(
        f"  one seeker, end to end:         median {ms(statistics.median(timings))}, p95 {ms(p95(timings))}, "
        f"{min(query_counts)}-{max(query_counts)} queries"
    )

    # A provider's rating changes: the cached index is refreshed from the changed row only.
    changed = Provider.objects.filter(category=category).order_by("pk").first()
    Provider.objects.filter(pk=changed.pk).update(
        rating_avg=Decimal("4.90"), rating_count=81, updated_at=timezone.now()
    )
    with CaptureQueriesContext(connection) as refresh_queries:
        t = time.perf_counter()
        loader.candidate_pool(category)
        refresh = time.perf_counter() - t
    print(f"  pool after a rating change:     {ms(refresh)}  {len(refresh_queries)} queries (no rebuild)")

    # The engine alone on the loaded pool.
    pool = loader.candidate_pool(category)
    profiles = [loader.seeker_profile(s) for s in people[:samples]]
    engine, cpu = time_ranking(pool, profiles)
    print(
        f"  engine only (rank):             median {ms(statistics.median(engine))}, p95 {ms(p95(engine))}; "
        f"CPU median {ms(statistics.median(cpu))}"
    )

    # The batch (--seekers) as run_matching does it: the category's open seekers, one
    # pool, then each seeker in turn (the timed seekers above already have their matches).
    counted = [0]

    def count(execute, sql, params, many, context):
        counted[0] += 1
        return execute(sql, params, many, context)

    t = time.perf_counter()
    with connection.execute_wrapper(count):
        run = matches.match_run_for_category(category=category)
    total = time.perf_counter() - t
    print(
        f"  {run.seekers:,} seekers (run_matching):   {total:6.2f} s  ({ms(total / run.seekers)} each, "
        f"{run.matches:,} matches, {counted[0] / run.seekers:.1f} queries per seeker)"
    )


def rss_mb() -> float:
    """Resident memory of this process, MB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def worker(category_id: int, seeker_ids: list[int]) -> None:
    """In a fresh process: the first request cold, then after a boot warm-up, then warm; and RSS (JSON on stdout)."""
    category = Category.objects.get(pk=category_id)
    seekers = list(Seeker.objects.filter(pk__in=seeker_ids).prefetch_related("specialties").order_by("pk"))
    report = {"rss_start": rss_mb()}

    def first_request(seeker: Seeker) -> float:
        t = time.perf_counter()
        matches.match_run_for_seeker(seeker=seeker)
        return time.perf_counter() - t

    report["cold"] = first_request(seekers[0])
    loader.clear_pool_cache()
    t = time.perf_counter()
    loader.candidate_pool(category)  # what warm_pools() does for each active category
    report["boot_warmup"] = time.perf_counter() - t
    report["first_after_warmup"] = first_request(seekers[1])
    report["warm"] = statistics.median(first_request(s) for s in seekers[2:])
    report["rss_end"] = rss_mb()
    print(json.dumps(report))


def bench_worker(category: Category, seekers: list[Seeker]) -> None:
    """Run `worker` in a child process on the same database, and print what it measured."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        database_url = f"sqlite:///{settings['NAME']}"
    else:
        database_url = (
            f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:{settings['PORT']}/"
            f"{settings['NAME']}"
        )
    env = {**os.environ, "DATABASE_URL": database_url}
    ids = ",".join(str(s.pk) for s in seekers)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(category.pk), ids], env=env, capture_output=True, text=True
    )
    if out.returncode:
        print(out.stderr)
        return
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"  fresh worker: first request cold {ms(r['cold'])}; boot warm-up {ms(r['boot_warmup'])}, "
        f"then first request {ms(r['first_after_warmup'])}; warm {ms(r['warm'])}; "
        f"RSS {r['rss_start']:.0f} MB at start, {r['rss_end']:.0f} MB with the index"
    )


def bench_worst_case(size: int, *, samples: int, rng: random.Random) -> None:
    """Every provider location-compatible: the engine scores all of them."""
    category = build_category(size, rng, all_remote=True)
    people = build_seekers(category, samples, rng)
    loader.clear_pool_cache()
    pool = loader.candidate_pool(category)
    engine, cpu = time_ranking(pool, [loader.seeker_profile(seeker) for seeker in people])
    print(
        f"  worst case, all {len(pool):,} compatible: median {ms(statistics.median(engine))}, p95 {ms(p95(engine))}; "
        f"CPU median {ms(statistics.median(cpu))}"
    )


def time_ranking(pool, profiles) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of `rank` for each seeker, three rounds (the second and third warm).

    On a shared machine the wall-clock time counts the time other processes held the CPU;
    the process's CPU time (`time.process_time`) does not, so it is the figure to compare.
    """
    wall, cpu = [], []
    for _ in range(3):
        for profile in profiles:
            t, c = time.perf_counter(), time.process_time()
            pool.rank(profile, limit=3)
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--seekers", type=int, default=1000, help="seekers matched in the batch run")
    parser.add_argument("--samples", type=int, default=50, help="seekers timed one by one")
    parser.add_argument("--worst-case-up-to", type=int, default=50_000, help="largest size of the all-remote case")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)  # internal: the child process
    args = parser.parse_args()
    if args.worker:
        worker(int(args.worker[0]), [int(pk) for pk in args.worker[1].split(",")])
        return
    setup_test_environment()
    if connection.vendor == "sqlite":  # a file, so that the child worker process sees the same data
        connection.settings_dict["TEST"]["NAME"] = os.path.join(tempfile.mkdtemp(prefix="imatch-bench-"), "bench.db")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        print(f"Matching benchmark on {connection.vendor}, {os.cpu_count()} CPUs; times are wall-clock.")
        for size in args.sizes:
            rng = random.Random(size)
            bench_size(size, seekers=args.seekers, samples=args.samples, rng=rng)
            if size <= args.worst_case_up_to:
                bench_worst_case(size, samples=args.samples, rng=rng)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
