"""Per-request cost of each endpoint, in-process, against a bare Django view: CPU ms, queries, ratio to bare.

    .venv/bin/python bench/request_cost.py                      # seeds, then 200 requests per endpoint
    .venv/bin/python bench/request_cost.py --reuse -n 500       # keep the database seeded by the last run
    .venv/bin/python bench/request_cost.py --reuse --only balance --profile   # cProfile of one endpoint

`bench/load.py` measures req/s under gunicorn and wrk, which on a shared 2-core machine moves
with everything else that runs. This bench measures what one request costs instead, in one
process, so it is steady whatever the load: the same production settings and dataset as
`bench/load.py` (its seeder: 10,000 providers, 1,000 seekers, the seeker the requests are made
as with 13 matches, 10 engagements and ~200 ledger rows; PostgreSQL, Redis cache), each request
a call of the WSGI application (`imatch.wsgi`, every middleware) with the same headers as
`bench/load.py`'s, and per endpoint:

- CPU ms: `time.process_time()` of this process per request (Python's own work: Django, DRF,
  templates, the database driver), the number that bounds req/s per core;
- wall ms: elapsed time per request (adds the database's and Redis's time and the round trips);
- queries per request and their wall ms (measured around each `cursor.execute`; medians of
  the rounds' means);
- CPU and wall ms are the lower quartile of every request's time: on a shared machine a
  request that lost its core to another process takes longer, and the lower quartile is what a
  request costs when it has one (a median moved by 2x with the machine's load);
- the ratio of the endpoint's CPU ms to the bare view's, and the share of the bare view's
  req/s it implies (bare CPU ms / endpoint CPU ms): issue 11's targets are stated in shares.

`--profile` runs cProfile over the requests of each endpoint chosen by `--only` and prints the
functions with the most cumulative and own CPU time (not wall: waits for the database are not
in it). Writes go through the API as `bench/load.py` makes them: a spend with a new
Idempotency-Key each time, an introduction of a different suggested match each time (the seeded
ones are used up after ~21,000 introductions in all: seed again without `--reuse`), a message by a
seeker in the next of the seeded conversations. A bench, not a test: never run in CI.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # the seeder, settings and endpoints of bench/load.py

ROOT = load.ROOT
DEFAULT_POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/imatch_cost")
DEFAULT_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")


@dataclass
class Cost:
    cpu: list[float]
    wall: list[float]
    queries: float
    query_ms: float
    status: int


def low_quartile(values: list[float]) -> float:
    """The time a request takes when it has a core to itself (see the module's docstring)."""
    return statistics.quantiles(values, n=4)[0]


class QueryTimer:
    """A database execute wrapper: counts the queries and adds up their wall time."""

    def __init__(self, keep: bool = False):
        self.count = 0
        self.seconds = 0.0
        self.kept: list[tuple[float, str]] = [] if keep else None

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.seconds += elapsed
            self.count += 1
            if self.kept is not None:
                self.kept.append((elapsed * 1000, sql % tuple(repr(p) for p in params) if params else sql))


def environ_for(endpoint: "load.Endpoint", seeded: dict, state: dict) -> dict:
    """The WSGI environ of one request to `endpoint`, with the headers bench/load.py sends."""
    path, token = endpoint.path, seeded["token"]
    extra = {}
    if endpoint.dynamic in ("spend", "spend-many"):
        state["spend"] = state.get("spend", 0) + 1
        extra["HTTP_IDEMPOTENCY_KEY"] = f"cost-{os.getpid()}-{time.time_ns()}-{state['spend']}"
    if endpoint.dynamic == "spend-many":  # the spenders in turn
        token = seeded["spenders"][state["spend"] % len(seeded["spenders"])]
    if endpoint.dynamic == "introduce":
        index = state.setdefault("introduced", 1)  # pair 0 is bench/load.py's preflight
        state["introduced"] = index + 1
        token, match_id = seeded["introductions"][index]
        path = f"/api/v1/matches/{match_id}/introduce/"
    if endpoint.dynamic == "message":
        index = state["posted"] = state.get("posted", -1) + 1
        token, match_id = seeded["conversations"][index % len(seeded["conversations"])]
        path = f"/api/v1/threads/{match_id}/messages/"
    path, _, query = path.partition("?")
    body = endpoint.body.encode() if endpoint.method == "POST" else b""
    environ = {
        "REQUEST_METHOD": endpoint.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_ACCEPT": "text/html" if endpoint.kind == "page" else "application/json",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **extra,
    }
    if body:
        environ |= {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))}
    if endpoint.auth == "token" or endpoint.dynamic in ("spend-many", "introduce", "message"):
        environ["HTTP_AUTHORIZATION"] = f"Token {token}"
    if endpoint.auth == "session":
        environ["HTTP_COOKIE"] = seeded["session_cookie"]
    return environ


def call(application: Callable, environ: dict) -> int:
    """One request through the WSGI application, its body read and closed as a server would."""
    status = []

    def start_response(line, headers, exc_info=None):
        status.append(int(line.split()[0]))

    result = application(environ, start_response)
    try:
        for _ in result:
            pass
    finally:
        if hasattr(result, "close"):
            result.close()
    return status[0]


def measure(application, endpoint, seeded, state, *, requests: int, warmup: int, profiler=None) -> Cost:
    from django.db import connection

    for _ in range(warmup):
        call(application, environ_for(endpoint, seeded, state))
    timer = QueryTimer()
    statuses = set()
    cpu, wall = [], []
    with connection.execute_wrapper(timer):
        for _ in range(requests):
            environ = environ_for(endpoint, seeded, state)
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            statuses.add(call(application, environ))
            if profiler is not None:
                profiler.disable()
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started_wall)
    bad = sorted(s for s in statuses if not 200 <= s < 300)
    return Cost(
        cpu=cpu,
        wall=wall,
        queries=timer.count / requests,
        query_ms=timer.seconds * 1000 / requests,
        status=bad[0] if bad else min(statuses),
    )


def show_queries(application, endpoint, seeded, state) -> None:
    """Print the SQL of one request to `endpoint` with each query's wall ms."""
    from django.db import connection

    timer = QueryTimer(keep=True)
    with connection.execute_wrapper(timer):
        status = call(application, environ_for(endpoint, seeded, state))
    print(f"\n### {endpoint.name}: {status}, {timer.count} queries, {timer.seconds * 1000:.2f} ms")
    for ms, sql in timer.kept:
        print(f"-- {ms:.2f} ms\n{sql}")


def seed_database(args) -> dict:
    state_file = Path(tempfile.gettempdir()) / f"imatch-cost-{args.postgres_url.rpartition('/')[2]}.json"
    if not (args.reuse and state_file.exists()):
        started = time.perf_counter()
        load.recreate_database(args.postgres_url)
        subprocess.run(["redis-cli", "-u", args.redis_url, "FLUSHDB"], check=False, capture_output=True)
        command = [sys.executable, str(ROOT / "bench/load.py"), "--seed", str(state_file)]
        command += ["--providers", str(args.providers), "--seekers", str(args.seekers)]
        environment = load.server_environment(args.postgres_url, args.redis_url)
        subprocess.run(command, check=True, cwd=ROOT, env=environment)
        print(f"seeded {args.providers:,} providers, {args.seekers:,} seekers in {time.perf_counter() - started:.1f} s")
    seeded = json.loads(state_file.read_text())
    seeded["state_file"] = str(state_file)
    return seeded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="A database of its own: it is recreated.")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="The shared cache (flushed when seeding).")
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--seekers", type=int, default=1_000)
    parser.add_argument("-n", "--requests", type=int, default=200, help="Timed requests per endpoint and round.")
    parser.add_argument("--warmup", type=int, default=20, help="Untimed requests per endpoint first.")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds (all their requests are pooled).")
    parser.add_argument("--only", default="", help="Only endpoints whose name or kind contains this (bare always).")
    parser.add_argument("--profile", action="store_true", help="cProfile the chosen endpoints (use with --only).")
    parser.add_argument("--queries", action="store_true", help="Print the SQL of one request per endpoint.")
    parser.add_argument("--dump", default="", help="With --profile: write each profile to DUMP-<n>.prof as well.")
    parser.add_argument("--top", type=int, default=35, help="Rows of each profile listing.")
    parser.add_argument("--reuse", action="store_true", help="Keep the database seeded by the previous run.")
    args = parser.parse_args()

    seeded = seed_database(args)
    os.environ.update(load.server_environment(args.postgres_url, args.redis_url))
    os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging

    logging.getLogger("celery").setLevel(logging.WARNING)  # one line per email task otherwise
    # Each request's log line is made as in production (bench/load.py) and written to /dev/null, not here.
    console = next(handler for handler in logging.getLogger().handlers if handler.name == "console")
    console.setStream(open(os.devnull, "w"))  # noqa: SIM115 - open for the process's life
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    chosen = [e for e in load.endpoints(seeded["provider_id"]) if e.kind == "bare" or args.only in f"{e.name} {e.kind}"]
    # Introductions already made by earlier runs on this database are skipped.
    state = {"introduced": seeded.get("introduced", 1)}
    if args.queries:
        for endpoint in chosen:
            show_queries(application, endpoint, seeded, state)
    costs: dict[str, list[Cost]] = {endpoint.name: [] for endpoint in chosen}
    profiles: dict[str, cProfile.Profile] = {}
    for round_number in range(args.rounds):
        for endpoint in chosen:
            profiler = None
            if args.profile and endpoint.kind != "bare":
                profiler = profiles.setdefault(endpoint.name, cProfile.Profile(time.process_time))
            warmup = args.warmup if round_number == 0 else 2
            costs[endpoint.name].append(
                measure(application, endpoint, seeded, state, requests=args.requests, warmup=warmup, profiler=profiler)
            )
        print(f"round {round_number + 1} of {args.rounds} done", file=sys.stderr)
    seeded["introduced"] = state["introduced"]
    Path(seeded["state_file"]).write_text(json.dumps(seeded))

    def median(name: str, attribute: str) -> float:
        return statistics.median(getattr(cost, attribute) for cost in costs[name])

    def low(name: str, attribute: str) -> float:
        return low_quartile([value for cost in costs[name] for value in getattr(cost, attribute)]) * 1000

    bare_cpu = low(chosen[0].name, "cpu")
    print(
        f"\n{args.providers:,} providers, {args.seekers:,} seekers, PostgreSQL, production settings; in-process "
        f"WSGI calls, {args.requests} requests per endpoint, {args.rounds} rounds; CPU and wall: lower quartiles"
        + (" (under cProfile: times inflated)" if args.profile else "")
        + "\n"
    )
    print("| endpoint | status | CPU ms | wall ms | queries | query ms | CPU × bare | implied share | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for endpoint in chosen:
        cpu = low(endpoint.name, "cpu")
        status = costs[endpoint.name][-1].status
        ratio = cpu / bare_cpu if bare_cpu else 0.0
        share = bare_cpu / cpu if cpu else 0.0
        target = None if endpoint.one_lock else load.TARGETS[endpoint.kind]
        verdict = "" if target is None else f"≥ {target:.0%}: {'ok' if share >= target else 'missed'}"
        print(
            f"| {endpoint.name} | {status} | {cpu:.2f} | {low(endpoint.name, 'wall'):.2f} "
            f"| {median(endpoint.name, 'queries'):.1f} | {median(endpoint.name, 'query_ms'):.2f} "
            f"| {ratio:.1f} | {share:.0%} | {verdict} |"
        )
    for number, (name, profiler) in enumerate(profiles.items()):
        if args.dump:
            profiler.dump_stats(f"{args.dump}-{number}.prof")
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(f"\n### {name}: by {order}\n{out.getvalue()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
