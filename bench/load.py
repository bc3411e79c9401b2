"""Load-test the web tier against a bare Django view in the same run; prints req/s, share of bare and p99.

    .venv/bin/python bench/load.py                      # 10,000 providers, 1,000 seekers, 3 rounds
    .venv/bin/python bench/load.py --rounds 1 --duration 3 --only api
    .venv/bin/python bench/load.py --reuse              # keep the seeded database of the last run (its
                                                        # introductions are suggested matches again)
    .venv/bin/python bench/load.py --only write --cpu   # also CPU per request by process, and idle time

What it does, in order:
1. recreates a PostgreSQL database of its own (`--postgres-url`, default `imatch_load`), migrates
   it and seeds it with bulk inserts: the first four categories (two of them active),
   `--providers` providers (with specialties, ratings, most of them verified), `--seekers`
   seekers with 24 suggested matches each (three for the 100 in conversations), everyone's
   profile-creation POT (a wallet and a ledger row per person, as in production), one seeker
   with engagements, a funded wallet and a transaction history; API tokens and a logged-in
   session for the requests that need one;
2. starts gunicorn (`--workers`, default 3) with the production settings (`DJANGO_DEBUG` off,
   Redis cache, persistent connections, whitenoise, production's logging: a JSON line per request
   and no gunicorn access log) and `bench/load_settings.py`, which only adds `/bench/bare`: a
   Django JSON view that reads nothing, behind the same middleware;
3. runs `wrk -t2 -c16` on every endpoint, for `--rounds` rounds, with a run of the bare view
   before and after each endpoint's, and prints the medians: requests per second, their share of
   the bare view's (each run against the mean of its two neighbouring bare runs; each round's
   share beside it, to show the noise), p99 latency, and the target of issue 11 for the kind of
   endpoint (API read >= 50 %, page >= 35 %, write >= 25 %, p99 < 100 ms for reads);
4. with `--cpu`, a second table: each endpoint's CPU ms per request by process (gunicorn's master
   and workers, PostgreSQL, Redis, wrk, the rest of the machine) and the machine's idle share
   during its runs, from `/proc`: where a request's cost goes, and how long the machine waited
   (for a commit's flush, say) instead of working.

API throttles are raised (`API_THROTTLE_*`) so the bench measures the work, not refusals; the
throttles still run (a Redis round trip per request, as in production). Requests carry
`X-Forwarded-Proto: https` as nginx would. Writes: `POST /api/v1/pot/spend/` with a new
Idempotency-Key each time, by 200 people in turn (each spends from a wallet of their own, as a
marketplace's spends come), and again by one person alone: then every spend waits for the one
wallet's row lock, held until the previous spend's commit is on disk, so that line is reported
and measured against no target; `POST /api/v1/matches/{id}/introduce/` each on a different
suggested match of one of the seekers, `POST /api/v1/threads/{id}/messages/` by a seeker in one of
300 accepted conversations in turn (each holds an unread message of theirs: the post continues
the streak, see `message_post`). Before each run of a write, every token it uses makes two API
reads (`warm_tokens`): each write's line measures the write with its person's token check kept,
as the reads' lines do. A bench, not a test: never run in CI. Needs `wrk`
(Debian: `apt-get install -y wrk`) and Redis (`--redis-url`).
"""

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/imatch_load")
DEFAULT_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
SECRET = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105 - a local bench
MAIN_CATEGORY = "financial_advisors"
OTHER_CATEGORY = "career_coaches"
STATES = ["CA", "NY", "TX", "FL", "WA", "IL", "MA", "CO", "GA", "OR"]
CITIES = {"CA": "San Francisco", "NY": "New York", "TX": "Austin", "FL": "Miami", "WA": "Seattle"}
TARGETS = {"bare": None, "api": 0.50, "page": 0.35, "write": 0.25}
P99_LIMIT_MS = 100.0
CONVERSATION_SEEKERS = 100  # the last seekers' matches are the threads of the message posts
SPENDERS = 200  # seekers of their own who spend in turn (the reads' seeker spends alone)


def _suggested(n: int, seekers: int) -> int:
    """How many suggested matches the n-th seeker gets: 13 for the one the reads are made as, 3 for
    those in conversations (300 threads), 24 for the others: ~21,000 introductions, more than three
    rounds of 4 s of the introduce run make at up to ~1,700 a second, so no run ends in refusals
    of matches already introduced (wrk's "failed" column shows it if one does)."""
    if n == 0:
        return 13
    return 3 if n >= seekers - CONVERSATION_SEEKERS else 24


def server_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of the production run (and of the seeding, so both see the same settings)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "load_settings",
        "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Logged as production logs (`DJANGO_LOG_LEVEL` INFO, gunicorn's access log off): one JSON
        # line per request, the bare view's included, read from a pipe as journald would (`main`).
        "DJANGO_LOG_LEVEL": "INFO",
        "GUNICORN_ACCESS_LOG": "",
        "EMAIL_URL": "dummymail://",
        # As in production, tasks (the emails) go to a broker for a worker: the web process renders
        # and queues them. Without one they would run inline, each logged with its arguments.
        "CELERY_BROKER_URL": redis_url,
        "API_THROTTLE_ANON": "100000000/minute",
        "API_THROTTLE_USER": "100000000/minute",
        "GUNICORN_LOG_LEVEL": "warning",
    }


# --- Seeding (runs in a child process with the server's settings) -----------------------


def seed(providers: int, seekers: int) -> dict:
    """Fill the database with bulk inserts; returns what the requests need (ids, tokens, cookie)."""
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from categories.models import Category, Specialty
    from conversations.models import Message
    from currency.services import pot_adjust, pot_award, pot_award_many
    from marketplace.models import (
        AccountType,
        Engagement,
        EngagementStatus,
        Match,
        MatchStatus,
        Provider,
        Seeker,
        User,
    )
    from marketplace.services.profiles import profile_creation_award
    from marketplace.services.tokens import api_token_issue

    rng = random.Random(11)
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_categories", "categories", verbosity=0)
    Category.objects.filter(name=OTHER_CATEGORY).update(active=True, launched_at=timezone.now())
    main = Category.objects.get(name=MAIN_CATEGORY)
    other = Category.objects.get(name=OTHER_CATEGORY)
    specialties = {
        category.pk: list(Specialty.objects.filter(category=category).values_list("pk", flat=True))
        for category in (main, other)
    }
    operator = User.objects.create_user("bench-operator@example.com", None, name="Bench operator", is_staff=True)

    def people(prefix: str, count: int, account_type: str) -> list[User]:
        User.objects.bulk_create(
            [
                User(
                    email=f"{prefix}{n}@example.com",
                    name=f"{prefix.title()} {n}",
                    account_type=account_type,
                    password="!",  # noqa: S106 - an unusable password: nobody logs in with it
                )
                for n in range(count)
            ],
            batch_size=2000,
        )
        return list(User.objects.filter(email__startswith=prefix).order_by("id"))

    provider_users = people("provider", providers, AccountType.PROVIDER)
    seeker_users = people("seeker", seekers, AccountType.SEEKER)
    spender_users = people("spender", SPENDERS, AccountType.SEEKER)  # none of the others' tokens

    rows = []
    for n, user in enumerate(provider_users):
        category = main if n % 5 else other
        state = rng.choice(STATES)
        low = Decimal(rng.randrange(50, 300))
        rating_count = rng.randrange(0, 40)
        rows.append(
            Provider(
                user=user,
                category=category,
                business_name=f"{user.name} Advisory",
                bio="Retirement planning, budgeting and investments for families and small businesses.",
                years_experience=rng.randrange(1, 30),
                license_number=f"LIC{n:06d}",
                license_verified=rng.random() < 0.95,
                city=CITIES.get(state, ""),
                state=state,
                location=f"{CITIES.get(state, '')}, {state}".lstrip(", "),
                pricing_min=low,
                pricing_max=low + 200,
                remote=rng.random() < 0.5,
                rating_avg=Decimal(rng.randrange(300, 501)) / 100 if rating_count else Decimal(0),
                rating_count=rating_count,
            )
        )
    Provider.objects.bulk_create(rows, batch_size=2000)
    provider_rows = list(Provider.objects.order_by("id").values_list("pk", "category_id"))
    through = Provider.specialties.through
    through.objects.bulk_create(
        [
            through(provider_id=pk, specialty_id=specialty)
            for pk, category_id in provider_rows
            for specialty in rng.sample(specialties[category_id], min(2, len(specialties[category_id])))
        ],
        batch_size=5000,
    )

    Seeker.objects.bulk_create(
        [
            Seeker(
                user=user,
                category=main,
                needs_description="Planning for retirement and college savings.",
                budget_min=Decimal(100),
                budget_max=Decimal(400),
                city="San Francisco",
                state="CA",
                location="San Francisco, CA",
            )
            for user in seeker_users
        ],
        batch_size=2000,
    )
    seeker_rows = list(Seeker.objects.order_by("id").select_related("user"))
    # Every profile earns its profile-creation POT, as a sign-up's does (`pot_award_many`, as the
    # Phase 1 import awards it): the wallets and the ledger hold a row per person, as in production,
    # and the spends' plans are those of a table that size.
    awards = [
        profile_creation_award(role=role, user_id=user_id, profile_id=profile_id)
        for role, model in (("provider", Provider), ("seeker", Seeker))
        for profile_id, user_id in model.objects.order_by("id").values_list("pk", "user_id")
    ]
    for start in range(0, len(awards), 2000):
        pot_award_many(awards=awards[start : start + 2000])
    main_providers = [pk for pk, category_id in provider_rows if category_id == main.pk]
    matches = []
    for n, seeker in enumerate(seeker_rows):
        for rank, provider_id in enumerate(rng.sample(main_providers, _suggested(n, len(seeker_rows))), start=1):
            matches.append(
                Match(
                    seeker=seeker,
                    provider_id=provider_id,
                    category=main,
                    score=Decimal("0.8000") - Decimal(rank) / 100,
                    rank=rank,
                    breakdown={"need_fit": 0.8, "budget_fit": 1.0},
                    reasons=["Specializes in retirement planning", "Within your budget"],
                )
            )
    Match.objects.bulk_create(matches, batch_size=2000)

    # The first seeker (the one the read requests are made as) has ten engagements.
    first = seeker_rows[0]
    engaged = list(Match.objects.filter(seeker=first).order_by("id")[3:])
    Match.objects.filter(pk__in=[m.pk for m in engaged]).update(status=MatchStatus.ENGAGED)
    now = timezone.now()
    Engagement.objects.bulk_create(
        [
            Engagement(
                match=match,
                seeker=first,
                provider_id=match.provider_id,
                category=main,
                category_name=main.display_name,
                status=EngagementStatus.CONFIRMED,
                deal_value_usd=Decimal(1000),
                commission_rate=main.commission_rate,
                commission_usd=main.commission_rate * 1000,
                reported_by=first.user,
                confirmed_by=first.user,
                confirmed_at=now,
            )
            for match in engaged
        ]
    )
    pot_adjust(user=first.user, operator=operator, amount=100_000_000, reason="bench funding")
    for spender in spender_users:  # 100 POT a spend: enough for every run
        pot_adjust(user=spender, operator=operator, amount=10_000_000, reason="bench funding")
    for n in range(200):
        pot_award(user=first.user, rule_key="rating_given", cause=f"bench-history:{n}")

    session_engine = import_module(settings.SESSION_ENGINE)
    session = session_engine.SessionStore()
    session[SESSION_KEY] = str(first.user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = first.user.get_session_auth_hash()
    session.create()

    # Introductions: the suggested matches of every other seeker but the last 100, each asked for
    # once, with its seeker's token. Conversations: the last 100 seekers' matches, accepted, each
    # with a message from the seeker the provider has not read yet (so a post continues the unread
    # streak: the steady state of a thread, the same on every run; the first unread message also
    # notifies, see `message_post`).
    introductions, conversations = [], []
    tokens = {}
    talking = seeker_rows[-CONVERSATION_SEEKERS:]
    for seeker in seeker_rows[1:]:
        tokens[seeker.pk] = api_token_issue(user=seeker.user)
    for match_id, seeker_id in (
        Match.objects.filter(seeker__in=seeker_rows[1:-CONVERSATION_SEEKERS])
        .order_by("id")
        .values_list("pk", "seeker_id")
    ):
        introductions.append([tokens[seeker_id], match_id])
    rng.shuffle(introductions)
    talks = list(Match.objects.filter(seeker__in=talking).select_related("seeker", "provider").order_by("id"))
    Match.objects.filter(pk__in=[m.pk for m in talks]).update(
        status=MatchStatus.ACCEPTED, introduced_at=now, responded_at=now
    )
    Message.objects.bulk_create(
        [
            Message(
                match=m,
                sender_id=m.seeker.user_id,
                recipient_id=m.provider.user_id,
                body="Hello! Are you free on Thursday?",
            )
            for m in talks
        ]
    )
    conversations = [[tokens[m.seeker_id], m.pk] for m in talks]
    rng.shuffle(conversations)
    listed_provider = Provider.objects.filter(category=main, license_verified=True).order_by("id").first()
    call_command("collectstatic", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load: fresh statistics for the planner
    connection.close()
    return {
        "token": api_token_issue(user=first.user),
        # A logged-in browser carries the CSRF cookie its login form set: pages mask its secret
        # per request (`get_token`) rather than making a new one and setting a cookie each time.
        "session_cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
        f"{settings.CSRF_COOKIE_NAME}={get_random_string(32, allowed_chars=string.ascii_letters + string.digits)}",
        "provider_id": listed_provider.pk,
        "introductions": introductions,
        "conversations": conversations,
        "spenders": [api_token_issue(user=spender) for spender in spender_users],
    }


def restore(introductions: list[list]) -> int:
    """Put the seeded introductions' matches back to suggested, as the seeding left them, and vacuum; returns how many.

    A run of the introduce endpoint uses them up: without this, `--reuse` would measure refusals
    (409: only a suggested match can be introduced) instead of introductions.
    """
    import django

    django.setup()
    from django.db import connection

    from marketplace.models import Match, MatchStatus

    restored = Match.objects.filter(pk__in=[match_id for _, match_id in introductions]).update(
        status=MatchStatus.SUGGESTED, introduced_at=None
    )
    # What autovacuum does between two runs (a server may have it off): every run's introductions
    # and their restores leave ~20,000 dead versions of matches each, which the next run's reads
    # and updates would step over (a run measured 18 % instead of 22 % after three of them).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return restored


# --- Endpoints and wrk --------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    kind: str  # bare, api, page, write
    path: str
    method: str = "GET"
    auth: str = ""  # "", "token", "session"
    body: str = ""
    # "spend" (a new Idempotency-Key each time), "spend-many" (the same, by the next of the
    # spenders), "introduce" (a new match each time) or "message" (a post in the next of the
    # seeded conversations, as its seeker)
    dynamic: str = ""
    # Every request waits for one row's lock (one wallet): reported, measured against no target.
    one_lock: bool = False


@dataclass
class Result:
    rps: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)  # of the bare runs beside each of its runs
    failed: int = 0
    requests: int = 0
    cpu: list[dict[str, float]] = field(default_factory=list)  # `--cpu`: each run's `cpu_per_request`


def endpoints(provider_id: int) -> list[Endpoint]:
    directory = f"category={MAIN_CATEGORY}"
    return [
        Endpoint("bare Django JSON view", "bare", "/bench/bare"),
        Endpoint("/health", "api", "/health"),
        Endpoint("GET /api/v1/categories/", "api", "/api/v1/categories/"),
        Endpoint("GET /api/v1/providers/?category=…", "api", f"/api/v1/providers/?{directory}"),
        Endpoint(
            "GET /api/v1/providers/?category=…&state=CA&remote=true",
            "api",
            f"/api/v1/providers/?{directory}&state=CA&remote=true",
        ),
        Endpoint("GET /api/v1/providers/{id}/", "api", f"/api/v1/providers/{provider_id}/"),
        Endpoint("GET /api/v1/pot/balance/", "api", "/api/v1/pot/balance/", auth="token"),
        Endpoint("GET /api/v1/pot/transactions/", "api", "/api/v1/pot/transactions/", auth="token"),
        Endpoint("GET /api/v1/matches/", "api", "/api/v1/matches/", auth="token"),
        Endpoint("GET /api/v1/engagements/", "api", "/api/v1/engagements/", auth="token"),
        Endpoint("home page", "page", "/"),
        Endpoint("category page (directory)", "page", f"/categories/{MAIN_CATEGORY}/"),
        Endpoint("directory page, filtered", "page", f"/categories/{MAIN_CATEGORY}/?state=CA&remote=on"),
        Endpoint("provider page", "page", f"/providers/{provider_id}/"),
        Endpoint("dashboard", "page", "/dashboard/", auth="session"),
        Endpoint("wallet page", "page", "/wallet/", auth="session"),
        Endpoint(
            f"POST /api/v1/pot/spend/ (Idempotency-Key), {SPENDERS} people in turn",
            "write",
            "/api/v1/pot/spend/",
            method="POST",
            body=json.dumps({"option": "extra_matches"}),
            dynamic="spend-many",
        ),
        Endpoint(
            "POST /api/v1/pot/spend/ (Idempotency-Key), one wallet",
            "write",
            "/api/v1/pot/spend/",
            method="POST",
            auth="token",
            body=json.dumps({"option": "extra_matches"}),
            dynamic="spend",
            one_lock=True,
        ),
        Endpoint("POST /api/v1/matches/{id}/introduce/", "write", "", method="POST", dynamic="introduce"),
        Endpoint(
            "POST /api/v1/threads/{id}/messages/",
            "write",
            "",
            method="POST",
            body=json.dumps({"body": "Thursday at three works for me. Shall I bring last year's statements?"}),
            dynamic="message",
        ),
    ]


def _lua(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for these values


def wrk_script(endpoint: Endpoint, seeded: dict, *, run_id: str, round_number: int, threads: int, folder: Path) -> Path:
    """A wrk Lua script for one endpoint: fixed requests are pre-built, dynamic ones made per request."""
    headers = {"X-Forwarded-Proto": "https", "Accept": "application/json" if endpoint.kind != "page" else "text/html"}
    if endpoint.auth == "token":
        headers["Authorization"] = f"Token {seeded['token']}"
    if endpoint.auth == "session":
        headers["Cookie"] = seeded["session_cookie"]
    if endpoint.body:
        headers["Content-Type"] = "application/json"
    header_lines = "\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in headers.items())
    lines = [
        f"wrk.method = {_lua(endpoint.method)}",
        f"wrk.path = {_lua(endpoint.path)}",
        f"wrk.body = {_lua(endpoint.body)}" if endpoint.body else "",
        header_lines,
        "local next_thread = 0",
        "function setup(thread) thread:set('tid', next_thread); next_thread = next_thread + 1 end",
        "local counter = 0",
    ]
    if endpoint.dynamic in ("spend", "spend-many"):
        if endpoint.dynamic == "spend-many":  # each thread spends as the spenders in turn, from its own place
            spenders = seeded["spenders"]
            lines.append("local tokens = {" + ",".join(_lua(token) for token in spenders) + "}")
            lines.append(
                "function person()\n"
                f"  wrk.headers['Authorization'] = 'Token ' .. tokens[(tid * 7919 + counter) % {len(spenders)} + 1]\n"
                "end"
            )
        lines.append(
            "request = function()\n"
            "  counter = counter + 1\n"
            # New to the database even with --reuse: a key of an earlier run would be a replay.
            f"  wrk.headers['Idempotency-Key'] = '{run_id}-r{round_number}-t' .. tid .. '-' .. counter\n"
            + ("  person()\n" if endpoint.dynamic == "spend-many" else "")
            + "  return wrk.format()\n"
            "end"
        )
    elif endpoint.dynamic == "introduce":
        # Each round and thread takes its own slice of the suggested matches (pair 0 was the preflight's).
        pairs = seeded["introductions"][1:]
        rounds = seeded["rounds"]
        per_slice = len(pairs) // (rounds * threads)
        lines.append("local pairs = {" + ",".join(f"{{{_lua(t)},{m}}}" for t, m in pairs) + "}")
        lines.append(
            "request = function()\n"
            f"  local index = ({round_number} * {threads} + tid) * {per_slice} + (counter % {per_slice}) + 1\n"
            "  counter = counter + 1\n"
            "  local pair = pairs[index]\n"
            "  wrk.headers['Authorization'] = 'Token ' .. pair[1]\n"
            "  return wrk.format('POST', '/api/v1/matches/' .. pair[2] .. '/introduce/', nil, '')\n"
            "end"
        )
    elif endpoint.dynamic == "message":
        # Each thread posts in the conversations in turn, starting at its own place.
        pairs = seeded["conversations"]
        lines.append("local pairs = {" + ",".join(f"{{{_lua(t)},{m}}}" for t, m in pairs) + "}")
        lines.append(
            "request = function()\n"
            f"  local index = (tid * 7919 + counter) % {len(pairs)} + 1\n"
            "  counter = counter + 1\n"
            "  local pair = pairs[index]\n"
            "  wrk.headers['Authorization'] = 'Token ' .. pair[1]\n"
            "  return wrk.format('POST', '/api/v1/threads/' .. pair[2] .. '/messages/')\n"
            "end"
        )
    script = folder / f"{re.sub(r'[^a-z0-9]+', '-', endpoint.name.lower())}-{round_number}.lua"
    script.write_text("\n".join(line for line in lines if line) + "\n")
    return script


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str) -> tuple[float, float, int, int]:
    """Requests/s, p99 in ms, failed responses (non-2xx/3xx and socket errors), requests."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    p99_ms = float(p99.group(1)) * UNIT_MS[p99.group(2)] if p99 else float("nan")
    failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        failed += sum(int(n) for n in socket.groups())
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return rps, p99_ms, failed, requests


def _write_tokens(endpoint: Endpoint, seeded: dict) -> set[str]:
    """The tokens a write endpoint's requests are made with (`warm_tokens`); none for the others."""
    if endpoint.dynamic == "spend-many":
        return set(seeded["spenders"])
    pairs = {"introduce": "introductions", "message": "conversations"}.get(endpoint.dynamic)
    return {token for token, _match_id in seeded[pairs]} if pairs else set()


def preflight(base: str, endpoint: Endpoint, seeded: dict) -> str:
    """One request first: the endpoint must answer 2xx (a redirect to the log-in page is not a page)."""
    path, headers = endpoint.path, {"X-Forwarded-Proto": "https"}
    if endpoint.auth == "token":
        headers["Authorization"] = f"Token {seeded['token']}"
    if endpoint.auth == "session":
        headers["Cookie"] = seeded["session_cookie"]
    if endpoint.body:
        headers["Content-Type"] = "application/json"
    if endpoint.dynamic in ("spend", "spend-many"):
        headers["Idempotency-Key"] = f"preflight-{endpoint.dynamic}"
    if endpoint.dynamic == "spend-many":
        headers["Authorization"] = f"Token {seeded['spenders'][0]}"
    if endpoint.dynamic == "introduce":
        token, match_id = seeded["introductions"][0]
        path, headers["Authorization"] = f"/api/v1/matches/{match_id}/introduce/", f"Token {token}"
    if endpoint.dynamic == "message":
        token, match_id = seeded["conversations"][0]
        path, headers["Authorization"] = f"/api/v1/threads/{match_id}/messages/", f"Token {token}"
    data = endpoint.body.encode() if endpoint.method == "POST" else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=endpoint.method)  # noqa: S310

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            return "" if 200 <= response.status < 300 else f"answered {response.status}"
    except urllib.error.HTTPError as error:
        return f"answered {error.code}: {error.read()[:200]!r}"


def warm_tokens(base: str, tokens: set[str]) -> None:
    """Each token makes two API reads, as a person's app does before they write (just before a write's run).

    A write's line then measures the write, with the person's token check kept in the shared cache
    (`imatch.authentication`), as every read's line does (their one token is checked once, in the
    first round). Without this the introductions' line measured mostly token checks by query: ~900
    seekers, each introducing about once a round, after the cache was emptied or had let the last
    round's checks expire (`SCOPE_SECONDS`, 5 minutes: a full run's rounds are further apart). A
    token's first request in any process is checked by query and tells the shared cache whose it is;
    its next is checked by query again and kept. A seeker's introduction follows their read of their
    matches: the match's id comes from it.
    """
    if not tokens:
        return

    def read(token: str) -> None:
        headers = {"X-Forwarded-Proto": "https", "Authorization": f"Token {token}", "Accept": "application/json"}
        for _ in range(2):
            request = urllib.request.Request(f"{base}/api/v1/matches/?limit=1", headers=headers)  # noqa: S310
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own server
                response.read()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(read, sorted(tokens)))


CPU_COLUMNS = ("workers", "PostgreSQL", "Redis", "wrk", "other")


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds spent so far (`/proc`): the machine's idle and total time, and each column's
    (`CPU_COLUMNS`; "wrk" is this process's waited children, "other" stays 0: `cpu_per_request`
    finds it)."""

    idle: float
    total: float
    spent: dict[str, float]


def cpu_snapshot(server_group: int) -> CpuSnapshot:
    """Now's `CpuSnapshot`: the workers are the server's process group (gunicorn's master and its
    workers), PostgreSQL and Redis every process of that name on this machine (a database on
    another machine counts 0), wrk the children this process has waited for."""
    ticks = os.sysconf("SC_CLK_TCK")
    machine = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    spent = dict.fromkeys(CPU_COLUMNS, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        # fields (proc(5)): state, ppid, pgrp, …, utime at 11, stime at 12, in ticks
        if int(fields[2]) == server_group:
            column = "workers"
        elif name.startswith("postgres"):
            column = "PostgreSQL"
        elif name.startswith("redis-server"):
            column = "Redis"
        else:
            continue
        spent[column] += (int(fields[11]) + int(fields[12])) / ticks
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent["wrk"] = children.ru_utime + children.ru_stime
    return CpuSnapshot(idle=(machine[3] + machine[4]) / ticks, total=sum(machine) / ticks, spent=spent)


def cpu_per_request(before: CpuSnapshot, after: CpuSnapshot, requests: int) -> dict[str, float]:
    """Each column's CPU ms per request between the snapshots ("other": whatever else was busy, the
    log's reader and the kernel's threads among it), and "idle": the machine's idle share (iowait
    included)."""
    spent = {column: after.spent[column] - before.spent[column] for column in CPU_COLUMNS}
    busy = (after.total - before.total) - (after.idle - before.idle)
    spent["other"] = max(0.0, busy - sum(spent.values()))
    per_request = {column: 1000 * seconds / max(requests, 1) for column, seconds in spent.items()}
    per_request["idle"] = (after.idle - before.idle) / max(after.total - before.total, 1e-9)
    return per_request


def print_cpu(chosen: list[Endpoint], results: dict[str, Result]) -> None:
    """`--cpu`'s table: the medians of each endpoint's runs."""
    print("\nCPU ms per request by process, and the machine's idle share during the runs (medians of the rounds):\n")
    print(f"| endpoint | {' | '.join(CPU_COLUMNS)} | total | idle |")
    print("|---|" + "---:|" * (len(CPU_COLUMNS) + 2))
    for endpoint in chosen:
        runs = results[endpoint.name].cpu
        median = {key: statistics.median(run[key] for run in runs) for key in (*CPU_COLUMNS, "idle")}
        cells = " | ".join(f"{median[column]:.3f}" for column in CPU_COLUMNS)
        total = sum(median[column] for column in CPU_COLUMNS)
        print(f"| {endpoint.name} | {cells} | {total:.3f} | {median['idle']:.1%} |")


def wait_for(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited before answering; see its log (printed above the table's place).")
        request = urllib.request.Request(f"{base}/bench/bare", headers={"X-Forwarded-Proto": "https"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - our own server
                return
        except OSError:  # refused while it boots, or a timeout
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within a minute.")


def recreate_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="A database of its own: it is recreated.")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="The shared cache (throttles, cached reads).")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8411")))
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers.")
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--seekers", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3, help="Rounds over every endpoint (medians).")
    parser.add_argument("--duration", type=int, default=5, help="Seconds of wrk per endpoint and round.")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=10, help="Seconds before wrk counts a request as failed.")
    parser.add_argument("--only", default="", help="Only endpoints whose name or kind contains this (bare always).")
    parser.add_argument("--reuse", action="store_true", help="Keep the database seeded by the previous run.")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="Also print each endpoint's CPU per request by process (workers, PostgreSQL, Redis, wrk) "
        "and the machine's idle share, read from /proc (Linux).",
    )
    parser.add_argument("--seed", help=argparse.SUPPRESS)  # internal: seed in this process, write JSON here
    parser.add_argument("--restore", help=argparse.SUPPRESS)  # internal: restore the seeded state of this JSON
    args = parser.parse_args()

    environment = server_environment(args.postgres_url, args.redis_url)
    if args.seed:
        Path(args.seed).write_text(json.dumps(seed(args.providers, args.seekers)))
        return 0
    if args.restore:
        restore(json.loads(Path(args.restore).read_text())["introductions"])
        return 0
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk).")
    if args.cpu and not Path("/proc/stat").exists():
        raise SystemExit("--cpu reads /proc: Linux only.")

    state_file = Path(tempfile.gettempdir()) / f"imatch-load-{args.postgres_url.rpartition('/')[2]}.json"
    if not (args.reuse and state_file.exists()):
        started = time.perf_counter()
        recreate_database(args.postgres_url)
        subprocess.run(["redis-cli", "-u", args.redis_url, "FLUSHDB"], check=False, capture_output=True)
        command = [PYTHON, __file__, "--seed", str(state_file), "--providers", str(args.providers)]
        subprocess.run([*command, "--seekers", str(args.seekers)], check=True, cwd=ROOT, env=environment)
        print(
            f"seeded {args.providers:,} providers and {args.seekers:,} seekers in {time.perf_counter() - started:.1f} s"
        )
    else:
        # The introductions of the last run are suggested matches again, and the cache forgets
        # the lists that showed them (and the queued emails of the last run), as after seeding.
        subprocess.run([PYTHON, __file__, "--restore", str(state_file)], check=True, cwd=ROOT, env=environment)
        subprocess.run(["redis-cli", "-u", args.redis_url, "FLUSHDB"], check=False, capture_output=True)
    seeded = json.loads(state_file.read_text())
    seeded["rounds"] = args.rounds
    chosen = [e for e in endpoints(seeded["provider_id"]) if e.kind == "bare" or args.only in f"{e.name} {e.kind}"]

    base = f"http://127.0.0.1:{args.port}"
    server_log = Path(tempfile.gettempdir()) / f"imatch-load-{args.port}.log"
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "imatch.wsgi",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
        ],
        cwd=ROOT,
        env=environment,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # The server writes its log to a pipe, as to journald in production; the run's file keeps the
    # lines above INFO (a line per request would be hundreds of MB) and ends when the server does.
    quiet = ["-e", '"level": "INFO"', "-e", '"level": "DEBUG"']
    log_filter = subprocess.Popen(["grep", "-vF", *quiet], stdin=server.stdout, stdout=server_log.open("w"))
    server.stdout.close()
    results = {endpoint.name: Result() for endpoint in chosen}
    try:
        wait_for(base, server)
        for endpoint in chosen:
            problem = preflight(base, endpoint, seeded)
            if problem:
                print(f"!! {endpoint.name} {problem}")
        run_id = f"{time.time_ns():x}"  # this run's spends' Idempotency-Keys begin with it
        with tempfile.TemporaryDirectory() as folder:

            def measure(endpoint: Endpoint, round_number: int) -> float:
                """One wrk run on the endpoint; records it and returns its req/s."""
                warm_tokens(base, _write_tokens(endpoint, seeded))
                script = wrk_script(
                    endpoint,
                    seeded,
                    run_id=run_id,
                    round_number=round_number,
                    threads=args.threads,
                    folder=Path(folder),
                )
                before = cpu_snapshot(server.pid) if args.cpu else None
                output = subprocess.run(
                    [
                        "wrk",
                        f"-t{args.threads}",
                        f"-c{args.connections}",
                        f"-d{args.duration}s",
                        f"--timeout={args.timeout}s",
                        "--latency",
                        "-s",
                        str(script),
                        base + (endpoint.path or "/"),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                rps, p99_ms, failed, requests = parse_wrk(output)
                result = results[endpoint.name]
                if before is not None:
                    result.cpu.append(cpu_per_request(before, cpu_snapshot(server.pid), requests))
                result.rps.append(rps)
                result.p99_ms.append(p99_ms)
                result.failed += failed
                result.requests += requests
                return rps

            # Bare, endpoint, bare, endpoint, …, bare: each endpoint's share is taken against the
            # bare runs just before and after it, so a machine whose load drifts during the run
            # (other work starting or stopping) moves both sides of the ratio alike.
            for round_number in range(args.rounds):
                bare_before = measure(chosen[0], round_number)
                for endpoint in chosen[1:]:
                    rps = measure(endpoint, round_number)
                    bare_after = measure(chosen[0], round_number)
                    neighbours = (bare_before + bare_after) / 2
                    results[endpoint.name].shares.append(rps / neighbours if neighbours else 0.0)
                    bare_before = bare_after
                print(f"round {round_number + 1} of {args.rounds} done", file=sys.stderr)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log_filter.wait(timeout=30)

    print(
        f"\n{args.providers:,} providers, {args.seekers:,} seekers, PostgreSQL; gunicorn {args.workers} workers, "
        f"production settings; wrk -t{args.threads} -c{args.connections}, {args.rounds} rounds of "
        f"{args.duration} s, medians; each share against the bare runs just before and after\n"
    )
    print("| endpoint | req/s | share of bare | each round's share | p99 ms | target | failed |")
    print("|---|---:|---:|---:|---:|---|---:|")
    missed = 0
    for endpoint in chosen:
        result = results[endpoint.name]
        rps, p99 = statistics.median(result.rps), statistics.median(result.p99_ms)
        share = statistics.median(result.shares) if result.shares else 1.0
        target = None if endpoint.one_lock else TARGETS[endpoint.kind]
        verdict = "none: one row's lock, reported" if endpoint.one_lock else ""
        if target is not None:
            ok = share >= target and (endpoint.kind == "write" or p99 < P99_LIMIT_MS) and not result.failed
            missed += not ok
            p99_rule = "" if endpoint.kind == "write" else f", p99 < {P99_LIMIT_MS:.0f}"
            verdict = f"≥ {target:.0%}{p99_rule}: {'ok' if ok else 'MISSED'}"
        failed = f"{result.failed} of {result.requests}" if result.failed else "0"
        # A tenth of a point and each round's share: a verdict within a point of its line is the noise's.
        rounds = " / ".join(f"{round_share:.0%}" for round_share in result.shares) or "—"
        print(f"| {endpoint.name} | {rps:,.0f} | {share:.1%} | {rounds} | {p99:.1f} | {verdict} | {failed} |")
    print(f"\n{missed} endpoint(s) missed their target." if missed else "\nEvery endpoint met its target.")
    if args.cpu:
        print_cpu(chosen, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
