"""The operations console: branding, the work queue and the KPI tiles on the admin index, formatting."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from currency.models import Redemption
from currency.services import redemption_request
from library.models import ArticleStatus
from marketplace.models import Engagement, Match, Provider, Seeker
from marketplace.services import engagements, matches
from operations import selectors
from tests.currency.factories import pot_fund
from tests.library.factories import ArticleFactory
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import accepted_match, make_category, make_provider, make_seeker

pytestmark = pytest.mark.django_db


def _tile(key: str):
    return {tile.key: tile for tile in selectors.kpi_tiles()}[key]


def _queue() -> dict[str, int]:
    return {item.key: item.count for item in selectors.work_queue()}


def test_the_index_is_the_branded_console_with_the_queue_and_tiles(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "<title>Work queue and this week | I MATCH operations</title>" in page
    assert 'id="work-queue"' in page and 'id="kpi-liability"' in page
    for label in ("Licenses to verify", "Redemptions to decide", "Engagements unconfirmed for over 7 days"):
        assert label in page
    assert "POT transactions" in page and "Pot transactions" not in page


def test_the_console_is_for_staff_only(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_work_queue_counts_and_links_to_the_filtered_lists(admin_client, settings):
    licensed = make_category(name="therapists", display_name="Therapists", requires_license=True)
    make_provider(licensed, license_number="TX-123")  # to verify
    make_provider(licensed)  # no number: nothing to check yet
    make_provider(licensed, verified=True)  # done
    settings.POT_MIN_REDEMPTION = 100
    person = UserFactory(verified=True)
    pot_fund(person, 300)
    redemption_request(user=person, pot_amount=200, payment_method="PayPal: a@example.com")
    stale_match = accepted_match(make_category())
    stale = engagements.engagement_report(match=stale_match, user=stale_match.seeker.user, deal_value_usd="500")
    Engagement.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=8))
    fresh_match = accepted_match(make_category(name="coaches", display_name="Coaches"))
    engagements.engagement_report(match=fresh_match, user=fresh_match.seeker.user, deal_value_usd="500")
    category = make_category(name="trainers", display_name="Trainers")
    seeker = make_seeker(category)
    make_provider(category)
    make_provider(category)
    old, recent = matches.match_run_for_seeker(seeker=seeker)[:2]
    for match, hours in ((old, 50), (recent, 10)):
        matches.match_introduce(match=match, user=seeker.user)
        Match.objects.filter(pk=match.pk).update(introduced_at=timezone.now() - timedelta(hours=hours))

    ArticleFactory(status=ArticleStatus.SUBMITTED, submitted_at=timezone.now())
    ArticleFactory()  # a draft: nothing to review yet
    assert _queue() == {
        "licenses": 1,
        "redemptions": 1,
        "content_review": 1,
        "under_review": 0,
        "disputes": 0,
        "stale_engagements": 1,
        "expiring_introductions": 1,
        "community_reports": 0,
    }
    links = {item.key: item.url for item in selectors.work_queue()}
    listed = admin_client.get(links["licenses"]).content.decode()
    assert "TX-123" in listed and "1 provider" in listed
    waiting = admin_client.get(links["stale_engagements"]).content.decode()
    assert f"/admin/marketplace/engagement/{stale.pk}/change/" in waiting
    expiring = admin_client.get(links["expiring_introductions"]).content.decode()
    assert f"/admin/marketplace/match/{old.pk}/change/" in expiring
    assert f"/admin/marketplace/match/{recent.pk}/change/" not in expiring
    assert "1 redemption" in admin_client.get(links["redemptions"]).content.decode()


def test_kpi_tiles_compare_the_last_7_days_with_the_7_before():
    category = make_category()
    now = timezone.now()
    seekers = [make_seeker(category) for _ in range(5)]
    Seeker.objects.filter(pk__in=[s.pk for s in seekers[:2]]).update(created_at=now - timedelta(days=10))
    Seeker.objects.filter(pk=seekers[2].pk).update(created_at=now - timedelta(days=20))  # outside both weeks
    tile = _tile("new_seekers")
    assert (tile.current, tile.previous, tile.change_display, tile.trend) == (2, 2, "+0.0%", "flat")
    provider = make_provider(category)
    Provider.objects.filter(pk=provider.pk).update(created_at=now - timedelta(days=3))
    assert _tile("new_providers").change_display == "new"

    match = accepted_match(make_category(name="coaches", display_name="Coaches"))
    engagement = engagements.engagement_report(match=match, user=match.seeker.user, deal_value_usd="1234.50")
    assert _tile("deal_value").current_display == "$1,234.50"
    assert _tile("commission").current == Decimal("246.90")
    Engagement.objects.filter(pk=engagement.pk).update(created_at=now - timedelta(days=8))
    deal = _tile("deal_value")
    assert (deal.current_display, deal.previous_display, deal.change_display, deal.trend) == (
        "$0.00",
        "$1,234.50",
        "-100.0%",
        "down",
    )


def test_pot_tiles_and_the_outstanding_liability(settings):
    settings.POT_MIN_REDEMPTION = 100
    person = UserFactory(verified=True)
    pot_fund(person, 1000)
    redemption_request(user=person, pot_amount=500, payment_method="PayPal: a@example.com")
    assert _tile("pot_redeemed").current == 500
    liability = selectors.pot_liability()
    held = Redemption.objects.get().usd_amount
    assert liability.in_circulation == 500 and liability.held_pot == 500
    assert liability.usd == Decimal("500") * settings.POT_USD_RATE + held
    assert liability.display == "$800.00"  # 500 POT at 0.80 + 400.00 held


def test_the_index_costs_a_fixed_number_of_queries(admin_client, django_assert_num_queries):
    category = make_category()
    for _ in range(3):
        make_seeker(category)
        make_provider(category)
    admin_client.get(reverse("admin:index"))  # warm the session
    with django_assert_num_queries(14):  # one each for the community reports and the content waiting for review
        admin_client.get(reverse("admin:index"))
    for _ in range(3):
        make_seeker(category)
    with django_assert_num_queries(14):
        assert admin_client.get(reverse("admin:index")).status_code == 200
