"""Promotional POT (spendable at once, redeemable once a paid commission pays for it, with a verified email) and
debts (a reversal that finds too small a balance), through the services, the API and the wallet page."""

import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from currency import services
from currency.audit import verify_ledger
from currency.errors import DebtOpen, NotRedeemable
from currency.ledger import Posting, ledger_atomic, ledger_post
from currency.models import EarningRule, PotTransaction, Redemption, Wallet
from currency.selectors import economy_statistics, wallet_summary
from tests.conftest import client_for
from tests.currency.factories import balance_of, pot_fund, rows_of
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


def _wallet(user) -> Wallet:
    return Wallet.objects.get(user=user)


def _promotional_award(user, cause: str, rule_key: str = "profile_creation_provider"):
    return services.pot_award(user=user, rule_key=rule_key, cause=cause)


def _redeem(user, amount: int):
    return services.redemption_request(user=user, pot_amount=amount, payment_method="PayPal me@x.io")


# --- Rules marked promotional ------------------------------------------------------------


def test_rules_no_revenue_pays_for_are_promotional_in_data_and_the_others_are_not():
    promotional = set(EarningRule.objects.filter(promotional=True).values_list("key", flat=True))
    # Sign-up, community, content and streak awards come before any revenue: promotional. Referral,
    # rating and engagement awards are paid only from a paid commission's budget: earned POT.
    assert promotional == {
        "profile_creation_seeker",
        "profile_creation_provider",
        "answer_accepted",
        "content_published",
        "streak_bonus_4_weeks",
        "streak_bonus_12_weeks",
    }


def test_an_award_of_a_promotional_rule_is_promotional_pot(user):
    row = _promotional_award(user, "p")
    earned = services.pot_award(user=user, rule_key="engagement_bonus_seeker", cause="r")
    assert (row.amount, row.promotional_amount) == (100, 100)
    assert (earned.amount, earned.promotional_amount) == (100, 0)
    wallet = _wallet(user)
    assert (wallet.balance, wallet.promotional_balance) == (200, 100)


def test_an_operator_switching_a_rule_to_promotional_changes_later_awards_only(user):
    services.pot_award(user=user, rule_key="engagement_bonus_seeker", cause="r1")
    EarningRule.objects.filter(key="engagement_bonus_seeker").update(promotional=True)
    services.pot_award(user=user, rule_key="engagement_bonus_seeker", cause="r2")
    assert [row.promotional_amount for row in rows_of(user)] == [0, 100]


def test_the_admin_edits_the_promotional_flag(admin_client):
    page = admin_client.get(reverse("admin:currency_earningrule_changelist")).content.decode()
    assert 'name="form-0-promotional"' in page


# --- Spending and redeeming ----------------------------------------------------------------


def test_spending_takes_promotional_pot_first(user):
    seeker = UserFactory(account_type="seeker", verified=True)
    _promotional_award(seeker, "p", "profile_creation_seeker")  # 50 promotional
    pot_fund(seeker, 100)
    spend = services.pot_spend(user=seeker, option_key="extra_matches").transaction  # 100 POT
    assert (spend.amount, spend.promotional_amount) == (-100, -50)
    wallet = _wallet(seeker)
    assert (wallet.balance, wallet.promotional_balance) == (50, 0)


def test_promotional_pot_is_not_redeemable_until_a_paid_commission_pays_for_it(user):
    person = UserFactory(verified=True)
    _promotional_award(person, "p")
    pot_fund(person, 500)
    services.pot_paid_engagement_record(user=person, engagement_id=7)  # a paid engagement alone unlocks nothing
    summary = wallet_summary(user=person)
    assert (summary.spendable, summary.redeemable, summary.promotional_balance) == (600, 500, 100)
    with pytest.raises(NotRedeemable) as refused:
        _redeem(person, 600)
    assert refused.value.code == "not_redeemable" and refused.value.field == "pot_amount"
    assert "You can redeem 500 POT now" in refused.value.message
    assert "become redeemable when the commission of one of your engagements is paid" in refused.value.message
    assert balance_of(person) == 600 and not Redemption.objects.exists()
    redemption = _redeem(person, 500).redemption  # the earned part is redeemable
    held = rows_of(person)[-1]
    assert (redemption.pot_amount, held.amount, held.promotional_amount) == (500, -500, 0)
    assert _wallet(person).promotional_balance == 100


def test_a_release_makes_promotional_pot_redeemable_up_to_its_budget_and_once_per_cause():
    person = UserFactory(verified=True)
    _promotional_award(person, "p")
    pot_fund(person, 450)
    before = _wallet(person)
    assert services.pot_promotional_release(user=person, cause="engagement:7", max_amount=60) == 60
    assert services.pot_promotional_release(user=person, cause="engagement:7", max_amount=60) == 0  # once
    release = rows_of(person)[-1]
    assert (release.transaction_type, release.amount, release.promotional_amount, release.category) == (
        "release",
        0,
        -60,
        "promotional_release",
    )
    wallet = _wallet(person)
    assert (wallet.balance, wallet.promotional_balance) == (550, 40)
    assert wallet.lifetime_earned == before.lifetime_earned  # a release earns nothing: levels do not move
    assert wallet_summary(user=person).redeemable == 510
    # Another cause releases the rest, never more than there is.
    assert services.pot_promotional_release(user=person, cause="engagement:8", max_amount=1000) == 40
    assert services.pot_promotional_release(user=person, cause="engagement:9", max_amount=1000) == 0
    _redeem(person, 550)
    assert (_wallet(person).balance, _wallet(person).promotional_balance) == (0, 0)


def test_a_release_moves_no_pot_in_the_economy_statistics():
    person = UserFactory(verified=True)
    _promotional_award(person, "p")
    before = economy_statistics()
    services.pot_promotional_release(user=person, cause="engagement:7", max_amount=100)
    after = economy_statistics()
    for figure in ("total_pot_earned_all_time", "total_pot_burned_all_time", "total_pot_in_circulation"):
        assert after[figure] == before[figure]


def test_a_release_with_no_budget_or_no_promotional_pot_writes_nothing():
    person = UserFactory(verified=True)
    pot_fund(person, 100)
    assert services.pot_promotional_release(user=person, cause="engagement:1", max_amount=100) == 0
    _promotional_award(person, "p")
    assert services.pot_promotional_release(user=person, cause="engagement:2", max_amount=0) == 0
    assert not PotTransaction.objects.filter(transaction_type="release").exists()


def test_an_unverified_email_blocks_every_redemption_even_of_earned_pot():
    person = UserFactory()
    pot_fund(person, 800)
    services.pot_paid_engagement_record(user=person, engagement_id=1)
    assert wallet_summary(user=person).redeemable == 0
    with pytest.raises(NotRedeemable) as refused:
        _redeem(person, 500)
    assert "Verify your email address" in refused.value.message
    assert balance_of(person) == 800 and not Redemption.objects.exists()


def test_a_rejected_redemption_gives_back_the_kind_of_pot_it_held(operator):
    person = UserFactory(verified=True)
    _promotional_award(person, "p")
    pot_fund(person, 500)
    redemption = _redeem(person, 500).redemption  # earned POT only: the promotional 100 stay
    services.redemption_reject(redemption_id=redemption.pk, operator=operator, reason="bad details")
    refund = rows_of(person)[-1]
    assert (refund.transaction_type, refund.amount, refund.promotional_amount) == ("refund", 500, 0)
    assert (_wallet(person).balance, _wallet(person).promotional_balance) == (600, 100)


def test_the_database_refuses_a_wallet_whose_promotional_part_exceeds_its_balance(user):
    pot_fund(user, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(user=user).update(promotional_balance=11)


# --- Debts ---------------------------------------------------------------------------------


def _spent_award_reversed(person, *, spend: int = 100):
    """An earned award of 100 POT, spent, then taken back: the person owes what they spent."""
    services.pot_award(user=person, rule_key="engagement_bonus_seeker", cause="engagement_bonus:seeker:engagement:1")
    ledger_atomic(lambda: ledger_post(user_id=person.pk, amount=-spend, transaction_type="adjust", category="x"))()
    return services.pot_award_reverse(cause="engagement_bonus:seeker:engagement:1", reason="Engagement cancelled")


def test_redemptions_are_refused_while_a_debt_is_open():
    person = UserFactory(verified=True)
    _spent_award_reversed(person, spend=60)  # 40 taken back, 60 owed
    pot_fund(person, 700)  # an operator's adjustment: does not settle the debt
    summary = wallet_summary(user=person)
    assert (summary.spendable, summary.redeemable, summary.debt) == (700, 0, 60)
    assert any("You owe 60 POT" in reason for reason in summary.redeem_blockers)
    with pytest.raises(DebtOpen) as refused:
        _redeem(person, 500)
    assert refused.value.code == "debt_open" and "You owe 60 POT" in refused.value.message
    assert not Redemption.objects.exists()


def test_the_next_earnings_settle_a_debt_first_then_redemptions_open_again():
    person = UserFactory(verified=True)
    _spent_award_reversed(person)  # 100 owed
    services.pot_award(user=person, rule_key="rating_given", cause="r1")  # 10: all of it settles
    assert (balance_of(person), _wallet(person).debt) == (0, 90)
    services.pot_award(user=person, rule_key="engagement_bonus_seeker", cause="engagement_bonus:seeker:engagement:2")
    assert (balance_of(person), _wallet(person).debt) == (10, 0)
    settlements = [row for row in rows_of(person) if row.category == "debt_settlement"]
    assert [(row.amount, row.debt_change) for row in settlements] == [(-10, -10), (-90, -90)]
    pot_fund(person, 490)
    assert _redeem(person, 500).redemption.pot_amount == 500


def test_a_rejected_redemption_s_refund_settles_a_debt_that_opened_meanwhile(operator):
    person = UserFactory(verified=True)
    services.pot_award(user=person, rule_key="engagement_bonus_seeker", cause="engagement_bonus:seeker:engagement:1")
    pot_fund(person, 500)
    redemption = _redeem(person, 600).redemption  # everything is held
    services.pot_award_reverse(cause="engagement_bonus:seeker:engagement:1", reason="Engagement cancelled")
    assert _wallet(person).debt == 100
    services.redemption_reject(redemption_id=redemption.pk, operator=operator, reason="bad details")
    refund, settlement = rows_of(person)[-2:]
    assert (refund.transaction_type, refund.amount) == ("refund", 600)
    assert (settlement.category, settlement.amount, settlement.reference_id) == ("debt_settlement", -100, refund.pk)
    assert (balance_of(person), _wallet(person).debt) == (500, 0)


def test_the_reversal_of_a_promotional_award_takes_promotional_pot_first():
    person = UserFactory(verified=True)
    pot_fund(person, 300)
    _promotional_award(person, "p")  # 100 promotional
    row = services.pot_award_reverse(cause="p", reason="Fraud")
    assert (row.amount, row.promotional_amount) == (-100, -100)
    assert (_wallet(person).balance, _wallet(person).promotional_balance) == (300, 0)


def test_the_reversal_of_an_earned_award_takes_earned_pot_first():
    """Else reversing a real bonus would leave promotional POT counted as earned."""
    person = UserFactory(verified=True)
    _promotional_award(person, "p")  # 100 promotional
    services.pot_award(user=person, rule_key="engagement_bonus_seeker", cause="engagement_bonus:seeker:engagement:1")
    row = services.pot_award_reverse(cause="engagement_bonus:seeker:engagement:1", reason="Cancelled")
    assert (row.amount, row.promotional_amount) == (-100, 0)
    assert wallet_summary(user=person).redeemable == 0


def test_the_database_refuses_a_release_row_that_moves_pot_or_releases_nothing(user):
    pot_fund(user, 10)
    for amount, promotional in ((5, -5), (0, 0), (0, 3)):
        with pytest.raises(IntegrityError), transaction.atomic():
            PotTransaction.objects.create(
                user=user,
                transaction_type="release",
                category="promotional_release",
                amount=amount,
                balance_after=10 + amount,
                promotional_amount=promotional,
                idempotency_key=f"tampered:{amount}:{promotional}",
            )
    with pytest.raises(ValueError):
        Posting(user_id=user.pk, amount=0, promotional=0, transaction_type="release", category="promotional_release")


def test_a_debt_row_moves_no_pot_and_records_a_positive_debt():
    with pytest.raises(ValueError, match="debt row"):
        Posting(user_id=1, amount=5, debt=5, transaction_type="debt", category="x")
    with pytest.raises(ValueError, match="Only a debt row"):
        Posting(user_id=1, amount=-5, debt=5, transaction_type="burn", category="x")


# --- verify_ledger proves both numbers and the debt --------------------------------------


@pytest.fixture
def tamper(db):
    from currency import triggers

    triggers.uninstall(connection)
    yield
    triggers.install(connection)


def test_verify_ledger_proves_promotional_pot_and_debts(operator):
    person = UserFactory(verified=True)
    _promotional_award(person, "p")
    _spent_award_reversed(person, spend=150)
    services.pot_award(user=person, rule_key="rating_given", cause="r")
    out = io.StringIO()
    call_command("verify_ledger", stdout=out, stderr=io.StringIO())
    assert "Ledger OK" in out.getvalue() and "POT owed" in out.getvalue()
    report = verify_ledger()
    assert report.ok and report.total_debt == _wallet(person).debt > 0


def test_verify_ledger_names_a_promotional_part_or_a_debt_that_disagrees_with_the_rows(tamper):
    person = UserFactory(verified=True)
    _promotional_award(person, "p")
    _spent_award_reversed(UserFactory(), spend=100)
    Wallet.objects.filter(user=person).update(promotional_balance=50)
    Wallet.objects.exclude(user=person).update(debt=1)
    problems = verify_ledger().problems
    assert f"user {person.pk}: wallet promotional_balance 50 != promotional POT in rows 100" in problems
    assert any("wallet debt 1 != debts recorded less settled 100" in problem for problem in problems)
    Wallet.objects.filter(user=person).update(promotional_balance=100)
    Wallet.objects.exclude(user=person).update(debt=100)
    assert [problem for problem in verify_ledger().problems if "triggers" not in problem] == []


# --- What people see: API and wallet page -------------------------------------------------


def test_the_balance_api_shows_spendable_redeemable_and_why():
    person = UserFactory()
    _promotional_award(person, "p")
    pot_fund(person, 500)
    body = client_for(person).get("/api/v1/pot/balance/").json()
    assert (body["pot_balance"], body["spendable"], body["redeemable"], body["promotional"]) == (600, 600, 0, 100)
    assert (body["email_verified"], body["paid_engagement"], body["debt"]) == (False, False, 0)
    assert len(body["not_redeemable_because"]) == 2
    person.email_verified_at = person.date_joined
    person.save()
    body = client_for(person).get("/api/v1/pot/balance/").json()
    assert (body["redeemable"], body["redeemable_usd"]) == (500, "400.00")


def test_the_redeem_api_refuses_promotional_pot_and_open_debts_with_their_codes():
    person = UserFactory(verified=True)
    _promotional_award(person, "p")
    pot_fund(person, 500)
    api = client_for(person)
    response = api.post("/api/v1/pot/redeem/", {"pot_amount": 600, "payment_method": "PayPal"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "not_redeemable" and "pot_amount" in response.json()["fields"]
    debtor = UserFactory(verified=True)
    _spent_award_reversed(debtor, spend=50)
    pot_fund(debtor, 600)
    response = client_for(debtor).post(
        "/api/v1/pot/redeem/", {"pot_amount": 500, "payment_method": "PayPal"}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "debt_open"
    assert not Redemption.objects.exists()


def test_the_schema_documents_the_new_refusals_of_redeem(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    description = schema["paths"]["/api/v1/pot/redeem/"]["post"]["responses"]["400"]["description"]
    assert "`not_redeemable`" in description and "`debt_open`" in description


def test_the_wallet_page_shows_spendable_and_redeemable_and_refuses_the_difference(client):
    person = UserFactory(verified=True)
    _promotional_award(person, "p")
    pot_fund(person, 500)
    client.force_login(person)
    page = client.get(reverse("wallet")).content.decode()
    assert "Spendable" in page and "600 POT (100 promotional, spent first)" in page
    assert "Redeemable" in page and "500 POT ($400.00)" in page
    assert "100 POT are promotional" in page
    form = {"pot_amount": 600, "payment_method": "PayPal me@x.io", "idempotency_key": "b" * 32}
    page = client.post(reverse("wallet-redeem"), form).content.decode()
    assert "You can redeem 500 POT now" in page and 'aria-invalid="true"' in page
    assert not Redemption.objects.exists()
