"""Benchmark the POT ledger: N concurrent clients post awards and spends; prints tx/s and p50/p99.

    .venv/bin/python bench/ledger.py                       # SQLite (temp file) and PostgreSQL
    .venv/bin/python bench/ledger.py --database sqlite --clients 4 --operations 2000
    .venv/bin/python bench/ledger.py --database postgres --postgres-url postgres://postgres@127.0.0.1:5432/imatch_bench

Each database runs in its own process on a fresh database (the PostgreSQL one is dropped and
created again: give it a database name of its own). Clients are processes (like gunicorn workers), each with its own
database connection, calling the same services as the API: `pot_award` (a new cause each
time) and `pot_spend` (one in ten retried with the same idempotency key, which must answer
the first result and not charge twice). After the run `verify_ledger` checks the result and its summary is printed.

On PostgreSQL the same run then measures `pgbench` (its TPC-B-like script: five statements
in a transaction, on the same server, with as many clients) and prints the ledger's
postings per second as a share of pgbench's transactions per second: the figure to compare
across machines (issue 11 asks for at least 0.3). The shared cache is Redis, as in production
(`--redis-url`, flushed first; an empty value uses the database cache): each posting forgets the
person's kept answers there after its commit. Clients import the URLconf and read the
rules before the start line (start-up work of a worker, as pgbench leaves out its connections).

`--cost N` measures instead what stays steady on a shared machine: one client makes N awards
and N spends in a row and prints, per posting, its round trips to the database (statements,
and psycopg's BEGIN/COMMIT) and CPU ms (the client's process time; on PostgreSQL also its
server backend's, from /proc), then the statements of one award and one spend.
"""

import argparse
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/imatch_bench")
DEFAULT_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def _prepare_postgres(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')


def pgbench_tps(url: str, *, clients: int, seconds: int) -> float:
    """pgbench's TPC-B-like transactions per second on the database of `url` (its tables are added to it)."""
    rest = url.split("://", 1)[1]
    credentials, _, location = rest.rpartition("@")
    user = credentials.split(":", 1)[0] or "postgres"
    hostport, _, name = location.partition("/")
    host, _, port = hostport.partition(":")
    connection = ["-h", host, "-p", port or "5432", "-U", user]
    environment = {**os.environ}
    if ":" in credentials:
        environment["PGPASSWORD"] = credentials.split(":", 1)[1]
    initialise = ["pgbench", "-i", "-q", "-s", "1", *connection, name]
    subprocess.run(initialise, check=True, capture_output=True, env=environment)
    threads = min(clients, os.cpu_count() or 1)
    output = subprocess.run(
        ["pgbench", "-n", "-c", str(clients), "-j", str(threads), "-T", str(seconds), *connection, name],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
    ).stdout
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    return float(match.group(1))


def _django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imatch.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    os.environ["DJANGO_DEBUG"] = "false"  # no query log
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def client(
    index: int, database_url: str, person_ids: list[int], operations: int, spend_share: float, seed: int, barrier
) -> tuple[list[float], dict]:
    """One client process: its own connection, `operations` awards and spends on random wallets."""
    _django(database_url)
    from django.db import connection
    from django.urls import reverse

    from currency.errors import InsufficientPot
    from currency.selectors import pot_rules
    from currency.services import pot_award, pot_spend
    from marketplace.models import User

    people = list(User.objects.filter(pk__in=person_ids))
    # Start-up work a server does once per worker, not per posting: importing the URLconf (the
    # "POT earned" notification links to the wallet page) and reading the rules. Done before
    # the start line, as pgbench leaves out its connection time.
    reverse("wallet")
    pot_rules().experiment_rule_ids()
    rng = random.Random(seed + index)
    tally = {"award": 0, "spend": 0, "replay": 0, "refused": 0}
    timing: list[float] = []

    def timed(action):
        started = time.perf_counter()
        outcome = action()
        timing.append(time.perf_counter() - started)
        return outcome

    barrier.wait()
    for n in range(operations):
        person = rng.choice(people)
        if rng.random() < spend_share:
            key = f"bench-{index}-{n}"
            try:
                result = timed(lambda p=person, k=key: pot_spend(user=p, option_key="extra_matches", idempotency_key=k))
                tally["spend"] += 1
                if rng.random() < 0.1:  # the client did not see the answer: it retries with the same key
                    retry = timed(
                        lambda p=person, k=key: pot_spend(user=p, option_key="extra_matches", idempotency_key=k)
                    )
                    assert retry.replayed and retry.transaction.pk == result.transaction.pk
                    tally["replay"] += 1
            except InsufficientPot:
                tally["refused"] += 1
        else:
            timed(lambda p=person, n=n: pot_award(user=p, rule_key="rating_given", cause=f"bench:{index}:{n}"))
            tally["award"] += 1
    connection.close()
    return timing, tally


def _round_trip_counter() -> list[str]:
    """Every round trip this process makes to the database from now on: statements, and BEGIN/COMMIT.

    Django's execute wrapper sees the statements; psycopg sends BEGIN (before a transaction's
    first statement), COMMIT and ROLLBACK through `_exec_command`, so that is counted too
    (a private method, fine for a bench; SQLite makes no round trips, it counts statements).
    """
    from django.db import connection

    log: list[str] = []

    def wrapper(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        finally:
            log.append(sql)  # after the BEGIN that psycopg sends ahead of a transaction's first statement

    connection.execute_wrappers.append(wrapper)
    if connection.vendor == "postgresql":
        import psycopg

        original = psycopg.Connection._exec_command

        def counted(self, command, *args, **kwargs):
            log.append(command.decode() if isinstance(command, bytes) else str(command))
            return (yield from original(self, command, *args, **kwargs))

        psycopg.Connection._exec_command = counted
    return log


def cost(operations: int, person_ids: list[int]) -> None:
    """One client, no concurrency: round trips and CPU ms per award and per spend (steady on a busy machine)."""
    from django.db import connection
    from django.urls import reverse

    from currency.selectors import pot_rules
    from currency.services import pot_award, pot_spend
    from marketplace.models import User

    people = list(User.objects.filter(pk__in=person_ids).order_by("id"))
    reverse("wallet")
    pot_rules().experiment_rule_ids()
    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = Path(f"/proc/{cursor.fetchone()[0]}/stat")  # the server is on this machine

    def server_seconds() -> float:
        if backend is None or not backend.exists():
            return float("nan")
        fields = backend.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    actions = {
        "award": lambda n: pot_award(user=people[n % len(people)], rule_key="rating_given", cause=f"cost:{n}"),
        "spend": lambda n: pot_spend(
            user=people[n % len(people)], option_key="extra_matches", idempotency_key=f"cost-{n}"
        ),
    }
    log = _round_trip_counter()
    print(f"== {connection.vendor}: one client, {operations} awards then {operations} spends in a row")
    for name, action in actions.items():
        action(-1)  # warm
        log.clear()
        server, client = server_seconds(), time.process_time()
        for n in range(operations):
            action(n)
        client, server = time.process_time() - client, server_seconds() - server
        print(
            f"   per {name}: {len(log) / operations:.1f} round trips, client CPU {client / operations * 1000:.3f} ms, "
            f"server CPU {server / operations * 1000:.3f} ms"
        )
        log.clear()
        action(operations)
        print("      " + "\n      ".join(sql[:100] for sql in log))


def run(
    database_url: str,
    *,
    clients: int,
    wallets: int,
    operations: int,
    spend_share: float,
    seed: int,
    pgbench_seconds: int,
    cost_operations: int = 0,
) -> int:
    """Run the benchmark against one database; returns 0 when verify_ledger passes afterwards."""
    _django(database_url)
    from django.core.management import call_command
    from django.db import connection

    from currency.audit import verify_ledger
    from currency.services import pot_adjust
    from marketplace.models import User

    call_command("migrate", verbosity=0, interactive=False)
    operator = User.objects.create_user("bench-operator@example.com", None, name="Bench operator", is_staff=True)
    User.objects.bulk_create(
        [User(email=f"bench{n}@example.com", name=f"Bench {n}", password="!") for n in range(wallets)]  # noqa: S106
    )
    people = list(User.objects.filter(email__startswith="bench", is_staff=False).order_by("id"))
    for person in people:
        pot_adjust(user=person, operator=operator, amount=2_000, reason="bench funding")
    if cost_operations:
        cost(cost_operations, [person.pk for person in people])
        report = verify_ledger()
        print(f"   verify_ledger: {report.summary()}")
        return 0 if report.ok else 1
    connection.close()

    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(clients + 1)
    ids = [person.pk for person in people]
    per_client = operations // clients
    with context.Pool(clients) as pool:
        pending = [
            pool.apply_async(client, (i, database_url, ids, per_client, spend_share, seed, barrier))
            for i in range(clients)
        ]
        barrier.wait()
        started = time.perf_counter()
        outcomes = [result.get() for result in pending]
        elapsed = time.perf_counter() - started

    all_latencies = sorted(value for timing, _ in outcomes for value in timing)
    total = {key: sum(tally[key] for _, tally in outcomes) for key in outcomes[0][1]}
    requests = len(all_latencies)
    postings = total["award"] + total["spend"]
    print(f"== {connection.vendor}: {clients} client processes, {wallets} wallets, {requests} requests")
    print(
        f"   {postings} postings ({total['award']} awards, {total['spend']} spends); "
        f"{total['replay']} retries with the same Idempotency-Key answered without charging; "
        f"{total['refused']} spends refused (not enough POT)"
    )
    print(f"   {elapsed:.2f} s -> {postings / elapsed:,.0f} postings/s ({requests / elapsed:,.0f} requests/s)")
    print(
        f"   latency per request: p50 {statistics.median(all_latencies) * 1000:.1f} ms, "
        f"p99 {_percentile(all_latencies, 0.99) * 1000:.1f} ms, max {all_latencies[-1] * 1000:.1f} ms"
    )
    if connection.vendor == "postgresql":
        connection.close()
        tps = pgbench_tps(database_url, clients=clients, seconds=pgbench_seconds)
        print(
            f"   pgbench (TPC-B-like, {clients} clients, {pgbench_seconds} s) on the same server: {tps:,.0f} tps -> "
            f"the ledger posts {postings / elapsed / tps:.2f} x pgbench's rate"
        )
    verify_started = time.perf_counter()
    report = verify_ledger()
    print(f"   verify_ledger: {report.summary()} ({time.perf_counter() - verify_started:.2f} s)")
    for problem in report.problems[:20]:
        print(f"   MISMATCH {problem}")
    connection.close()
    return 0 if report.ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["all", "sqlite", "postgres"], default="all")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="A database of its own: it is recreated.")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="The shared cache (flushed); '' for the database's.")
    parser.add_argument("--clients", type=int, default=8, help="Client processes.")
    parser.add_argument("--wallets", type=int, default=500)
    parser.add_argument("--operations", type=int, default=6000)
    parser.add_argument("--spend-share", type=float, default=0.4, help="Share of operations that are spends.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pgbench-seconds", type=int, default=10, help="PostgreSQL: how long pgbench runs.")
    parser.add_argument(
        "--cost",
        type=int,
        default=0,
        metavar="N",
        help="Instead: one client makes N awards and N spends in a row; round trips and CPU ms per posting.",
    )
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: run one database in this process
    args = parser.parse_args()
    options = {
        "clients": args.clients,
        "wallets": args.wallets,
        "operations": args.operations,
        "spend_share": args.spend_share,
        "seed": args.seed,
        "pgbench_seconds": args.pgbench_seconds,
        "cost_operations": args.cost,
    }
    if args.run:
        return run(args.run, **options)

    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
        os.environ["REDIS_URL"] = args.redis_url  # the runs and their client processes inherit it

    targets = []
    with tempfile.TemporaryDirectory() as folder:
        if args.database in ("all", "sqlite"):
            targets.append(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        if args.database in ("all", "postgres"):
            _prepare_postgres(args.postgres_url)
            targets.append(args.postgres_url)
        worst = 0
        for url in targets:
            command = [sys.executable, __file__, "--run", url, *sys.argv[1:]]
            worst = max(worst, subprocess.run(command, check=False, cwd=ROOT).returncode)
        return worst


if __name__ == "__main__":
    sys.exit(main())
