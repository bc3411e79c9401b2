"""The two ways a posting is written agree: one statement (PostgreSQL, a lone posting) and the general path.

On PostgreSQL a lone posting that no debt settlement follows claims its key and moves its
wallet in one statement (`ledger.CLAIM_AND_MOVE_SQL`); everything else, and every posting on
SQLite, goes the general way (insert, then update). The same story of awards, spends,
reversals, debts, settlements, releases and redemptions is told both ways here, and every row
and wallet must come out the same.
"""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from currency import ledger, services
from currency.errors import InsufficientPot
from currency.models import PotTransaction, Purchase, Wallet
from notifications.models import Notification
from tests.currency.factories import pot_fund
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db

ROW_FIELDS = (
    "transaction_type",
    "category",
    "amount",
    "balance_after",
    "promotional_amount",
    "debt_change",
    "reference_type",
    "note",
)
WALLET_FIELDS = ("balance", "promotional_balance", "debt", "lifetime_earned")
NOTICE = ("kind", "text", "link", "read_at")
PURCHASE = ("effect", "cost", "matches_granted", "matches_taken_at", "credit_usd", "credit_used_usd")


def _story(tag: str, operator) -> tuple[list, list]:
    """Awards (promotional and earned), a redemption, spends, a refused spend, a replay, a shared spend, a
    reversal into debt, its settlement by an award and by the redemption's refund, a release; what it leaves."""
    person = UserFactory(email=f"story-{tag}@example.com", account_type="both", verified=True)
    payee = UserFactory(email=f"payee-{tag}@example.com")
    pot_fund(person, 850)
    services.pot_award(user=person, rule_key="profile_creation_seeker", cause=f"{tag}:profile")
    services.pot_award(user=person, rule_key="rating_given", cause=f"{tag}:rating")
    assert services.pot_award(user=person, rule_key="rating_given", cause=f"{tag}:rating") is None  # once per cause
    redemption = services.redemption_request(user=person, pot_amount=settings.POT_MIN_REDEMPTION, payment_method="bank")
    services.pot_spend(user=person, option_key="extra_matches", idempotency_key="first")
    services.pot_spend(user=person, option_key="commission_credit")
    assert services.pot_spend(user=person, option_key="extra_matches", idempotency_key="first").replayed
    with pytest.raises(InsufficientPot):
        services.pot_spend(user=person, option_key="profile_boost", idempotency_key="too-dear")
    services.pot_spend_shared(
        user=person,
        payee=payee,
        option_key="content_unlock",
        price=40,
        share_percent=50,
        share_reason="content_sale",
        cause=f"{tag}:article",
        reference_type="content",
        reference_id=1,
        note="An article",
    )
    services.pot_award(user=person, rule_key="rating_five_star_received", cause=f"{tag}:five-stars")
    services.pot_spend(user=person, option_key="extra_matches", idempotency_key="second")
    services.pot_award_reverse(cause=f"{tag}:five-stars", reason="Rating removed")  # more than is left: a debt
    services.pot_award(user=person, rule_key="rating_given", cause=f"{tag}:rating-2")  # settles part of the debt
    services.redemption_reject(redemption_id=redemption.redemption.pk, operator=operator, reason="Wrong account")
    services.pot_promotional_release(user=person, cause=f"{tag}:engagement", max_amount=20)
    rows = [
        [re.sub(r"#\d+", "#", str(getattr(row, field))) for field in ROW_FIELDS]  # the redemption's number differs
        for row in PotTransaction.objects.filter(user__in=[person, payee]).order_by("id")
    ]
    wallets = [list(Wallet.objects.filter(user=who).values_list(*WALLET_FIELDS).get()) for who in (person, payee)]
    purchases = list(
        Purchase.objects.filter(user__in=[person, payee]).order_by("id").values_list("transaction__category", *PURCHASE)
    )
    notices = [
        [re.sub(r"#\d+", "#", str(value)) for value in notice]
        for notice in Notification.objects.filter(user__in=[person, payee]).order_by("id").values_list(*NOTICE)
    ]
    return rows, wallets, purchases, notices


def test_one_statement_postings_write_what_the_general_path_writes(operator, monkeypatch):
    one_statement = _story("one", operator)
    monkeypatch.setattr(ledger, "ONE_STATEMENT_POSTINGS", False)
    general = _story("general", operator)
    assert one_statement == general
    rows, _, purchases, notices = one_statement
    assert ["pot_earned", "You earned 50 POT: Seeker profile created.", "/wallet/", "None"] in notices
    assert [purchase[:2] for purchase in purchases] == [
        ("extra_matches", "extra_matches"),
        ("commission_credit", "commission_credit"),
        ("content_unlock", "content_unlock"),
        ("extra_matches", "extra_matches"),
    ]
    kinds = {(row[0], row[1]) for row in rows}
    assert ("burn", "debt_settlement") in kinds and ("debt", "award_reversal") in kinds  # the story covers them


def test_lone_postings_take_one_statement_on_postgresql_only(user, django_assert_num_queries):
    pot_fund(user, 500)
    with django_assert_num_queries(4 if connection.vendor == "postgresql" else 5) as captured:
        # savepoint, lock, (insert and update | insert, update), release
        ledger.ledger_atomic(
            lambda: ledger.ledger_post(user_id=user.pk, amount=-10, transaction_type="adjust", category="x")
        )()
    assert any("WITH claimed AS" in query["sql"] for query in captured) == (connection.vendor == "postgresql")


def test_a_spend_on_its_own_is_one_statement_on_postgresql(user):
    """The wallet, the row and the purchase in one statement; a boost (which starts where the last one
    ends) goes the general way."""
    user.account_type = "both"
    pot_fund(user, 1000)

    def statements_of(option_key: str) -> list[str]:
        """The statements of a spend but for the rules' reads (the test settings read them every time)."""
        with CaptureQueriesContext(connection) as captured:
            services.pot_spend(user=user, option_key=option_key)
        return [
            query["sql"]
            for query in captured
            if not any(part in query["sql"] for part in ("SAVEPOINT", "pot_earning_rules", "pot_spend_options"))
        ]

    statement, _, _ = ledger._post_and_record_statement(Purchase, "transaction")
    one_statement = connection.vendor == "postgresql"
    written = statements_of("extra_matches")
    if one_statement:
        assert len(written) == 1 and written[0].startswith(statement.partition("%s")[0]), written
    else:
        assert len(written) == 4, written  # lock, insert, wallet update, purchase
    boost = statements_of("profile_boost")
    assert len(boost) == (4 if one_statement else 5), boost  # lock, insert and update, the last boost, purchase
    assert Purchase.objects.filter(user=user).count() == 2
