"""`manage.py verify_ledger`: passes on an honest ledger, names every kind of mismatch, exits 1."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from currency import services, triggers
from currency.models import PotTransaction, Redemption, Wallet
from tests.currency.factories import funded_user, pot_fund
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db

# These tests break the ledger on purpose to see verify_ledger name it.
LEDGER_TAMPERED = True


def _run() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_ledger", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def _busy_ledger(operator) -> None:
    provider = funded_user(2000, account_type="provider", verified=True)
    services.pot_award(user=provider, rule_key="profile_creation_provider", cause="p")
    services.pot_spend(user=provider, option_key="profile_boost")
    services.pot_spend(user=provider, option_key="commission_credit")
    kept = services.redemption_request(user=provider, pot_amount=500, payment_method="x").redemption
    returned = services.redemption_request(user=provider, pot_amount=500, payment_method="x").redemption
    services.redemption_request(user=provider, pot_amount=500, payment_method="x")
    services.redemption_approve(redemption_id=kept.pk, operator=operator, payout_reference="PP")
    services.redemption_reject(redemption_id=returned.pk, operator=operator, reason="no")
    services.pot_award_reverse(cause="p", reason="mistake")


def test_an_honest_ledger_passes(operator):
    _busy_ledger(operator)
    code, out, err = _run()
    assert code == 0, err
    assert out.startswith("Ledger OK:") and "3 redemptions checked" in out and err == ""


def test_an_empty_ledger_passes(db):
    assert _run()[0] == 0


@pytest.fixture
def tamper(db):
    """Lift the immutability triggers for this test (they come back at the end)."""
    triggers.uninstall(connection)
    yield connection.cursor()
    triggers.install(connection)


def test_a_wallet_that_disagrees_with_its_rows_is_named(operator):
    person = funded_user(100)
    Wallet.objects.filter(user=person).update(balance=150)
    code, out, err = _run()
    assert code == 1
    assert f"user {person.pk}: wallet balance 150 != sum of rows 100" in err
    assert "1 PROBLEMS" in out


def test_a_broken_chain_is_named(tamper):
    person = UserFactory()
    pot_fund(person, 100)
    row = pot_fund(person, 50)
    tamper.execute("UPDATE pot_transactions SET balance_after = 160 WHERE id = %s", [row.pk])
    code, _, err = _run()
    assert (
        code == 1
        and f"transaction {row.pk} (user {person.pk}): balance_after 160, expected 150 (previous 100 +50)" in err
    )


def test_a_deleted_row_is_caught(tamper):
    person = UserFactory()
    row = pot_fund(person, 100)
    pot_fund(person, 50)
    tamper.execute("DELETE FROM pot_transactions WHERE id = %s", [row.pk])
    code, _, err = _run()
    assert code == 1 and "wallet balance 150 != sum of rows 50" in err


def test_redemption_rows_that_do_not_match_its_state_are_named(tamper, operator):
    person = funded_user(1000, verified=True)
    redemption = services.redemption_request(user=person, pot_amount=500, payment_method="x").redemption
    Redemption.objects.filter(pk=redemption.pk).update(status="rejected", decided_at="2026-01-01T00:00:00Z")
    code, _, err = _run()
    assert code == 1 and f"redemption {redemption.pk} (rejected): refund rows [], expected [500]" in err


def test_missing_triggers_are_reported(tamper):
    code, _, err = _run()
    assert code == 1 and "immutability triggers are missing" in err


def test_a_spend_without_its_purchase_is_named(tamper):
    person = funded_user(1000)
    row = services.pot_spend(user=person, option_key="extra_matches").transaction
    tamper.execute("DELETE FROM pot_purchases WHERE transaction_id = %s", [row.pk])
    code, _, err = _run()
    assert code == 1 and f"spend transaction {row.pk}: no purchase recorded" in err
    assert PotTransaction.objects.filter(pk=row.pk).exists()
