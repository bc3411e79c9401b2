"""The POT back-office: read-only ledger for everyone, CSV export, economy page, redemption actions."""

import csv
import io

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from currency.models import EarningRule, PotTransaction, Redemption, Wallet
from currency.services import pot_award, redemption_request
from tests.currency.factories import balance_of, funded_user, pot_fund
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


def _csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_transactions_are_read_only_even_for_superusers(admin_client, operator, rf):
    row = pot_fund(UserFactory(), 10)
    request = rf.get("/")
    request.user = operator
    model_admin = admin.site._registry[PotTransaction]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)
    assert model_admin.has_view_permission(request, row)
    assert admin_client.get(reverse("admin:currency_pottransaction_add")).status_code == 403
    assert admin_client.get(reverse("admin:currency_pottransaction_delete", args=[row.pk])).status_code == 403
    change = admin_client.get(reverse("admin:currency_pottransaction_change", args=[row.pk]))
    assert change.status_code == 200 and b'type="submit"' not in change.content.split(b'id="content-main"')[1]
    posted = admin_client.post(reverse("admin:currency_pottransaction_change", args=[row.pk]), {"amount": 99999})
    assert posted.status_code == 403
    assert PotTransaction.objects.get(pk=row.pk).amount == 10


def test_wallets_are_read_only(admin_client, operator, rf):
    pot_fund(UserFactory(), 10)
    request = rf.get("/")
    request.user = operator
    model_admin = admin.site._registry[Wallet]
    assert not model_admin.has_change_permission(request) and not model_admin.has_delete_permission(request)
    assert admin_client.get(reverse("admin:currency_wallet_changelist")).status_code == 200


def test_transaction_list_filters_and_searches_by_email(admin_client):
    alice = UserFactory(email="alice@example.com")
    bob = UserFactory(email="bob@example.com")
    pot_award(user=alice, rule_key="rating_given", cause="a")
    pot_fund(bob, 30)
    url = reverse("admin:currency_pottransaction_changelist")
    page = admin_client.get(url, {"q": "alice@"}).content.decode()
    assert "alice@example.com" in page and "bob@example.com" not in page
    page = admin_client.get(url, {"transaction_type__exact": "adjust"}).content.decode()
    assert "bob@example.com" in page and "alice@example.com" not in page
    page = admin_client.get(url, {"category": "rating_given"}).content.decode()
    assert "alice@example.com" in page and "bob@example.com" not in page
    assert "alice@example.com" in admin_client.get(url, {"created_at__year": timezone.now().year}).content.decode()


def test_csv_export_has_the_filtered_rows_only(admin_client):
    alice = UserFactory(email="alice@example.com")
    bob = UserFactory(email="bob@example.com")
    pot_award(user=alice, rule_key="rating_given", cause="a")
    pot_fund(bob, 30)
    pot_fund(bob, 5)
    response = admin_client.get(reverse("admin:currency_pottransaction_export"), {"q": "bob@"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = _csv(response)
    assert [(r["email"], r["amount"], r["balance_after"]) for r in rows] == [
        ("bob@example.com", "30", "30"),
        ("bob@example.com", "5", "35"),
    ]
    everything = _csv(admin_client.get(reverse("admin:currency_pottransaction_export")))
    assert len(everything) == 3


def test_csv_export_neutralises_formulas(admin_client, operator):
    from currency.services import pot_adjust

    person = UserFactory()
    pot_adjust(user=person, operator=operator, amount=5, reason="=HYPERLINK(1)")
    rows = _csv(admin_client.get(reverse("admin:currency_pottransaction_export")))
    assert rows[0]["note"] == "'=HYPERLINK(1)"


def test_csv_export_and_economy_need_staff(client, user):
    client.force_login(user)
    export = client.get(reverse("admin:currency_pottransaction_export"))
    assert export.status_code == 302 and "login" in export["Location"]
    assert client.get(reverse("admin:currency_economy")).status_code == 302


def test_economy_page_shows_the_statistics_in_operators_words(admin_client, django_assert_num_queries):
    pot_award(user=UserFactory(), rule_key="profile_creation_provider", cause="x")
    pot_fund(UserFactory(), 2000)
    admin_client.get(reverse("admin:currency_economy"))
    # the weekly charts add 3 grouped queries (economy_weekly), whatever the data
    with django_assert_num_queries(13):
        page = admin_client.get(reverse("admin:currency_economy")).content.decode()
    for label in ("Marketplace users", "Participation rate", "POT in circulation", "Burn rate"):
        assert label in page
    assert "total_pot_in_circulation" not in page.split('id="economy-statistics"')[1].split("</table>")[0].replace(
        'id="statistic-total_pot_in_circulation"', ""
    )
    assert "100.0%" in page  # 2 of the 2 marketplace users hold POT
    assert "2,100 POT" in page
    assert "$1,680.00" in page  # the liability: 2,100 POT at 0.80
    assert "vendor/chartjs/chart.umd.min.js" in page and 'id="economy-daily"' in page
    assert "Profile created" in page and "profile_creation" not in page
    assert 'id="circulation-chart"' in page and "<td>2,100</td>" not in page  # figures right-aligned
    assert '<td class="number">2,100</td></tr>' in page  # today's circulation in the table fallback


def test_earning_rules_are_editable_but_not_deletable(admin_client):
    rule = EarningRule.objects.get(key="rating_given")
    url = reverse("admin:currency_earningrule_change", args=[rule.pk])
    response = admin_client.post(
        url,
        {
            "name": "Rating given",
            "description": "",
            "reason": "rating_given",
            "audience": "any",
            "amount": "15",
            "percent_of_deal_value": "",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert rule.amount == 15 and rule.key == "rating_given"
    assert admin_client.get(reverse("admin:currency_earningrule_delete", args=[rule.pk])).status_code == 403


def test_unticking_promotional_on_a_rule_warns_the_operator(admin_client):
    rule = EarningRule.objects.get(key="rating_given")
    EarningRule.objects.filter(pk=rule.pk).update(promotional=True)
    fields = {"name": rule.name, "description": "", "reason": rule.reason, "audience": rule.audience}
    url = reverse("admin:currency_earningrule_change", args=[rule.pk])
    response = admin_client.post(url, {**fields, "amount": rule.amount, "active": "on"}, follow=True)
    assert response.status_code == 200
    assert "no longer promotional" in response.content.decode()
    rule.refresh_from_db()
    assert not rule.promotional

    # Ticking it back, or saving with it unchanged, says nothing of the kind.
    for _ in range(2):
        response = admin_client.post(
            url, {**fields, "amount": rule.amount, "active": "on", "promotional": "on"}, follow=True
        )
        assert "no longer promotional" not in response.content.decode()


def test_spend_options_are_editable(admin_client):
    assert admin_client.get(reverse("admin:currency_spendoption_changelist")).status_code == 200


def _redemption(amount=500) -> Redemption:
    person = funded_user(amount, verified=True)
    return redemption_request(user=person, pot_amount=amount, payment_method="PayPal").redemption


def test_approve_action_asks_for_a_payout_reference_then_approves_through_the_service(admin_client, operator):
    first, second = _redemption(), _redemption()
    url = reverse("admin:currency_redemption_changelist")
    selection = {"action": "approve", "_selected_action": [first.pk, second.pk]}
    page = admin_client.post(url, selection)
    assert page.status_code == 200 and "Payout reference" in page.content.decode()
    assert Redemption.objects.filter(status="pending").count() == 2
    done = admin_client.post(url, {**selection, "apply": "1", "text": "PP-BATCH-7"}, follow=True)
    assert "Approved 2 redemptions." in done.content.decode()
    assert set(Redemption.objects.values_list("status", "payout_reference", "decided_by")) == {
        ("approved", "PP-BATCH-7", operator.pk)
    }


def test_reject_action_refunds_once_and_reports_already_decided(admin_client):
    redemption = _redemption()
    url = reverse("admin:currency_redemption_changelist")
    selection = {"action": "reject", "_selected_action": [redemption.pk], "apply": "1", "text": "Bad details"}
    admin_client.post(url, selection)
    again = admin_client.post(url, selection, follow=True).content.decode()
    assert "already rejected" in again
    assert balance_of(redemption.user) == 500
    assert PotTransaction.objects.filter(transaction_type="refund").count() == 1


def test_redemptions_cannot_be_edited_in_the_admin(admin_client):
    redemption = _redemption()
    response = admin_client.post(
        reverse("admin:currency_redemption_change", args=[redemption.pk]), {"status": "approved"}
    )
    assert response.status_code == 403
    redemption.refresh_from_db()
    assert redemption.status == "pending"


def test_operator_corrects_a_wallet_with_an_adjust_row(admin_client, operator):
    person = funded_user(100)
    wallet = Wallet.objects.get(user=person)
    url = reverse("admin:currency_wallet_adjust", args=[wallet.pk])
    assert "Balance now: <strong>100 POT" in admin_client.get(url).content.decode()
    refused = admin_client.post(url, {"amount": -101, "reason": "Duplicate award"})
    assert "Not enough POT" in refused.content.decode() and balance_of(person) == 100
    assert "non-zero" in admin_client.post(url, {"amount": 0, "reason": "x"}).content.decode()
    done = admin_client.post(url, {"amount": -40, "reason": "Duplicate award"}, follow=True)
    assert "Posted -40 POT" in done.content.decode()
    row = PotTransaction.objects.filter(user=person).order_by("-id").first()
    assert (row.transaction_type, row.amount, row.actor, row.note) == ("adjust", -40, operator, "Duplicate award")


def test_staff_without_the_permission_cannot_adjust(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    wallet = Wallet.objects.get(user=funded_user(10))
    assert client.get(reverse("admin:currency_wallet_adjust", args=[wallet.pk])).status_code == 403
