"""Operators review articles in the admin: preview, publish (pays once), reject with a reason."""

import pytest
from django.urls import reverse

from currency.models import PotTransaction
from library.models import ArticleStatus
from tests.library.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def submitted(**fields):
    return ArticleFactory(status=ArticleStatus.SUBMITTED, body="Hello **there** <script>alert(1)</script>", **fields)


def test_the_preview_shows_the_sanitized_html(admin_client):
    article = submitted()
    page = admin_client.get(reverse("admin:library_article_change", args=[article.pk])).content.decode()
    assert "<strong>there</strong>" in page and "<script>alert(1)" not in page


def test_publishing_from_the_list_pays_each_author_once(admin_client):
    first, second = submitted(), submitted()
    changelist = reverse("admin:library_article_changelist")
    for _ in range(2):
        response = admin_client.post(
            changelist, {"action": "publish", "_selected_action": [first.pk, second.pk]}, follow=True
        )
    assert PotTransaction.objects.filter(category="content_published").count() == 2
    first.refresh_from_db()
    assert first.status == ArticleStatus.PUBLISHED
    assert "Published 2 articles." not in response.content.decode()  # the second run found nothing to publish


def test_publish_message_uses_the_right_plural(admin_client):
    article = submitted()
    response = admin_client.post(
        reverse("admin:library_article_changelist"),
        {"action": "publish", "_selected_action": [article.pk]},
        follow=True,
    )
    assert "Published 1 article." in response.content.decode()


def test_reject_asks_for_a_reason_then_sends_it_back(admin_client):
    article = submitted()
    changelist = reverse("admin:library_article_changelist")
    asked = admin_client.post(changelist, {"action": "reject", "_selected_action": [article.pk]})
    assert "Reason (shown to the author)" in asked.content.decode()
    empty = admin_client.post(
        changelist, {"action": "reject", "_selected_action": [article.pk], "apply": "1", "text": ""}
    )
    assert "This field is required" in empty.content.decode()
    done = admin_client.post(
        changelist,
        {"action": "reject", "_selected_action": [article.pk], "apply": "1", "text": "Cite sources."},
        follow=True,
    )
    assert "Rejected 1 article." in done.content.decode()
    article.refresh_from_db()
    assert article.status == ArticleStatus.REJECTED and article.rejection_reason == "Cite sources."
    assert not PotTransaction.objects.exists()


def test_non_staff_cannot_review(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:library_article_changelist"))
    assert response.status_code == 302
