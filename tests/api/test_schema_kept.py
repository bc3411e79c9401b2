"""`GET /api/v1/schema/` is the same for everyone; its usual fetch is built and rendered once per process,
any other for its request (imatch.api_root.SchemaView)."""

from unittest import mock

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer

from imatch import api_root
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory

SCHEMA = "/api/v1/schema/?format=json"


@pytest.fixture(autouse=True)
def _nothing_built_yet():
    api_root._forget_schemas()
    yield
    api_root._forget_schemas()


@pytest.fixture
def renders():
    """Counts the schema's renderings (drf-spectacular's JSON and YAML renderers)."""
    with (
        mock.patch.object(OpenApiJsonRenderer, "render", autospec=True, side_effect=OpenApiJsonRenderer.render) as json,
        mock.patch.object(OpenApiYamlRenderer, "render", autospec=True, side_effect=OpenApiYamlRenderer.render) as yaml,
    ):
        yield lambda: json.call_count + yaml.call_count


@pytest.fixture
def builds():
    """Counts the schema's builds (drf-spectacular's generator, as the view calls it)."""
    real = SchemaGenerator.get_schema
    with mock.patch.object(SchemaGenerator, "get_schema", autospec=True, side_effect=real) as counted:
        yield counted


def test_the_schema_is_built_once_and_served_again(api_client, db, builds):
    first = api_client.get(SCHEMA)
    second = api_client.get(SCHEMA)

    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert builds.call_count == 1
    assert first["Content-Disposition"] == 'inline; filename="I MATCH API.json"'


def test_the_served_schema_is_the_one_the_generator_builds(api_client, db):
    served = api_client.get(SCHEMA).json()

    assert served == SchemaGenerator().get_schema(request=None, public=True)
    assert "/api/v1/pot/spend/" in served["paths"]


def test_everyone_is_served_the_same_schema_whoever_built_it(api_client, db, builds):
    """Built on a staff member's request or an anonymous one, the schema is the same bytes: who asks never shapes it."""
    staff = client_for(UserFactory(is_staff=True))
    seeker = client_for(UserFactory(account_type="seeker"))

    built_for_staff = staff.get(SCHEMA).content
    api_root._forget_schemas()
    built_for_anyone = api_client.get(SCHEMA).content

    assert built_for_staff == built_for_anyone == seeker.get(SCHEMA).content
    assert builds.call_count == 2


def test_the_yaml_schema_is_served_from_the_same_build(api_client, db, builds):
    as_json = api_client.get(SCHEMA)
    as_yaml = api_client.get("/api/v1/schema/")

    assert as_yaml.status_code == 200
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"/api/v1/pot/spend/:" in as_yaml.content and as_json.json()["info"]["title"] == "I MATCH API"
    assert builds.call_count == 1


def test_a_changed_setting_builds_the_schema_again(api_client, db, builds, settings):
    api_client.get(SCHEMA)
    settings.SPECTACULAR_SETTINGS = {**settings.SPECTACULAR_SETTINGS, "VERSION": "1.0.0"}
    api_client.get(SCHEMA)

    assert builds.call_count == 2


def test_another_language_or_version_is_built_for_its_request_and_not_kept(api_client, db, builds):
    """`?lang=` translates the schema's own texts and `?version=` names a version (drf-spectacular's
    parameters): the usual schema is built once, the others on each fetch, as drf-spectacular does."""
    english = api_client.get(SCHEMA)
    german = [api_client.get(SCHEMA + "&lang=de") for _ in range(2)]
    versioned = api_client.get(SCHEMA + "&version=2")
    api_client.get(SCHEMA)

    assert english.status_code == versioned.status_code == 200
    assert [fetch.status_code for fetch in german] == [200, 200]
    assert builds.call_count == 4
    assert list(api_root._kept) == ["schema", OpenApiJsonRenderer]


def test_what_a_caller_sends_cannot_fill_a_workers_memory(api_client, db):
    """Languages, versions and media type parameters take any value: only the usual fetch is kept."""
    for n in range(5):
        assert api_client.get(f"{SCHEMA}&lang=x{n}").status_code == 200
        assert api_client.get(f"{SCHEMA}&version=v{n}").status_code == 200
        indented = api_client.get("/api/v1/schema/", HTTP_ACCEPT=f"application/vnd.oai.openapi+json; indent={n}")
        assert indented.status_code == 200 and indented.json()["info"]["title"] == "I MATCH API"
    assert list(api_root._kept) == ["schema"]  # the usual schema (the indented fetches'), no rendering

    api_client.get(SCHEMA)
    api_client.get("/api/v1/schema/")
    assert set(api_root._kept) == {"schema", OpenApiJsonRenderer, OpenApiYamlRenderer}


def test_the_schema_warmed_before_the_workers_fork_serves_their_first_fetches(api_client, db, builds):
    """gunicorn's master calls `schema_warm` (gunicorn.conf.py): a plain fetch, Swagger UI's and ReDoc's
    then build nothing."""
    api_root.schema_warm()
    assert builds.call_count == 1

    for fetch in (SCHEMA, "/api/v1/schema/", SCHEMA + "&lang=en-us"):
        assert api_client.get(fetch).status_code == 200
    assert api_client.get("/api/v1/docs/").status_code == api_client.get("/api/v1/redoc/").status_code == 200

    assert builds.call_count == 1
    assert "schema" in api_root._kept


def test_each_rendering_is_made_once_and_served_again(api_client, db, renders, settings):
    """JSON and YAML are rendered once each; the kept bytes carry their own Content-Type."""
    first_json, first_yaml = api_client.get(SCHEMA), api_client.get("/api/v1/schema/")
    again_json, again_yaml = api_client.get(SCHEMA), api_client.get("/api/v1/schema/")

    assert renders() == 2
    assert first_json.content == again_json.content and first_yaml.content == again_yaml.content
    assert again_json["Content-Type"] == first_json["Content-Type"] == "application/vnd.oai.openapi+json"
    assert again_yaml["Content-Type"] == first_yaml["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert again_json["Content-Disposition"] == 'inline; filename="I MATCH API.json"'
    assert again_json.json()["info"]["title"] == "I MATCH API"

    settings.SPECTACULAR_SETTINGS = {**settings.SPECTACULAR_SETTINGS, "VERSION": "1.0.0"}
    api_client.get(SCHEMA)
    assert renders() == 3  # a changed setting renders again, as it builds again
