"""The weekly report: hand-computed figures over several categories and weeks, the runbook's
three weekly queries give the same numbers, a pinned query count, the command, the email task,
and the SQL views."""

import json
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from currency.services import pot_spend
from marketplace.models import User
from marketplace.services import engagements, matches, profiles
from operations import report_render
from operations.report import weekly_report
from operations.tasks import send_weekly_report
from tests.currency.factories import pot_fund
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker
from tests.test_project import RUNBOOK, _runbook_statements

pytestmark = pytest.mark.django_db


@contextmanager
def at(moment):
    """Everything written inside happens at `moment` (auto_now_add fields and ledger rows alike)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _engaged(category, deal_value: str, *, state: str = "TX"):
    seeker = make_seeker(category, state=state, remote_ok=False)
    provider = make_provider(category, state=state)
    [match] = matches.match_run_for_seeker(seeker=seeker)
    matches.match_introduce(match=match, user=seeker.user)
    matches.match_accept(match=match, user=provider.user)
    return engagements.engagement_report(match=match, user=seeker.user, deal_value_usd=deal_value)


@pytest.fixture
def marketplace_weeks():
    """Two categories over two weeks; `now` is when the report is read."""
    now = timezone.now()
    planners = make_category()
    coaches = make_category(name="coaches", display_name="Coaches")
    with at(now - timedelta(days=10)):  # last week but one
        first = _engaged(planners, "1000.00")  # seeker 50 + provider 100 POT
    with at(now - timedelta(days=2)):  # the last 7 days
        _engaged(planners, "500.00", state="CA")
        coach = _engaged(coaches, "2000.00")
        pot_fund(coach.provider.user, 300)
        pot_spend(user=coach.provider.user, option_key="profile_boost")  # 200 POT spent
        referred = profiles.user_register(
            email="friend@example.com",
            password="a-long-passphrase-2",
            name="Friend",
            referral_code=first.seeker.user.referral_code,
        )
        User.objects.filter(pk=referred.pk).update(date_joined=timezone.now())  # the default is the unpatched clock
        make_seeker(coaches, user=referred, state="NY", remote_ok=False)  # 50 POT, no provider for them
        make_provider(coaches, user=first.seeker.user, state="WA")  # the first seeker, now in 2 categories: 100 POT
    return now


def test_the_report_figures_against_hand_computed_values(marketplace_weeks, django_assert_num_queries):
    with django_assert_num_queries(11):
        report = weekly_report(weeks=2, now=marketplace_weeks)
    rev = [(r.week, r.category, r.engagements, r.deal_value, r.commission) for r in report.revenue]
    assert rev == [
        (0, "Coaches", 1, Decimal("2000.00"), Decimal("400.00")),
        (0, "Planners", 1, Decimal("500.00"), Decimal("100.00")),
        (1, "Planners", 1, Decimal("1000.00"), Decimal("200.00")),
    ]
    assert report.revenue_total(0) == (2, Decimal("2500.00"), Decimal("500.00"))
    assert [(r.week, r.reason, r.transactions, r.pot) for r in report.earning] == [
        (
            0,
            "profile_creation",
            6,
            450,
        ),  # 4 sign-up profiles (300), the referred seeker (50), a 2nd-role provider (100)
        (1, "profile_creation", 2, 150),
    ]
    assert [(r.week, r.reason, r.transactions, r.pot) for r in report.spending] == [(0, "profile_boost", 1, 200)]
    assert [(r.week, r.category, r.seekers, r.providers) for r in report.new_profiles] == [
        (0, "Coaches", 2, 2),
        (0, "Planners", 1, 1),
        (1, "Planners", 1, 1),
    ]
    funnel = {row.category: row for row in report.funnel}
    assert [getattr(funnel["Planners"], step) for step in funnel["Planners"].STEPS] == [2, 2, 2, 2, 0]
    assert [getattr(funnel["Coaches"], step) for step in funnel["Coaches"].STEPS] == [1, 1, 1, 1, 0]
    assert funnel["Planners"].conversions()[-1] == ("completed", Decimal(0))
    assert (report.referrals.signed_up, report.referrals.activated, report.referrals.engaged) == (1, 1, 0)
    assert report.multi_category.people_in_two_or_more == 1
    assert report.multi_category.seekers_engaged_in_two_or_more == 0
    goals = {goal.key: goal for goal in report.goals}
    assert (goals["revenue"].actual, goals["revenue"].met) == ("$700.00", False)
    assert (goals["pot_in_circulation"].actual, goals["pot_in_circulation"].met) == ("700 POT", False)
    assert (goals["participation"].actual, goals["participation"].met) == ("100.0%", True)  # all 7 hold POT
    assert (goals["pot_transactions"].actual, goals["pot_transactions"].met) == ("8", False)
    # More data, same number of queries.
    with at(marketplace_weeks - timedelta(days=3)):
        _engaged(make_category(name="trainers", display_name="Trainers"), "300.00")
    with django_assert_num_queries(11):
        assert len(weekly_report(weeks=2, now=marketplace_weeks).revenue) == 4


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the runbook is written in SQLite's dialect")
def test_the_runbooks_weekly_queries_give_the_same_numbers(marketplace_weeks):
    weekly = [sql for sql in _runbook_statements(RUNBOOK.read_text()) if "'-7 days'" in sql]
    assert len(weekly) == 3
    results = []
    with connection.cursor() as cursor:
        for sql in weekly:
            cursor.execute(sql)
            results.append(cursor.fetchall())
    revenue, earning, spending = results
    report = weekly_report(weeks=1)
    assert sorted(
        (name, count, Decimal(str(deal)), Decimal(str(commission))) for name, count, deal, commission in revenue
    ) == [(row.category, row.engagements, row.deal_value, row.commission) for row in report.revenue]
    assert earning == [(row.reason, row.transactions, row.pot) for row in report.earning]
    assert spending == [(row.reason, row.transactions, row.pot) for row in report.spending]


def test_the_report_in_text_csv_and_json(marketplace_weeks):
    report = weekly_report(weeks=2, now=marketplace_weeks)
    text = report_render.as_text(report)
    assert "Revenue by category" in text and "$2,000.00" in text and "NOT MET" in text
    assert "people with profiles in 2 or more categories: 1" in text
    rows = report_render.as_csv(report).splitlines()
    assert rows[0] == "section,week_start,category_or_reason,figure,value"
    assert any(row.endswith(",Coaches,commission,400.00") for row in rows)
    data = json.loads(report_render.as_json(report))
    assert data["revenue_by_category"][0]["commission_usd"] == "400.00"
    assert data["funnel_by_category"][0]["conversion_rates"]["introductions"] == 1.0
    assert data["referral_funnel"] == {"signed_up": 1, "activated": 1, "engaged": 0}


def test_the_weekly_report_command(marketplace_weeks, tmp_path: Path, admin_user, django_capture_on_commit_callbacks):
    out = StringIO()
    call_command("weekly_report", "--weeks", "2", stdout=out)
    assert "Month-2 goals" in out.getvalue()
    target = tmp_path / "report.csv"
    call_command("weekly_report", "--format", "csv", "--output", str(target), stderr=StringIO())
    assert target.read_text().startswith("section,week_start")
    out = StringIO()
    call_command("weekly_report", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["weeks"][0]["index"] == 0
    for bad in ("0", "53", "many"):
        with pytest.raises(CommandError, match="--weeks"):
            call_command("weekly_report", "--weeks", bad)
    with pytest.raises(CommandError, match="No such folder"):
        call_command("weekly_report", "--output", str(tmp_path / "missing" / "r.txt"))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("weekly_report", "--email", stdout=StringIO(), stderr=StringIO())
    assert mail.outbox[-1].to == [admin_user.email]


def test_the_weekly_task_emails_the_operators(settings, marketplace_weeks, django_capture_on_commit_callbacks):
    UserFactory(is_staff=True, email="ops-b@example.com")
    UserFactory(is_staff=True, email="ops-a@example.com")
    UserFactory(is_staff=True, is_active=False, email="gone@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_weekly_report() == 2
    [email] = mail.outbox
    assert email.to == ["ops-a@example.com", "ops-b@example.com"]
    assert email.subject.startswith("I MATCH weekly report") and "POT earning sources" in email.body
    settings.WEEKLY_REPORT_RECIPIENTS = ["board@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        assert send_weekly_report() == 1
    assert mail.outbox[-1].to == ["board@example.com"]
    assert settings.CELERY_BEAT_SCHEDULE["weekly-report"]["task"] == "operations.weekly_report"


def test_no_operator_no_email():
    assert send_weekly_report() == 0 and mail.outbox == []


def test_the_sql_views(marketplace_weeks):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT display_name, SUM(engagements), SUM(total_commission) FROM v_revenue_by_category_week "
            "GROUP BY display_name ORDER BY display_name"
        )
        revenue = [(name, count, Decimal(str(total))) for name, count, total in cursor.fetchall()]
        cursor.execute(
            "SELECT transaction_type, category, SUM(transaction_count), SUM(total_pot) FROM v_pot_flows_week "
            "GROUP BY transaction_type, category ORDER BY transaction_type, category"
        )
        flows = cursor.fetchall()
        cursor.execute(
            "SELECT email, seeker_categories, provider_categories, pot_balance FROM v_user_roles WHERE email = %s",
            ["friend@example.com"],
        )
        friend = cursor.fetchone()
        cursor.execute(
            "SELECT COUNT(*) FROM v_user_roles WHERE seeker_categories IS NOT NULL AND provider_categories IS NOT NULL"
        )
        both = cursor.fetchone()[0]
    assert revenue == [("Coaches", 1, Decimal("400.00")), ("Planners", 2, Decimal("300.00"))]
    assert flows == [
        ("adjust", "adjustment", 1, 300),
        ("earn", "profile_creation", 8, 600),
        ("spend", "profile_boost", 1, -200),
    ]
    assert friend == ("friend@example.com", "coaches", None, 50)
    assert both == 1


def test_the_staff_api_returns_the_report(marketplace_weeks, operator_api, user_api):
    response = operator_api.get("/api/v1/operations/weekly-report/?weeks=2")
    assert response.status_code == 200
    body = response.json()
    assert [week["index"] for week in body["weeks"]] == [0, 1]
    assert body["revenue_by_category"][0] == {
        **body["revenue_by_category"][0],
        "category": "Coaches",
        "engagements": 1,
        "commission_usd": "400.00",
    }
    assert body["referral_funnel"] == {"signed_up": 1, "activated": 1, "engaged": 0}
    refused = operator_api.get("/api/v1/operations/weekly-report/?weeks=0")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid" and "weeks" in refused.json()["fields"]
    assert user_api.get("/api/v1/operations/weekly-report/").status_code == 403


def test_the_report_page_in_the_admin(marketplace_weeks, admin_client, client, user, django_assert_num_queries):
    url = reverse("admin:operations_weekly_report")
    admin_client.get(url)
    with django_assert_num_queries(12):  # the user (the session is in the cache), then the report's eleven
        page = admin_client.get(url + "?weeks=2").content.decode()
    assert 'id="commission-chart"' in page and 'id="weekly-report-data"' in page and "js/weekly-report-chart.js" in page
    assert "Commission, last 4 weeks" in page and "$400.00" in page
    refused = admin_client.get(url + "?weeks=60").content.decode()
    assert "Ensure this value is less than or equal to 52." in refused and 'id="commission-chart"' not in refused
    client.force_login(user)
    assert client.get(url).status_code == 302
