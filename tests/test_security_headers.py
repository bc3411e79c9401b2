"""Security headers: the Content-Security-Policy on every page, no inline script or style, /health over HTTP."""

import re
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.contrib import admin
from django.urls import reverse

from currency.services import pot_award
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


class InlineCode(HTMLParser):
    """Collects what a `default-src 'self'` policy would refuse: inline scripts, styles, handlers."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src") and attributes.get("type") != "application/json":
            self.found.append(f"inline <script> {attrs}")
        if tag == "style":
            self.found.append("<style> block")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_parser_finds_what_the_policy_refuses():
    assert inline_code('<script>alert(1)</script><div style="x"></div><a onclick="y">') != []
    assert len(inline_code('<script>1</script><style>a{}</style><b onload="z"><a href="javascript:x">')) == 4
    assert inline_code('<script src="/static/a.js"></script><script type="application/json">{}</script>') == []


def test_every_answer_carries_the_policy(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert client.get("/api/v1/categories/").has_header("Content-Security-Policy")


def _pages(client, admin_client) -> dict[str, str]:
    """Every page a person or an operator sees, as HTML, keyed by its URL."""
    category = make_category(active=True)
    seeker = make_seeker(category)
    provider = make_provider(category)
    pot_award(user=seeker.user, rule_key="profile_creation_seeker", cause="csp-test")
    public = [
        "/",
        reverse("category-detail", args=[category.name]),
        reverse("provider-detail", args=[provider.pk]),
        reverse("signup"),
        reverse("login"),
        reverse("password_reset"),
        reverse("password_reset_done"),
        reverse("password_reset_complete"),
        reverse("password_reset_confirm", args=["MQ", "bad-token"]),
        "/api/v1/docs/",
    ]
    person = [
        reverse("dashboard"),
        reverse("seeker-create"),
        reverse("seeker-edit", args=[seeker.pk]),
        reverse("provider-create"),
        reverse("matches"),
        reverse("leads"),
        reverse("engagements"),
        reverse("commission-statement"),
        reverse("wallet"),
    ]
    operator = [
        reverse("admin:index"),
        reverse("admin:currency_economy"),
        reverse("admin:categories_category_change", args=[category.pk]),
        reverse("admin:marketplace_provider_change", args=[provider.pk]),
        reverse("admin:marketplace_seeker_change", args=[seeker.pk]),
        reverse("admin:marketplace_user_change", args=[seeker.user.pk]),
    ]
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        operator.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if model_admin.has_add_permission(mock.Mock(user=UserFactory.build(is_staff=True, is_superuser=True))):
            operator.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    pages = {url: client.get(url, follow=True) for url in public}
    client.force_login(seeker.user)
    pages |= {url: client.get(url, follow=True) for url in person}
    pages |= {url: admin_client.get(url) for url in operator}
    for url, response in pages.items():
        assert response.status_code == 200, url
    return {url: response.content.decode() for url, response in pages.items()}


def test_no_page_has_an_inline_script_or_style(client, admin_client):
    pages = _pages(client, admin_client)
    assert len(pages) > 30
    found = {url: inline_code(html) for url, html in pages.items()}
    assert {url: code for url, code in found.items() if code} == {}


def directives_of(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_only_the_redoc_page_allows_inline_styles_and_a_blob_worker(client):
    """ReDoc writes its styles at run time and parses the schema in a blob: worker: that page alone
    gets both; scripts stay files from the site on it too, and every other page keeps the strict policy."""
    redoc = directives_of(client.get("/api/v1/redoc/"))
    assert redoc["style-src"] == "'self' 'unsafe-inline'" and redoc["worker-src"] == "'self' blob:"
    assert "script-src" not in redoc and redoc["default-src"] == "'self'"  # scripts: default-src 'self'
    assert "unsafe-eval" not in str(redoc)
    user = UserFactory()
    client.force_login(user)
    for url in ("/", "/api/v1/", "/api/v1/docs/", "/api/v1/schema/", reverse("dashboard"), reverse("login")):
        policy = client.get(url)["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "blob:" not in policy, url


def test_swagger_ui_is_served_by_the_project_with_its_script_as_a_file(client):
    html = client.get("/api/v1/docs/").content.decode()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/") for source in sources), sources  # no CDN
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_health_answers_over_plain_http_when_everything_else_redirects_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301
    assert client.get("/api/v1/categories/").status_code == 301
    response = client.get("/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_health_503_names_the_cache_when_it_fails(client):
    with mock.patch("imatch.health.cache.set", side_effect=ConnectionError("cache down")):
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "cache down", "broker": "inline"}


def test_health_checks_the_broker_when_one_is_configured(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["cache"] == "ok"
    assert body["status"] == "error" and body["broker"] not in ("ok", "inline", "")


def test_health_says_ok_for_a_reachable_broker(client, settings):
    settings.CELERY_BROKER_URL = "memory://"
    response = client.get("/health")
    assert response.status_code == 200 and response.json()["broker"] == "ok"


def test_health_reuses_a_recent_broker_ok_and_checks_again_after_it_expires(client, settings, monkeypatch):
    from imatch import health

    settings.CELERY_BROKER_URL = "memory://"
    monkeypatch.setattr(health, "_broker_ok", {})
    now = [1000.0]
    monkeypatch.setattr(health.time, "monotonic", lambda: now[0])
    assert client.get("/health").json()["broker"] == "ok"  # checked for real, remembered
    with mock.patch.object(health.celery_app, "connection_for_write", side_effect=OSError("broker down")) as connect:
        now[0] += health.BROKER_OK_SECONDS - 0.5
        assert client.get("/health").status_code == 200  # within the window: no new connection
        assert connect.call_count == 0
        now[0] += 1
        response = client.get("/health")  # expired: checked again, and the failure is reported
        assert response.status_code == 503 and response.json()["broker"] == "broker down"
        now[0] += 0.1
        assert client.get("/health").json()["broker"] == "broker down"  # a failure is not remembered
        assert connect.call_count == 2


def test_health_does_not_reuse_an_ok_for_another_broker(client, settings, monkeypatch):
    from imatch import health

    monkeypatch.setattr(health, "_broker_ok", {})
    settings.CELERY_BROKER_URL = "memory://"
    assert client.get("/health").json()["broker"] == "ok"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with mock.patch.object(health.celery_app, "connection_for_write", side_effect=OSError("refused")):
        response = client.get("/health")
    assert response.status_code == 503 and response.json()["broker"] == "refused"
