"""Operators hide questions and answers with a reason, show them again, and work through reports."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from community import services
from community.models import Question, Report, ReportStatus
from operations import selectors as operations_selectors
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_hide_asks_for_a_reason_then_hides(admin_client, question):
    url = reverse("admin:community_question_changelist")
    form = admin_client.post(url, {"action": "hide", ACTION_CHECKBOX_NAME: [question.pk]})
    assert form.status_code == 200 and "Reason" in form.content.decode()
    refused = admin_client.post(url, {"action": "hide", ACTION_CHECKBOX_NAME: [question.pk], "apply": "1", "text": ""})
    assert refused.status_code == 200
    question.refresh_from_db()
    assert not question.hidden
    done = admin_client.post(
        url, {"action": "hide", ACTION_CHECKBOX_NAME: [question.pk], "apply": "1", "text": "Off topic"}, follow=True
    )
    assert "Hid 1 question." in done.content.decode()
    question.refresh_from_db()
    assert (question.hidden, question.hidden_reason) == (True, "Off topic")
    again = admin_client.post(url, {"action": "unhide", ACTION_CHECKBOX_NAME: [question.pk]}, follow=True)
    assert "Showed again 1 question." in again.content.decode()


def test_answers_plural_and_pages_open(admin_client, category, question, answer):
    from tests.marketplace.loop import make_provider

    second = services.answer_post(user=make_provider(category).user, question_id=question.pk, body="Other")
    url = reverse("admin:community_answer_changelist")
    done = admin_client.post(
        url, {"action": "hide", ACTION_CHECKBOX_NAME: [answer.pk, second.pk], "apply": "1", "text": "Ads"}, follow=True
    )
    assert "Hid 2 answers." in done.content.decode()
    for name in ("question", "answer", "report"):
        assert admin_client.get(reverse(f"admin:community_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:community_answer_change", args=[answer.pk])).status_code == 200


def test_reports_are_in_the_work_queue_and_handled_from_the_admin(admin_client, question, answer):
    services.report_file(user=UserFactory(), answer_id=answer.pk, reason="Advertising")
    services.report_file(user=UserFactory(), question_id=question.pk, reason="Rude")
    queue = {item.key: item for item in operations_selectors.work_queue()}
    assert queue["community_reports"].count == 2
    listed = admin_client.get(queue["community_reports"].url).content.decode()
    assert "Advertising" in listed and "Rude" in listed
    answer_report = Report.objects.get(answer=answer)
    admin_client.post(
        reverse("admin:community_report_changelist"),
        {"action": "hide_reported", ACTION_CHECKBOX_NAME: [answer_report.pk], "apply": "1", "text": "Ads"},
    )
    answer.refresh_from_db()
    assert answer.hidden and answer.hidden_reason == "Ads"
    question_report = Report.objects.get(question=question)
    done = admin_client.post(
        reverse("admin:community_report_changelist"),
        {"action": "dismiss", ACTION_CHECKBOX_NAME: [question_report.pk]},
        follow=True,
    )
    assert "Dismissed 1 report." in done.content.decode()
    assert not Report.objects.filter(status=ReportStatus.OPEN).exists()
    assert not Question.objects.get().hidden
    assert "Reports waiting for moderation" in admin_client.get(reverse("admin:index")).content.decode()


def test_moderation_is_for_staff(client, question):
    client.force_login(UserFactory())
    assert client.get(reverse("admin:community_question_changelist")).status_code == 302
