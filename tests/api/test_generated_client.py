"""The API contract, as an integrator meets it: a client generated from the live schema drives the core loop.

openapi-python-client generates a typed Python client from `/api/v1/schema/` served by a live
server; every generated module must import, and the whole loop runs through the generated
functions only (no raw HTTP, no hand-written model): register, token, categories, seeker,
provider, license verification (staff), match, introduce, accept, engagement, confirm, rate,
balance, transactions, spend with an Idempotency-Key (and its replay), redeem, and a refusal
read as the typed `Error` with its code from the enum.

The staff account is made on the server side: no API creates operators (README "Operators").
"""

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail

from currency.models import EarningRule, SpendOption
from currency.seed import seed_missing
from marketplace.services.tokens import api_token_issue
from tests.marketplace.factories import UserFactory

CONFIG = Path(__file__).resolve().parent / "contract" / "openapi-python-client.yaml"
PASSWORD = "a-long-passphrase-42"

pytestmark = pytest.mark.django_db(transaction=True)


def _generate(schema_url: str, into: Path) -> None:
    """Run openapi-python-client (requirements-dev.txt) as an integrator would."""
    command = [
        str(Path(sys.executable).with_name("openapi-python-client")),
        "generate",
        "--url",
        schema_url,
        "--config",
        str(CONFIG),
        "--meta",
        "none",
        "--output-path",
        str(into / "imatch_client"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # Any warning means a piece of the schema the generator could not turn into code.
    assert "Warning" not in result.stdout, result.stdout


@pytest.fixture(scope="module")
def imatch_client(live_server, tmp_path_factory, django_db_blocker):
    """The generated package, imported: the package and every module in it (generated once per run).

    Module-scoped, so outside any test's database access: the schema request may read the
    database (the cache table, the session), which the live server is allowed to here."""
    into = tmp_path_factory.mktemp("generated")
    with django_db_blocker.unblock():
        _generate(f"{live_server.url}/api/v1/schema/", into)
    sys.path.insert(0, str(into))
    try:
        package = importlib.import_module("imatch_client")
        walked = pkgutil.walk_packages(package.__path__, "imatch_client.")
        yield package, [package, *(importlib.import_module(info.name) for info in walked)]
    finally:
        sys.path.remove(str(into))
        for name in [name for name in sys.modules if name.partition(".")[0] == "imatch_client"]:
            del sys.modules[name]


def test_every_generated_module_imports(imatch_client):
    _package, modules = imatch_client
    names = {module.__name__ for module in modules}
    assert "imatch_client.api.pot.pot_spend_create" in names
    assert "imatch_client.api.providers.providers_verify_license_create" in names
    assert len(names) > 100


def _ok(response, status: int):
    """The parsed body of a `sync_detailed` answer with the expected status."""
    assert response.status_code == status, (response.status_code, response.content)
    return response.parsed


def test_the_core_loop_through_the_generated_client(imatch_client, live_server, seeded_categories):
    seed_missing(earning_rule_model=EarningRule, spend_option_model=SpendOption)  # a flush may have emptied them
    from imatch_client import AuthenticatedClient, Client
    from imatch_client.api.auth import auth_register_create, auth_token_create, auth_verify_email_create
    from imatch_client.api.categories import categories_list
    from imatch_client.api.engagements import engagements_confirm_create
    from imatch_client.api.matches import matches_accept_create, matches_engagement_create, matches_introduce_create
    from imatch_client.api.pot import (
        pot_adjustments_create,
        pot_balance_retrieve,
        pot_redeem_create,
        pot_redemptions_approve_create,
        pot_spend_create,
        pot_transactions_list,
    )
    from imatch_client.api.providers import providers_create, providers_list, providers_verify_license_create
    from imatch_client.api.ratings import ratings_create
    from imatch_client.api.seekers import seekers_create, seekers_match_create
    from imatch_client.models import (
        AdjustmentRequest,
        EmailVerifyRequest,
        EngagementReportRequest,
        EngagementStatusEnum,
        Error,
        ErrorCode,
        MatchStatusEnum,
        PotTransactionsListTransactionType,
        ProviderRequest,
        RatingRequest,
        RedeemRequest,
        RedemptionApproveRequest,
        RedemptionStatusEnum,
        RegisterRequest,
        SeekerRequest,
        SpendRequest,
        TokenRequest,
        TransactionTypeEnum,
    )
    from imatch_client.types import UNSET

    anonymous = Client(base_url=live_server.url, raise_on_unexpected_status=True)

    def logged_in(token: str) -> AuthenticatedClient:
        return AuthenticatedClient(
            base_url=live_server.url, token=token, prefix="Token", raise_on_unexpected_status=True
        )

    # Register two people; the provider logs in again for a token of this device.
    seeker_account = _ok(
        auth_register_create.sync_detailed(
            client=anonymous, body=RegisterRequest(email="sam@example.com", password=PASSWORD, name="Sam Seeker")
        ),
        201,
    )
    _ok(
        auth_register_create.sync_detailed(
            client=anonymous, body=RegisterRequest(email="pat@example.com", password=PASSWORD, name="Pat Planner")
        ),
        201,
    )
    token = _ok(
        auth_token_create.sync_detailed(
            client=anonymous, body=TokenRequest(email="pat@example.com", password=PASSWORD)
        ),
        200,
    )
    seeker_api, provider_api = logged_in(seeker_account.token), logged_in(token.token)
    staff = UserFactory(is_staff=True, verified=True)
    staff_api = logged_in(api_token_issue(user=staff))

    # Categories: the active one, with its specialties.
    categories = _ok(categories_list.sync_detailed(client=anonymous), 200)
    category = next(c for c in categories.results if c.name == "financial_advisors")
    assert category.requires_license is True
    specialty = category.specialties[0].slug

    # A seeker and a provider profile; creating them takes no read-only field.
    seeker = _ok(
        seekers_create.sync_detailed(
            client=seeker_api,
            body=SeekerRequest(
                category=category.name,
                specialties=[specialty],
                needs_description="A plan for retiring at 60.",
                budget_min="100.00",
                budget_max="300.00",
                city="Austin",
                state="TX",
                remote_ok=True,
            ),
        ),
        201,
    )
    provider = _ok(
        providers_create.sync_detailed(
            client=provider_api,
            body=ProviderRequest(
                category=category.name,
                business_name="Pat Planning",
                bio="Fee-only planner: retirement income for families.",
                specialties=[specialty],
                years_experience=12,
                license_number="CFP-12345",
                pricing_min="150.00",
                pricing_max="250.00",
                city="Austin",
                state="TX",
            ),
        ),
        201,
    )
    assert provider.license_verified is False and provider.user > 0

    # Licensed category: staff verify the license, then the public directory lists the provider.
    verification = _ok(providers_verify_license_create.sync_detailed(client=staff_api, id=provider.id), 200)
    assert verification.license_verified is True and verification.license_verified_by == staff.pk
    directory = _ok(providers_list.sync_detailed(client=anonymous, category=category.name), 200)
    listed = next(p for p in directory.results if p.id == provider.id)
    assert listed.user is UNSET and listed.license_number is UNSET  # private fields: owner and staff only
    refused = _ok(providers_verify_license_create.sync_detailed(client=seeker_api, id=provider.id), 403)
    assert isinstance(refused, Error) and refused.code == ErrorCode.PERMISSION_DENIED

    # Match (201: new matches), introduce, accept.
    run = _ok(seekers_match_create.sync_detailed(client=seeker_api, seeker_id=seeker.id), 201)
    match = next(m for m in run.matches if m.provider.id == provider.id)
    assert 0 <= float(match.score) <= 1 and match.reasons and all(isinstance(r, str) for r in match.reasons)
    assert all(0 <= value <= 1 for value in match.breakdown.additional_properties.values())
    match = _ok(matches_introduce_create.sync_detailed(client=seeker_api, id=match.id), 200)
    assert match.status == MatchStatusEnum.INTRODUCED
    match = _ok(matches_accept_create.sync_detailed(client=provider_api, id=match.id), 200)
    assert match.status == MatchStatusEnum.ACCEPTED and match.contact == "sam@example.com"

    # Engagement reported by the seeker, confirmed by the provider, then rated.
    engagement = _ok(
        matches_engagement_create.sync_detailed(
            client=seeker_api, id=match.id, body=EngagementReportRequest(deal_value_usd="1000.00")
        ),
        201,
    )
    assert engagement.commission_usd == "200.00"
    engagement = _ok(engagements_confirm_create.sync_detailed(client=provider_api, id=engagement.id), 200)
    assert engagement.status == EngagementStatusEnum.CONFIRMED
    rating = _ok(
        ratings_create.sync_detailed(
            client=seeker_api, body=RatingRequest(engagement=engagement.id, stars=5, review="Clear and kind.")
        ),
        201,
    )
    assert rating.stars == 5 and rating.provider == provider.id

    # Balance and ledger: typed level and rows.
    balance = _ok(pot_balance_retrieve.sync_detailed(client=provider_api), 200)
    assert balance.pot_balance > 0 and balance.level.name and balance.level.number >= 1
    rows = _ok(pot_transactions_list.sync_detailed(client=provider_api), 200)
    assert rows.count >= 1 and all(row.transaction_type == TransactionTypeEnum.EARN for row in rows.results)
    assert sum(row.amount for row in rows.results) == balance.pot_balance

    # An operator credits POT (an `adjust` row, redeemable), so that there is enough to spend and redeem.
    adjustment = AdjustmentRequest(user=provider.user, amount=1000, reason="Contract test: redeemable POT")
    adjusted = _ok(
        pot_adjustments_create.sync_detailed(client=staff_api, body=adjustment, idempotency_key="adj-1"), 201
    )
    assert (
        adjusted.transaction_type == TransactionTypeEnum.ADJUST and adjusted.balance_after == balance.pot_balance + 1000
    )
    balance = _ok(pot_balance_retrieve.sync_detailed(client=provider_api), 200)

    # Spend with an Idempotency-Key: the retry replays the first answer and charges nothing more.
    spend = pot_spend_create.sync_detailed(
        client=provider_api, body=SpendRequest(option="profile_boost"), idempotency_key="boost-1"
    )
    bought = _ok(spend, 201)
    assert bought.effect.effect.value == "profile_boost" and bought.balance_after == balance.pot_balance - 200
    replay = pot_spend_create.sync_detailed(
        client=provider_api, body=SpendRequest(option="profile_boost"), idempotency_key="boost-1"
    )
    assert _ok(replay, 201).transaction.id == bought.transaction.id
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert _ok(pot_balance_retrieve.sync_detailed(client=provider_api), 200).pot_balance == bought.balance_after
    spent = _ok(
        pot_transactions_list.sync_detailed(
            client=provider_api, transaction_type=PotTransactionsListTransactionType.SPEND
        ),
        200,
    ).results
    assert [row.effect.effect.value for row in spent] == ["profile_boost"]

    # Redeem: a refusal is a typed Error with its code; then a redemption an operator approves.
    too_small = _ok(
        pot_redeem_create.sync_detailed(client=provider_api, body=RedeemRequest(pot_amount=1, payment_method="PayPal")),
        400,
    )
    assert isinstance(too_small, Error) and too_small.code == ErrorCode.BELOW_MINIMUM
    email = next(m for m in mail.outbox if m.to == ["pat@example.com"] and "verify-email/" in m.body)
    verify_token = email.body.split("verify-email/")[1].split()[0].rstrip("/")
    _ok(auth_verify_email_create.sync_detailed(client=anonymous, body=EmailVerifyRequest(token=verify_token)), 200)
    redemption = _ok(
        pot_redeem_create.sync_detailed(
            client=provider_api,
            body=RedeemRequest(pot_amount=500, payment_method="PayPal pat@example.com"),
            idempotency_key="redeem-1",
        ),
        201,
    )
    assert redemption.status == RedemptionStatusEnum.PENDING and redemption.usd_amount == "400.00"
    approved = _ok(
        pot_redemptions_approve_create.sync_detailed(
            client=staff_api, id=redemption.id, body=RedemptionApproveRequest(payout_reference="PP-1")
        ),
        200,
    )
    assert approved.status == RedemptionStatusEnum.APPROVED
