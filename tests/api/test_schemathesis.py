"""The API against its own schema: schemathesis calls every operation as a seeker, a provider and staff.

The schema is loaded from the application (`/api/v1/schema/` through `imatch.wsgi.application`,
in-process, no network), and every generated call goes there too. Each call must not be a
server error, must answer a status the operation documents, with the documented content type
and a body that matches the documented schema; a 4xx `code` must be one the operation lists
for that status (`imatch.api.ErrorDocumentingAutoSchema`). Calls are what the schema allows
(on random ids and on the world's objects) and, where there is input, bad input.

Every call runs in a savepoint that is rolled back, so each one meets the same seeded world
(a launched category, a seeker with a profile, providers, matches, an engagement, POT, a
pending redemption) whatever an earlier call changed: a logout does not end the identity's
token, a deactivation does not lock the next call out.

Bounded to fit CI: a fixed number of examples per operation and identity, derandomized (the
same cases every run, so a failure reproduces), no example database.

Left out on purpose: methods a path does not have (405 `method_not_allowed`). OpenAPI lists
answers per operation, and such a call has no operation to list it under; the answer is in the
error format with a catalogued code. An Accept header the API cannot meet is a 406 that every
operation documents. Both are pinned in tests/api/test_error_catalogue.py.
"""

import os
from dataclasses import dataclass
from decimal import Decimal

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from currency import services as pot
from imatch.wsgi import application
from marketplace.candidates import clear_pool_cache
from marketplace.services import engagements, matches, ratings
from marketplace.services.tokens import api_token_issue
from tests.currency.factories import pot_fund
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db

# Per operation and identity: 47 operations x 3 identities take about a minute per database.
# SCHEMATHESIS_EXAMPLES=100 searches deeper in a local run.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def in_process_requests():
    """Generated calls run inside the test's transaction: like Django's test client, stop Django
    closing the database connection at the start and end of each request."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def api_schema(in_process_requests):
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


@dataclass
class World:
    tokens: dict[str, str]
    path_values: dict[str, list]  # path prefix -> values for the one parameter of the paths under it


@pytest.fixture
def world(seeded_categories) -> World:
    """A small living marketplace: the objects the generated calls can find by id."""
    category = make_category()
    seeker_user = UserFactory(verified=True)
    provider_user = UserFactory(verified=True)
    staff = UserFactory(is_staff=True, is_superuser=True, verified=True)
    seeker = make_seeker(category, user=seeker_user)
    provider = make_provider(category, user=provider_user)
    other_provider = make_provider(category)
    # A second profile of the seeker's, in a category with a provider but no match yet (matching answers 201).
    fresh_category = make_category(name="tutors", display_name="Tutors")
    fresh_seeker = make_seeker(fresh_category, user=seeker_user)
    make_provider(fresh_category)
    found = {match.provider_id: match for match in matches.match_run_for_seeker(seeker=seeker)}
    accepted, suggested = found[provider.pk], found[other_provider.pk]
    matches.match_introduce(match=accepted, user=seeker_user)
    matches.match_accept(match=accepted, user=provider_user)
    engagement = engagements.engagement_report(match=accepted, user=seeker_user, deal_value_usd=Decimal("1000.00"))
    engagements.engagement_confirm(engagement=engagement, user=provider_user)
    rating = ratings.rating_create(engagement=engagement, user=seeker_user, stars=4, review="Clear and kind.")
    pot_fund(seeker_user, 5_000)
    pot_fund(provider_user, 5_000)
    redemption = pot.redemption_request(user=provider_user, pot_amount=1_000, payment_method="PayPal p@example.com")
    prefix = "/api/v1"
    return World(
        tokens={
            "seeker": api_token_issue(user=seeker_user),
            "provider": api_token_issue(user=provider_user),
            "staff": api_token_issue(user=staff),
        },
        path_values={
            f"{prefix}/seekers/": [seeker.pk, fresh_seeker.pk],
            f"{prefix}/providers/": [provider.pk, other_provider.pk],
            f"{prefix}/matches/": [accepted.pk, suggested.pk],
            f"{prefix}/engagements/": [engagement.pk],
            f"{prefix}/ratings/": [rating.pk],
            f"{prefix}/pot/redemptions/": [redemption.redemption.pk],
            f"{prefix}/users/": [seeker_user.pk, provider_user.pk],
            f"{prefix}/categories/": [category.name, "career_coaches"],
        },
    )


def _known_path_parameters(operation, world: World) -> list[dict]:
    """Path parameters naming objects of the seeded world, so calls reach more than 404."""
    names = [parameter.name for parameter in operation.path_parameters]
    if len(names) != 1:
        return []
    for prefix, values in world.path_values.items():
        if operation.path.startswith(prefix):
            return [{names[0]: value} for value in values]
    return []


def _strategy(operation, world: World):
    """Generated calls: anything the schema allows, the same on the world's objects, and bad input on them."""
    strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    known = _known_path_parameters(operation, world)
    for path_parameters in known:
        strategies.append(operation.as_strategy(path_parameters=path_parameters))
    negatable = operation.body or any(p.location != "path" for p in operation.iter_parameters())
    if negatable:
        for path_parameters in known or [None]:
            strategies.append(
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=path_parameters)
            )
    return st.one_of(strategies)


def _check_error_code_is_documented(case, response) -> None:
    """A 4xx answer's `code` is one its operation lists for that status ("Codes: `a`, `b`.")."""
    if not 400 <= response.status_code < 500:
        return
    described = case.operation.definition.raw["responses"][str(response.status_code)]["description"]
    documented = {code.strip(" `.") for code in described.split("Codes: ", 1)[-1].split(",")}
    code = response.json()["code"]
    assert code in documented, (
        f"{case.operation.label} answered {response.status_code} `{code}`, which it does not list "
        f"({described!r}): {response.json()}"
    )


def _check(operation, world: World, identity: str) -> None:
    headers = {"Authorization": f"Token {world.tokens[identity]}"}

    @given(case=_strategy(operation, world))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        # The world is built once per identity and shared by the examples (each rolled back).
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        cache.clear()  # throttle counts and lockouts: every call starts fresh
        clear_pool_cache()  # matching's candidate index must not keep a rolled-back profile
        with transaction.atomic():
            response = case.call(headers=headers)
            transaction.set_rollback(True)
        case.validate_response(response, checks=CHECKS, headers=headers)
        _check_error_code_is_documented(case, response)

    call()


@pytest.mark.parametrize("identity", ["seeker", "provider", "staff"])
def test_every_operation_answers_as_its_schema_says(identity, api_schema, world, subtests):
    for result in api_schema.get_all_operations():
        operation = result.ok()
        with subtests.test(msg=f"{identity}: {operation.label}"):
            _check(operation, world, identity)
