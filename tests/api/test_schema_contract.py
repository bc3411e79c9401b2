"""The rules every API operation's schema follows, so that a generated client can use it.

They hold for every operation of `/api/v1/schema/`, so a new endpoint is checked as soon as it
is routed: a summary of its own, a tag, a description; staff-only ones marked; integer path ids;
its 4xx answers documented; JSON request bodies with an example; request components free of read-only fields;
a minimum and a maximum on every number a client sends; a type on every response field.
(The Error component and each operation's codes: tests/api/test_error_catalogue.py; the live
contract, through a generated client: tests/api/test_generated_client.py.)
"""

import pytest
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _numbers(schema: dict, node: dict, where: str, seen: set):
    """(where, schema) of every number or integer reachable from a request schema."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return
        seen.add(name)
        node = _resolve(schema, node)
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if {"integer", "number"} & set(types):
        yield where, node
    for name, child in node.get("properties", {}).items():
        yield from _numbers(schema, child, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from _numbers(schema, node[key], f"{where}[]", seen)
    for key in ("allOf", "oneOf", "anyOf"):
        for child in node.get(key, []):
            yield from _numbers(schema, child, where, seen)


def test_every_operation_has_a_summary_of_its_own_a_tag_and_a_description(schema):
    summaries: dict[str, str] = {}
    for label, operation in _operations(schema):
        summary = operation.get("summary", "")
        assert summary and len(summary) <= 80 and not summary.endswith("."), f"{label}: summary {summary!r}"
        assert summary not in summaries, f"{label} and {summaries.get(summary)} share the summary {summary!r}"
        summaries[summary] = label
        assert operation.get("description"), f"{label} has no description"
        assert len(operation.get("tags", [])) == 1, label
    declared = {tag["name"] for tag in schema["tags"]}
    used = {operation["tags"][0] for _, operation in _operations(schema)}
    assert used <= declared, f"tags without a description in SPECTACULAR_SETTINGS['TAGS']: {used - declared}"


def test_staff_only_operations_say_so(schema):
    staff_only = {label for label, operation in _operations(schema) if operation.get("x-staff-only")}
    assert {
        "GET /api/v1/pot/economy/",
        "POST /api/v1/providers/{id}/verify-license/",
        "POST /api/v1/providers/{id}/unverify-license/",
        "POST /api/v1/categories/{name}/activate/",
        "POST /api/v1/users/{id}/deactivate/",
        "POST /api/v1/pot/redemptions/{id}/approve/",
    } <= staff_only
    for label, operation in _operations(schema):
        marked = label in staff_only
        assert operation["description"].startswith("Staff only.") == marked, label
        assert ("403" in operation["responses"]) or not marked, label


def test_path_ids_are_integers(schema):
    for label, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and (parameter["name"] == "id" or parameter["name"].endswith("_id")):
                assert parameter["schema"]["type"] == "integer", f"{label}: {parameter}"
                assert parameter["schema"]["minimum"] >= 0 and parameter["schema"]["maximum"] < 2**63, label


def test_every_operation_documents_its_4xx_answers(schema):
    for label, operation in _operations(schema):
        statuses = set(operation["responses"])
        assert any(status.startswith("4") for status in statuses), label
        if operation["security"]:  # needs a login
            assert "401" in statuses, label
        if "{" in label:
            assert "404" in statuses, label


def test_public_operations_declare_no_security_and_the_others_a_token(schema):
    for label, operation in _operations(schema):
        schemes = {name for requirement in operation["security"] for name in requirement}
        assert schemes <= {"tokenAuth", "cookieAuth"} and {} not in operation["security"], label
    public = {label for label, operation in _operations(schema) if operation["security"] == []}
    assert {
        "POST /api/v1/auth/register/",
        "GET /api/v1/providers/",
        "GET /api/v1/categories/",
        "GET /api/v1/leaderboards/",
    } <= public
    assert "GET /api/v1/me/" not in public


def test_request_bodies_are_json_with_components_of_their_own(schema):
    """JSON with an example; multipart/form-data only where the body carries a file (a photo upload)."""
    uploads = set()
    for label, operation in _operations(schema):
        body = operation.get("requestBody")
        if body is None:
            continue
        [content_type] = list(body["content"])
        assert content_type in ("application/json", "multipart/form-data"), label
        reference = body["content"][content_type]["schema"]["$ref"]
        component = _resolve(schema, {"$ref": reference})
        read_only = [name for name, field in component.get("properties", {}).items() if field.get("readOnly")]
        assert read_only == [], f"{label}: read-only fields in the request body: {read_only}"
        if content_type == "multipart/form-data":
            uploads.add(label)
            files = [name for name, field in component["properties"].items() if field.get("format") == "binary"]
            assert files, f"{label}: multipart without a file"
        else:
            assert body["content"]["application/json"].get("examples"), f"{label}: no example body"
    assert uploads == {"POST /api/v1/me/photo/"}


def test_every_number_a_client_sends_has_bounds(schema):
    for label, operation in _operations(schema):
        numbers = []
        for parameter in operation.get("parameters", []):
            numbers += _numbers(schema, parameter["schema"], f"{label} ?{parameter['name']}", set())
        body = operation.get("requestBody")
        if body:
            [content] = body["content"].values()
            numbers += _numbers(schema, content["schema"], f"{label} body", set())
        for where, number in numbers:
            assert "minimum" in number and "maximum" in number, f"{where} has no bounds: {number}"


def test_every_response_field_has_a_type(schema):
    untyped = []
    for name, component in schema["components"]["schemas"].items():
        for field_name, field in component.get("properties", {}).items():
            if not ({"type", "$ref", "allOf", "oneOf", "anyOf", "enum"} & set(field)):
                untyped.append(f"{name}.{field_name}")
    assert untyped == []


def test_the_types_the_issue_found_missing(schema):
    components = schema["components"]["schemas"]
    match = components["Match"]["properties"]
    assert match["reasons"] == {"type": "array", "items": {"type": "string"}, **_extra(match["reasons"])}
    assert match["breakdown"]["additionalProperties"]["type"] == "number"
    assert components["Balance"]["properties"]["level"]["allOf"] == [{"$ref": "#/components/schemas/Level"}]
    effect = components["PotTransaction"]["properties"]["effect"]
    assert {"$ref": "#/components/schemas/PurchaseEffect"} in effect["oneOf"] and {"type": "null"} in effect["oneOf"]
    stars = components["RatingRequest"]["properties"]["stars"]
    assert (stars["minimum"], stars["maximum"]) == (1, 5)
    assert set(components["ProviderPublic"]["properties"]) - set(components["ProviderPublic"]["required"]) == {
        "user",
        "license_number",
        "max_active_clients",
    }


def _extra(field: dict) -> dict:
    return {key: value for key, value in field.items() if key not in ("type", "items")}


def test_lists_filter_their_category_by_one_name(schema):
    for path in ("/api/v1/seekers/", "/api/v1/providers/", "/api/v1/matches/", "/api/v1/engagements/"):
        names = {parameter["name"] for parameter in schema["paths"][path]["get"]["parameters"]}
        assert "category" in names and "category__name" not in names, path
    mine = {p["name"]: p for p in schema["paths"]["/api/v1/providers/"]["get"]["parameters"]}["mine"]
    assert mine["schema"]["type"] == "boolean" and mine["description"]


def test_answer_headers_are_documented(schema):
    spend = schema["paths"]["/api/v1/pot/spend/"]["post"]["responses"]
    assert "Idempotent-Replayed" in spend["201"]["headers"]
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert token["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"


def test_matching_documents_both_its_answers_and_the_server_is_relative(schema):
    responses = schema["paths"]["/api/v1/seekers/{seeker_id}/match/"]["post"]["responses"]
    assert {"200", "201"} <= set(responses)
    assert schema["servers"] == [{"url": "/", "description": "The server this schema is served from."}]
