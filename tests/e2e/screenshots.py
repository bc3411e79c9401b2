"""`make screenshots`: every main page at a phone (390x844) and a desktop (1280x800) size, as PNG files.

Starts the app with gunicorn on a free port (or --port) against a throw-away SQLite database
filled by `seed_demo`, logs in as one of the demo's seekers and one of its providers, and saves
full-page screenshots into --out (default `screenshots/`, git-ignored) so that reviewers can
look at every page. Uses the system Chromium (/usr/bin/chromium); never downloads a browser.

    .venv/bin/python -m tests.e2e.screenshots [--out screenshots] [--port 0]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
PASSWORD = "screenshots-demo-passphrase"

# Which people to log in as: a seeker and a provider of one engagement, given passwords.
PICK_PEOPLE = f"""
import json
from marketplace.models import Engagement
engagement = Engagement.objects.select_related("seeker__user", "provider__user").order_by("id").first()
people = {{"seeker": engagement.seeker.user, "provider": engagement.provider.user}}
for user in people.values():
    user.set_password({PASSWORD!r})
    user.save(update_fields=["password"])
# The provider chooses to appear as "Anonymous": the leaderboards show such a row (and it as theirs).
people["provider"].leaderboard_opt_in = False
people["provider"].save(update_fields=["leaderboard_opt_in"])
print(json.dumps({{role: user.email for role, user in people.items()}}
               | {{"provider_id": engagement.provider_id, "category": engagement.provider.category.name,
                  "match_id": engagement.match_id}}))
"""

ANONYMOUS_PAGES = [
    ("home", "/"),
    ("category", "/categories/{category}/"),
    ("category-search-empty", "/categories/{category}/?q=zzzzzz#providers"),
    ("provider-public", "/providers/{provider_id}/"),
    ("community-questions", "/categories/{category}/questions/"),
    ("library", "/library/"),
    ("leaderboards", "/leaderboards/?category={category}"),
    ("leaderboards-empty", "/leaderboards/?category={category}&month=2020-01"),
    ("guided-need", "/search/?need=retirement+planning&where=Austin%2C+TX"),
    ("provider-new", "/providers/new/?category={category}"),
    ("signup", "/signup/"),
    ("login", "/login/"),
    ("not-found", "/no-such-page/"),
    ("api-docs", "/api/v1/docs/"),
    ("api-redoc", "/api/v1/redoc/"),
]
SEEKER_PAGES = [
    ("seeker-dashboard", "/dashboard/"),
    ("seeker-matches", "/matches/"),
    ("seeker-engagements", "/engagements/"),
    ("seeker-wallet", "/wallet/"),
    ("seeker-account", "/account/"),
    ("seeker-notifications", "/notifications/"),
    ("seeker-conversations", "/conversations/"),
    ("seeker-thread", "/conversations/{match_id}/"),
    ("badges", "/badges/"),
    ("seeker-leaderboards", "/leaderboards/?category={category}"),
    ("seeker-ask-question", "/categories/{category}/questions/ask/"),
]
PROVIDER_PAGES = [
    ("provider-dashboard", "/dashboard/"),
    ("provider-leads", "/leads/"),
    ("provider-notifications", "/notifications/"),
    ("provider-thread", "/conversations/{match_id}/"),
    ("provider-engagements", "/engagements/"),
    ("provider-commission", "/commission/"),
    ("provider-profile", "/providers/{provider_id}/edit/"),
    ("provider-pro", "/pro/"),
    ("provider-wallet", "/wallet/"),
    ("provider-articles", "/library/mine/"),
    ("provider-article-new", "/library/mine/new/"),
    ("provider-leaderboards", "/leaderboards/?category={category}"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server at {url} did not answer within {seconds:.0f} s")


def log_in(page: Page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")


# Pages drawn by a script after loading: wait until it has drawn them (or give up after a while).
DRAWN = {"api-docs": ".swagger-ui .info .title", "api-redoc": ".api-content"}
# ReDoc draws the whole API as one page tens of thousands of pixels long: its first screen is enough.
FIRST_SCREEN_ONLY = {"api-redoc"}


def shoot(page: Page, out: Path, name: str, path: str) -> None:
    page.goto(path)
    if name in DRAWN:
        page.wait_for_selector(DRAWN[name], timeout=60_000)
    page.screenshot(path=str(out / f"{name}.png"), full_page=name not in FIRST_SCREEN_ONLY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="screenshots", help="folder for the PNG files (default: screenshots)")
    parser.add_argument("--port", type=int, default=0, help="port for the server (default: a free one)")
    options = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    out = (ROOT / options.out).resolve()
    port = options.port or free_port()
    with tempfile.TemporaryDirectory(prefix="imatch-screenshots-") as scratch:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{scratch}/db.sqlite3",
            "MEDIA_ROOT": f"{scratch}/media",
            "DJANGO_DEBUG": "true",
            "DJANGO_DEBUG_PAGES": "false",
            "CELERY_BROKER_URL": "",
            "REDIS_URL": "",
            "EMAIL_URL": "dummymail://",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        print(f"Seeding a demo marketplace in {scratch} …", flush=True)
        manage(env, "migrate", "--noinput")
        manage(env, "createcachetable")
        manage(env, "seed_categories", "categories")
        manage(env, "seed_demo", "--providers", "40", "--seekers", "60")
        ids = json.loads(manage(env, "shell", "-c", PICK_PEOPLE).strip().splitlines()[-1])
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "imatch.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # request lines; a server that fails shows as a page that does not load
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/health")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                for size, viewport in VIEWPORTS.items():
                    folder = out / size
                    folder.mkdir(parents=True, exist_ok=True)
                    for who, pages in (
                        ("anon", ANONYMOUS_PAGES),
                        ("seeker", SEEKER_PAGES),
                        ("provider", PROVIDER_PAGES),
                    ):
                        context = browser.new_context(base_url=base, viewport=viewport)
                        page = context.new_page()
                        if who != "anon":
                            log_in(page, ids[who])
                        for name, path in pages:
                            shoot(page, folder, name, path.format(**ids))
                        context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
    print(f"Screenshots saved in {out}/phone and {out}/desktop.")


if __name__ == "__main__":
    main()
