"""The error catalogue: each app lists its codes once, services use them, the schema shows them."""

import ast
import importlib
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

from imatch.api import error_codes
from imatch.errors import DomainError

ROOT = Path(__file__).resolve().parents[2]
APPS = ("categories", "currency", "marketplace")


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operation(schema: dict, method: str, path: str) -> dict:
    return schema["paths"][path][method]


def _codes(operation: dict, status: str) -> set[str]:
    description = operation["responses"][status]["description"]
    return {code.strip(" `.") for code in description.split("Codes: ")[1].split(",")}


def test_no_code_is_catalogued_by_two_apps():
    seen: dict[str, str] = {}
    for module_name in ("imatch.errors", *(f"{app}.errors" for app in APPS)):
        for code in importlib.import_module(module_name).ErrorCode:
            assert code.value not in seen, f"{code.value} is in {seen.get(code.value)} and {module_name}"
            seen[code.value] = module_name


def _domain_error_names() -> set[str]:
    names, pending = set(), [DomainError]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return names


def test_services_raise_catalogued_codes_never_inline_strings():
    """A refusal's code comes from an `errors.ErrorCode`, so the catalogue cannot drift from the code."""
    for module_name in APPS:
        importlib.import_module(f"{module_name}.errors")
    domain_errors = _domain_error_names()
    inline = []
    for path in (ROOT / app for app in APPS):
        for source in path.rglob("*.py"):
            tree = ast.parse(source.read_text(), filename=str(source))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                for keyword in node.keywords:
                    if name in domain_errors and keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        inline.append(f"{source.relative_to(ROOT)}:{node.lineno}")
    assert inline == []


def test_the_error_component_enumerates_every_catalogued_code(schema):
    enum = schema["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    assert enum == error_codes()
    assert {"insufficient_pot", "category_inactive", "wrong_side", "throttled", "invalid"} <= set(enum)


def test_every_4xx_response_is_an_error_with_catalogued_codes(schema):
    catalogued = set(error_codes())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("4"):
                    continue
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
                assert _codes(operation, status) <= catalogued, f"{method} {path} {status}"


def test_each_operation_lists_the_codes_it_can_answer(schema):
    spend = _operation(schema, "post", "/api/v1/pot/spend/")
    assert {"insufficient_pot", "unknown_option", "wrong_audience", "invalid_idempotency_key"} <= _codes(spend, "400")
    assert _codes(spend, "409") == {"idempotency_key_reused", "price_changed"}
    assert _codes(spend, "401") == {"not_authenticated", "authentication_failed"}
    assert "403" not in spend["responses"]

    economy = _operation(schema, "get", "/api/v1/pot/economy/")
    assert _codes(economy, "403") == {"permission_denied"}

    accept = _operation(schema, "post", "/api/v1/matches/{id}/accept/")
    assert _codes(accept, "403") == {"wrong_side"}
    assert _codes(accept, "404") == {"not_found"}
    assert "invalid_transition" in _codes(accept, "400")

    seekers = _operation(schema, "post", "/api/v1/seekers/")
    assert {"category_inactive", "duplicate_profile", "range_reversed"} <= _codes(seekers, "400")
    assert "read_only" in _codes(_operation(schema, "patch", "/api/v1/seekers/{id}/"), "400")

    categories = _operation(schema, "get", "/api/v1/categories/")
    assert "401" not in categories["responses"]  # public


def test_operations_that_read_a_body_list_its_parse_and_media_type_refusals(schema):
    spend = _operation(schema, "post", "/api/v1/pot/spend/")
    assert "parse_error" in _codes(spend, "400")
    assert _codes(spend, "415") == {"unsupported_media_type"}
    accept = _operation(schema, "post", "/api/v1/matches/{id}/accept/")  # no body: nothing to refuse
    assert "415" not in accept["responses"]


def test_matching_documents_both_its_answers(schema):
    responses = _operation(schema, "post", "/api/v1/seekers/{seeker_id}/match/")["responses"]
    for status in ("200", "201"):
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/MatchRun"}


def test_fields_only_owners_see_are_never_required_in_the_public_directory(schema):
    private = {"user", "license_number", "max_active_clients"}
    public = schema["components"]["schemas"]["ProviderPublic"]
    assert private <= set(public["properties"])
    assert not private & set(public["required"])
    assert {"id", "business_name", "category"} <= set(public["required"])
    for path in ("/api/v1/providers/{id}/",):
        ok = _operation(schema, "get", path)["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/ProviderPublic"}
    # The owner's own answers (create, update) carry them always.
    assert private <= set(schema["components"]["schemas"]["Provider"]["required"])


def test_an_unmet_accept_header_is_a_documented_406(schema, user_api):
    response = user_api.get("/api/v1/me/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"
    for operations in schema["paths"].values():
        for operation in operations.values():
            assert _codes(operation, "406") == {"not_acceptable"}


def test_a_method_a_path_does_not_have_is_a_405_with_a_catalogued_code(user_api):
    """No operation lists it (the schema lists the methods a path has); the answer is still an `Error`."""
    for response in (user_api.delete("/api/v1/seekers/1/"), user_api.put("/api/v1/me/", {}, format="json")):
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"
        assert "method_not_allowed" in error_codes()
