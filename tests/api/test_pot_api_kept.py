"""The POT balance and transactions kept per person (`imatch.person_cache`, `Scope.LEDGER`).

The kept answers must be the bytes today's code writes, served without a query beyond the
token check, and never stale: each test below does a write (or lets time pass) and reads again
with `PERSON_CACHE_VERIFY` off, so it fails if the write forgot to forget.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from currency.api import views
from currency.api.serializers import (
    TRANSACTION_ROW_COLUMNS,
    BalanceSerializer,
    transaction_rows_until,
)
from currency.api.serializers import transaction_rows_from as rows_from
from currency.models import Purchase
from currency.selectors import wallet_summary
from currency.services import commission_credit_apply, extra_matches_take, pot_award
from imatch.api_input import RowsListMixin
from marketplace.models import User
from tests.conftest import client_for
from tests.currency.factories import pot_fund
from tests.marketplace.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_verify")]

TRANSACTION_URLS = [
    "/api/v1/pot/transactions/",
    "/api/v1/pot/transactions/?limit=2&offset=2",
    "/api/v1/pot/transactions/?transaction_type=spend",
    "/api/v1/pot/transactions/?category=rating_given&limit=3",
]


@pytest.fixture
def seeker(db):
    return UserFactory(verified=True)


@pytest.fixture
def seeker_api(seeker):
    return client_for(seeker)


def _history(user):
    """Awards, a funding, and purchases of extra matches: rows with and without a purchase joined."""
    for n in range(4):
        pot_award(user=user, rule_key="rating_given", cause=f"kept:{n}")
    pot_fund(user, 1_000)


def test_the_kept_balance_is_todays_bytes(seeker, seeker_api, monkeypatch):
    _history(seeker)
    miss = seeker_api.get("/api/v1/pot/balance/")
    hit = seeker_api.get("/api/v1/pot/balance/")
    with monkeypatch.context() as patch:  # today's code: the serializer on every request
        patch.setattr(views, "balance_answer", lambda owner: BalanceSerializer(wallet_summary(user=owner)).data)
        today = seeker_api.get("/api/v1/pot/balance/")
    assert miss.status_code == hit.status_code == today.status_code == 200
    assert miss.content == hit.content == today.content
    assert hit["Content-Type"] == today["Content-Type"]


@pytest.mark.parametrize("url", TRANSACTION_URLS)
def test_the_kept_transactions_are_todays_bytes(seeker, seeker_api, monkeypatch, url):
    _history(seeker)
    for _ in range(2):
        seeker_api.post("/api/v1/pot/spend/", {"option": "extra_matches"}, format="json")
    miss = seeker_api.get(url)
    hit = seeker_api.get(url)
    with monkeypatch.context() as patch:  # today's code: the list built on every request
        patch.setattr(views.TransactionListView, "list", RowsListMixin.list)
        today = seeker_api.get(url)
    assert miss.status_code == hit.status_code == today.status_code == 200
    assert miss.content == hit.content == today.content
    assert b"extra matches" in today.content or "transaction_type=spend" not in url


def test_a_hit_makes_no_query(seeker, seeker_api, django_assert_num_queries):
    _history(seeker)
    seeker_api.get("/api/v1/pot/balance/")
    seeker_api.get("/api/v1/pot/transactions/?limit=5")
    with django_assert_num_queries(0):  # the API token check is kept too (imatch.authentication)
        assert seeker_api.get("/api/v1/pot/balance/").status_code == 200
    with django_assert_num_queries(0):
        assert seeker_api.get("/api/v1/pot/transactions/?limit=5").status_code == 200


def test_a_spend_is_read_at_once(seeker, seeker_api):
    _history(seeker)
    before = seeker_api.get("/api/v1/pot/balance/").json()["pot_balance"]
    seeker_api.get("/api/v1/pot/transactions/")
    seeker_api.post("/api/v1/pot/spend/", {"option": "extra_matches"}, format="json")
    assert seeker_api.get("/api/v1/pot/balance/").json()["pot_balance"] == before - 100
    assert seeker_api.get("/api/v1/pot/transactions/").json()["results"][0]["transaction_type"] == "spend"


def test_extra_matches_used_are_read_at_once(seeker, seeker_api):
    _history(seeker)
    seeker_api.post("/api/v1/pot/spend/", {"option": "extra_matches"}, format="json")
    url = "/api/v1/pot/transactions/?transaction_type=spend"
    assert seeker_api.get(url).json()["results"][0]["effect"]["matches_taken_at"] is None

    assert extra_matches_take(user=seeker) == 3

    effect = seeker_api.get(url).json()["results"][0]["effect"]
    assert effect["matches_taken_at"] is not None
    assert effect["description"] == "3 extra matches (used)"


def test_a_kept_page_does_not_freeze_a_purchase_state(monkeypatch):
    provider = UserFactory(account_type="provider")
    api = client_for(provider)
    pot_fund(provider, 1_000)
    api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json")
    url = "/api/v1/pot/transactions/?transaction_type=spend"
    assert api.get(url).json()["results"][0]["effect"]["description"].endswith("(active)")

    later = timezone.now() + timedelta(days=8)  # the 7-day boost has ended; nothing was written
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert api.get(url).json()["results"][0]["effect"]["description"].endswith("(ended)")


def test_a_kept_page_is_written_again_at_a_purchase_end_and_not_before(monkeypatch):
    """The page is kept written until the boost shown ends (`transaction_rows_until`): a hit just
    before writes no row; the first read at the end writes them again."""
    provider = UserFactory(account_type="provider")
    api = client_for(provider)
    pot_fund(provider, 1_000)
    api.post("/api/v1/pot/spend/", {"option": "profile_boost"}, format="json")
    url = "/api/v1/pot/transactions/?transaction_type=spend"
    api.get(url)
    ends = Purchase.objects.get(user=provider).ends_at
    written = []
    monkeypatch.setattr(views, "transaction_rows_from", lambda values: written.append(values) or rows_from(values))

    monkeypatch.setattr(timezone, "now", lambda: ends - timedelta(seconds=1))
    assert api.get(url).json()["results"][0]["effect"]["description"].endswith("(active)")
    assert written == []
    monkeypatch.setattr(timezone, "now", lambda: ends)
    assert api.get(url).json()["results"][0]["effect"]["description"].endswith("(ended)")
    assert len(written) == 1
    assert api.get(url).json()["results"][0]["effect"]["description"].endswith("(ended)")
    assert len(written) == 1  # nothing moves after the end: kept as it is


def test_the_rows_stay_true_until_the_next_start_or_end_of_a_purchase_shown():
    now = timezone.now()
    kind, purchase, starts, ends = (
        TRANSACTION_ROW_COLUMNS.index(name)
        for name in ("transaction_type", "purchase__id", "purchase__starts_at", "purchase__ends_at")
    )

    def row(transaction_type, purchase_id, starts_at, ends_at):
        values = [None] * len(TRANSACTION_ROW_COLUMNS)
        values[kind], values[purchase], values[starts], values[ends] = transaction_type, purchase_id, starts_at, ends_at
        return tuple(values)

    day = timedelta(days=1)
    assert transaction_rows_until([], now) is None
    assert transaction_rows_until([row("award", None, None, None), row("spend", 1, None, None)], now) is None
    assert (
        transaction_rows_until(
            [row("spend", 1, now - day, now + 3 * day), row("spend", 2, now + day, now + 8 * day)], now
        )
        == now + day
    )
    assert (
        transaction_rows_until([row("spend", 1, now - 2 * day, now - day), row("spend", 2, now - day, now)], now)
        is None
    )
    assert transaction_rows_until([row("award", 1, now + day, now + day)], now) is None  # not a purchase row


def test_a_verified_email_is_read_at_once():
    person = UserFactory()
    api = client_for(person)
    assert api.get("/api/v1/pot/balance/").json()["email_verified"] is False
    User.objects.filter(pk=person.pk).update(email_verified_at=timezone.now())

    assert api.get("/api/v1/pot/balance/").json()["email_verified"] is True


def test_staff_read_someone_elses_wallet_live(operator_api, seeker, seeker_api):
    pot_fund(seeker, 5)
    assert operator_api.get(f"/api/v1/pot/balance/?user={seeker.pk}").json()["pot_balance"] == 5
    assert operator_api.get(f"/api/v1/pot/transactions/?user={seeker.pk}").json()["count"] == 1
    pot_fund(seeker, 7)
    assert operator_api.get(f"/api/v1/pot/balance/?user={seeker.pk}").json()["pot_balance"] == 12
    assert operator_api.get(f"/api/v1/pot/transactions/?user={seeker.pk}").json()["count"] == 2


def test_commission_credit_used_is_read_at_once():
    provider = UserFactory(account_type="provider")
    api = client_for(provider)
    pot_fund(provider, 2_000)
    api.post("/api/v1/pot/spend/", {"option": "commission_credit"}, format="json")
    url = "/api/v1/pot/transactions/?transaction_type=spend"
    assert api.get(url).json()["results"][0]["effect"]["credit_used_usd"] == "0.00"

    commission_credit_apply(user=provider, amount_usd=Decimal("50"), reference_type="engagement", reference_id=1)

    assert api.get(url).json()["results"][0]["effect"]["credit_used_usd"] == "50.00"
