"""Community answers API: public reads (query counts pinned), ask, answer, accept, vote, report; staff hide."""

import pytest

from community import services
from community.models import Report
from currency.models import PotTransaction
from tests.conftest import client_for
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_provider

pytestmark = pytest.mark.django_db


def test_list_is_public_sorted_and_pinned(api_client, category, asker, provider, django_assert_num_queries):
    for n in range(5):
        services.question_ask(user=asker, category=category, title=f"Q{n}", body="b", anonymous=n == 0)
    url = f"/api/v1/questions/?category={category.name}"
    api_client.get(url)
    with django_assert_num_queries(1):  # the page (asker and category joined); a short page is its own count
        body = api_client.get(url).json()
    assert body["count"] == 5 and [row["title"] for row in body["results"]][:2] == ["Q4", "Q3"]
    assert body["results"][-1]["asker_name"] == "Anonymous"
    assert api_client.get("/api/v1/questions/?category=nope").json()["count"] == 0
    assert api_client.get("/api/v1/questions/").json()["count"] == 0


def test_ask_answer_accept_vote_report_through_the_api(category, asker, provider):
    seeker_api, provider_api = client_for(asker), client_for(provider.user)
    response = seeker_api.post(
        "/api/v1/questions/", {"category": category.name, "title": "Fees?", "body": "What is fair?"}, format="json"
    )
    assert response.status_code == 201
    question_id = response.json()["id"]
    refused = seeker_api.post("/api/v1/questions/", {"category": "nope", "title": "t", "body": "b"}, format="json")
    assert refused.status_code == 404
    blank = seeker_api.post("/api/v1/questions/", {"category": category.name, "title": " ", "body": "b"}, format="json")
    assert blank.status_code == 400 and blank.json()["code"] in ("required", "invalid")
    answer = provider_api.post(f"/api/v1/questions/{question_id}/answers/", {"body": "1%"}, format="json")
    assert answer.status_code == 201
    answer_id = answer.json()["id"]
    again = provider_api.post(f"/api/v1/questions/{question_id}/answers/", {"body": "2%"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_answered")
    assert provider_api.post(f"/api/v1/answers/{answer_id}/accept/").json()["code"] == "not_the_asker"
    accepted = seeker_api.post(f"/api/v1/answers/{answer_id}/accept/")
    assert accepted.status_code == 200 and accepted.json()["accepted_answer"] == answer_id
    assert seeker_api.post(f"/api/v1/answers/{answer_id}/accept/").status_code == 200  # a retry: same answer
    assert PotTransaction.objects.filter(category="answer_accepted").count() == 1
    assert seeker_api.post(f"/api/v1/answers/{answer_id}/vote/").json()["vote_count"] == 1
    assert seeker_api.post(f"/api/v1/answers/{answer_id}/vote/").json()["code"] == "already_voted"
    detail = client_for(UserFactory()).get(f"/api/v1/questions/{question_id}/").json()
    assert detail["answers"][0]["accepted"] is True and detail["answers"][0]["vote_count"] == 1
    report = seeker_api.post("/api/v1/community-reports/", {"answer": answer_id, "reason": "Ads"}, format="json")
    assert report.status_code == 201 and Report.objects.count() == 1
    neither = seeker_api.post("/api/v1/community-reports/", {"reason": "Ads"}, format="json")
    assert neither.status_code == 400


def test_staff_hide_and_the_public_no_longer_sees(api_client, question, answer, operator):
    staff = client_for(operator)
    assert staff.post(f"/api/v1/answers/{answer.pk}/hide/", {"reason": ""}, format="json").status_code == 400
    assert staff.post(f"/api/v1/answers/{answer.pk}/hide/", {"reason": "Ads"}, format="json").status_code == 200
    assert api_client.get(f"/api/v1/questions/{question.pk}/").json()["answers"] == []
    hidden = staff.post(f"/api/v1/questions/{question.pk}/hide/", {"reason": "Spam"}, format="json").json()
    assert hidden == {"id": question.pk, "hidden": True, "hidden_reason": "Spam"}
    assert api_client.get(f"/api/v1/questions/{question.pk}/").status_code == 404
    assert client_for(UserFactory()).post(f"/api/v1/questions/{question.pk}/unhide/").status_code == 403


def test_question_detail_query_count_does_not_grow(api_client, category, question, django_assert_num_queries):
    for n in range(4):
        services.answer_post(user=make_provider(category).user, question_id=question.pk, body=f"A{n}")
    with django_assert_num_queries(2):  # the question, its answers (providers joined)
        body = api_client.get(f"/api/v1/questions/{question.pk}/").json()
    assert len(body["answers"]) == 4
