"""The busiest reads stay cheap: query counts of the home page, the category list and the
directory, the shared-cache copies and what clears them, and (PostgreSQL) the directory's
plan: an ordered index scan, never a sequential scan of the providers."""

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from categories import selectors as category_selectors
from categories import services as category_services
from marketplace import selectors
from marketplace.models import Provider, User
from marketplace.services import profiles
from tests.categories.factories import CategoryFactory
from tests.marketplace.factories import ProviderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def licensed():
    """A category that requires a license, with two verified providers and one waiting."""
    category = CategoryFactory(active=True, requires_license=True)
    for verified in (True, True, False):
        ProviderFactory(category=category, license_verified=verified)
    return category


def test_home_page_reads_nothing_once_the_catalogue_is_cached(licensed, django_assert_num_queries):
    client = Client()
    assert client.get("/").status_code == 200
    with django_assert_num_queries(0):  # anonymous: categories and counts both come from the cache
        page = client.get("/").content.decode()
    assert licensed.display_name in page and "2 providers" in page


def test_category_list_reads_nothing_once_cached(licensed, django_assert_num_queries):
    client = APIClient()
    first = client.get("/api/v1/categories/").json()
    with django_assert_num_queries(0):
        again = client.get("/api/v1/categories/").json()
    assert again == first and licensed.name in {row["name"] for row in first["results"]}


def test_directory_is_two_queries_once_its_total_is_cached(licensed, django_assert_num_queries):
    for _ in range(30):
        ProviderFactory(category=licensed, license_verified=True)
    client = APIClient()
    url = f"/api/v1/providers/?category={licensed.name}"
    first = client.get(url).json()
    assert first["count"] == 32
    with django_assert_num_queries(0):  # an anonymous visitor: the answer this process kept (catalog_memo)
        assert client.get(url).json() == first
    category_selectors._memo.clear()  # another process: the total and the catalogue are in the shared cache
    with django_assert_num_queries(2):  # the page of providers (user and category joined) and their specialties
        body = client.get(url).json()
    assert body["count"] == 32 and len(body["results"]) == 20


def test_an_unknown_category_lists_nobody_without_a_query(licensed, django_assert_num_queries):
    client = APIClient()
    client.get("/api/v1/categories/")
    with django_assert_num_queries(0):
        body = client.get("/api/v1/providers/?category=no_such_thing").json()
    assert body["count"] == 0 and body["results"] == []


def test_a_new_provider_is_counted_at_once(licensed, seeded_categories):
    client = APIClient()
    url = f"/api/v1/providers/?category={licensed.name}"
    assert client.get(url).json()["count"] == 2
    assert "2 providers" in Client().get("/").content.decode()
    category = category_services.category_launch(category=seeded_categories["career_coaches"])
    profiles.provider_create(user=UserFactory(), category=category, business_name="New coach")
    coaches = client.get(f"/api/v1/providers/?category={category.name}").json()
    assert coaches["count"] == 1
    home = Client().get("/").content.decode()
    assert category.display_name in home and "1 provider " in home


def test_a_verified_license_lists_the_provider_at_once(licensed, operator):
    client = APIClient()
    url = f"/api/v1/providers/?category={licensed.name}"
    assert client.get(url).json()["count"] == 2
    waiting = Provider.objects.get(category=licensed, license_verified=False)
    waiting.license_number = "LIC-1"
    waiting.save()
    profiles.provider_verify_license(provider=waiting, operator=operator)
    assert client.get(url).json()["count"] == 3


def test_a_deactivated_account_leaves_the_counts_at_once(licensed, operator):
    client = APIClient()
    url = f"/api/v1/providers/?category={licensed.name}"
    assert client.get(url).json()["count"] == 2
    listed = Provider.objects.filter(category=licensed, license_verified=True).first()
    profiles.user_deactivate(user=listed.user, operator=operator, reason="Asked to leave")
    assert client.get(url).json()["count"] == 1
    assert "1 provider " in Client().get("/").content.decode()


def test_a_deactivated_category_leaves_the_catalogue_at_once(licensed):
    client = APIClient()
    assert licensed.name in {row["name"] for row in client.get("/api/v1/categories/").json()["results"]}
    category_services.category_deactivate(category=licensed)
    assert licensed.name not in {row["name"] for row in client.get("/api/v1/categories/").json()["results"]}
    assert client.get(f"/api/v1/providers/?category={licensed.name}").json()["count"] == 0
    assert licensed.display_name not in Client().get("/").content.decode()


def test_directory_filters_keep_their_own_totals(licensed):
    ProviderFactory(category=licensed, license_verified=True, state="CA", city="Fresno", location="Fresno, CA")
    client = APIClient()
    base = f"/api/v1/providers/?category={licensed.name}"
    assert client.get(base).json()["count"] == 3
    assert client.get(base + "&state=CA").json()["count"] == 1
    assert client.get(base + "&state=NY").json()["count"] == 0
    assert client.get(base).json()["count"] == 3


def test_public_pages_are_kept_per_process_for_anonymous_visitors(licensed, django_assert_num_queries):
    """Home, category directory and provider page: built once per catalogue version, then no query."""
    provider = Provider.objects.filter(category=licensed, license_verified=True).first()
    client = Client()
    for url in (
        "/",
        f"/categories/{licensed.name}/",
        f"/categories/{licensed.name}/?state=CA",
        f"/providers/{provider.pk}/",
    ):
        first = client.get(url)
        assert first.status_code == 200
        with django_assert_num_queries(0):
            again = client.get(url)
        assert again.content == first.content and again["Content-Type"] == first["Content-Type"]


def test_a_kept_public_page_follows_every_directory_change_at_once(licensed, operator):
    client = Client()
    url = f"/categories/{licensed.name}/"
    listed = Provider.objects.filter(category=licensed, license_verified=True).first()
    assert listed.business_name in client.get(url).content.decode()
    profiles.provider_update(provider=listed, changes={"business_name": "Renamed Advisory"})
    assert "Renamed Advisory" in client.get(url).content.decode()
    profiles.provider_unverify_license(provider=listed, operator=operator)
    assert "Renamed Advisory" not in client.get(url).content.decode()
    assert client.get(f"/providers/{listed.pk}/").status_code == 404
    api = APIClient()
    assert api.get(f"/api/v1/providers/{listed.pk}/").status_code == 404


def test_logged_in_visitors_get_their_own_page(licensed, user):
    """Their name, wallet and bell are on the page: never a page kept for someone else."""
    url = f"/categories/{licensed.name}/"
    assert "Log in" in Client().get(url).content.decode()
    client = Client()
    client.force_login(user)
    page = client.get(url).content.decode()
    assert user.name in page and "Log out" in page


def test_an_owner_sees_private_fields_that_anonymous_visitors_never_get(licensed):
    provider = Provider.objects.filter(category=licensed, license_verified=True).first()
    url = f"/api/v1/providers/{provider.pk}/"
    assert "license_number" not in APIClient().get(url).json()
    owner = APIClient()
    owner.force_authenticate(provider.user)
    assert owner.get(url).json()["license_number"] == provider.license_number
    assert "license_number" not in APIClient().get(url).json()


@pytest.mark.postgres
def test_the_default_directory_query_never_scans_every_provider():
    """Thousands of providers, fresh statistics: the page is read in order from an index, not sorted."""
    licensed = CategoryFactory(active=True, requires_license=True)
    other = CategoryFactory(active=True, requires_license=False)
    users = User.objects.bulk_create(
        [User(email=f"p{n}@example.com", name=f"P {n}", password="!") for n in range(3000)]
    )
    Provider.objects.bulk_create(
        [
            Provider(
                user=user,
                category=licensed if n % 3 else other,
                business_name=f"Firm {n}",
                license_verified=n % 10 != 0,
                rating_avg=Decimal(n % 500) / 100,
                rating_count=n % 40,
            )
            for n, user in enumerate(users)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE providers")
        cursor.execute("ANALYZE users")

    for category in (licensed, other):
        directory = selectors.provider_directory(category=category)
        # The API's order, and the category page's default one ("best match", the Bayesian rank).
        for query in (directory, selectors.provider_directory_search(directory, sort="best")):
            nodes = _nodes(json.loads(query[:20].explain(format="json")))
            [providers_scan] = [node for node in nodes if node.get("Relation Name") == "providers"]
            assert providers_scan["Node Type"] == "Index Scan", providers_scan  # never "Seq Scan"
            assert providers_scan["Index Name"].startswith("provider_directory_")
            assert not [node for node in nodes if node["Node Type"] == "Sort"]  # read in the directory's order


def _nodes(explained) -> list[dict]:
    """Every node of an EXPLAIN (FORMAT JSON) plan."""
    found, pending = [], [entry["Plan"] for entry in (explained if isinstance(explained, list) else [explained])]
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(node.get("Plans", []))
    return found


def test_production_keeps_connections_and_compiled_templates():
    """Production settings: persistent, health-checked connections and the cached template loader."""
    script = (
        "from django.db import connection; from django.template import engines; "
        "settings = connection.settings_dict; "
        "loader = engines['django'].engine.template_loaders[0]; "
        "print(settings['CONN_MAX_AGE'], settings['CONN_HEALTH_CHECKS'], type(loader).__module__)"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "imatch.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "x7$k2!production-like-secret-key-with-enough-entropy-9f8e7d6c5b4a",
        "DATABASE_URL": "postgres://imatch@db.internal:5432/imatch",  # never connected to
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["60", "True", "django.template.loaders.cached"]


@pytest.mark.parametrize(
    "path", ["/api/v1/categories/", "/api/v1/providers/?category={name}", "/api/v1/providers/{id}/"]
)
def test_a_kept_anonymous_answer_is_sent_as_written_and_still_renders_otherwise(licensed, path, monkeypatch):
    """The kept answers of the catalogue and the directory keep their JSON (`WrittenResponse`): a hit
    sends the bytes DRF's renderer wrote for the data, without rendering again; the browsable API
    and `; indent=` render the data as before."""
    provider = Provider.objects.filter(category=licensed, license_verified=True).first()
    url = path.format(name=licensed.name, id=provider.pk)
    client = APIClient()
    first = client.get(url)
    renders = []
    render = JSONRenderer.render
    monkeypatch.setattr(
        JSONRenderer, "render", lambda self, *args, **kwargs: renders.append(1) or render(self, *args, **kwargs)
    )
    kept = client.get(url)
    assert renders == []
    assert first.status_code == kept.status_code == 200 and kept["Content-Type"] == "application/json"
    assert kept.content == first.content == render(JSONRenderer(), first.json())
    indented = client.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert indented.content.startswith(b'{\n  "') and json.loads(indented.content) == first.json()
    page = client.get(url, HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
