"""Community answers pages: listing, asking, answering, accepting, voting, reporting; escaped text; query counts."""

import pytest
from django.test import Client
from django.urls import reverse

from community import services
from community.models import Question, Report
from tests.community.conftest import browser_of, old_verified_user
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider

pytestmark = pytest.mark.django_db

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "<svg onload=alert(1)>",
    '"><iframe src="javascript:alert(1)"></iframe>',
    "<b onmouseover=alert(1)>raw html</b>",
]


def question_url(question) -> str:
    return reverse("community-question", args=[question.category.name, question.pk])


def test_questions_page_sorts_and_pins_its_queries(category, asker, provider, django_assert_num_queries):
    for n in range(25):
        services.question_ask(user=asker, category=category, title=f"Question {n:02}", body="b")
    answered = Question.objects.get(title="Question 03")
    services.answer_post(user=provider.user, question_id=answered.pk, body="a")
    url = reverse("community-questions", args=[category.name])
    Client().get(url)  # the catalogue cached
    with django_assert_num_queries(1):  # one page of questions (asker and category joined)
        page = Client().get(url).content.decode()
    assert page.count('<li><a href="/categories/') == 20 and "Question 24" in page and "Ask a question" in page
    popular = Client().get(url, {"sort": "popular"}).content.decode()
    assert popular.index("Question 03") < popular.index("Question 24")
    unanswered = Client().get(url, {"sort": "unanswered"}).content.decode()
    assert "Question 03" not in unanswered
    assert Client().get(url, {"sort": "nonsense"}).status_code == 200


def test_question_page_query_count_does_not_grow_with_answers(category, question, asker, django_assert_max_num_queries):
    for n in range(3):
        services.answer_post(user=make_provider(category).user, question_id=question.pk, body=f"Answer {n}")
    browser = browser_of(asker)
    browser.get(question_url(question))
    with django_assert_max_num_queries(20) as few:
        browser.get(question_url(question))
    for n in range(10):
        services.answer_post(user=make_provider(category).user, question_id=question.pk, body=f"More {n}")
    with django_assert_max_num_queries(len(few)):
        page = browser.get(question_url(question)).content.decode()
    assert page.count('data-testid="answer"') == 13


def test_unknown_or_closed_category_and_hidden_question_are_404(question, operator):
    assert Client().get(reverse("community-questions", args=["nope"])).status_code == 404
    other = make_category(name="tutors", display_name="Tutors")
    assert Client().get(reverse("community-question", args=[other.name, question.pk])).status_code == 404
    services.question_hide(operator=operator, question_id=question.pk, reason="Spam")
    assert Client().get(question_url(question)).status_code == 404
    assert browser_of(operator).get(question_url(question)).status_code == 200  # operators still see it


def test_asking_needs_a_login_and_shows_errors_next_to_fields(category, asker):
    url = reverse("community-ask", args=[category.name])
    assert Client().get(url).status_code == 302
    browser = browser_of(asker)
    response = browser.post(url, {"title": "", "body": "Details"})
    assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
    response = browser.post(url, {"title": "Which plan?", "body": "Details", "anonymous": "on"})
    question = Question.objects.get()
    assert response.url == question_url(question) and question.anonymous
    page = Client().get(question_url(question)).content.decode()
    assert "Anonymous" in page and "Ana Asker" not in page


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_text_never_renders_as_markup(category, asker, provider, payload):
    question = services.question_ask(user=asker, category=category, title=payload, body=payload)
    services.answer_post(user=provider.user, question_id=question.pk, body=payload)
    for url in (question_url(question), reverse("community-questions", args=[category.name])):
        page = Client().get(url).content.decode()
        for dangerous in (
            "<script>alert",
            "<img src=x",
            "<svg onload",
            '<a href="javascript:',
            "<iframe",
            "<b onmouse",
        ):
            assert dangerous not in page
        assert "&lt;" in page
    provider_page = Client().get(reverse("provider-detail", args=[provider.pk])).content.decode()
    assert "&lt;" in provider_page and "<script>alert" not in provider_page


def test_the_provider_answers_and_the_asker_accepts_on_the_page(category, question, asker, provider):
    provider_browser = browser_of(provider.user)
    page = provider_browser.get(question_url(question)).content.decode()
    assert "Post my answer" in page
    response = provider_browser.post(question_url(question), {"body": "Save 15%."})
    assert response.status_code == 302
    page = provider_browser.get(question_url(question)).content.decode()
    assert "Save 15%." in page and "Post my answer" not in page  # answered once
    asker_page = browser_of(asker).get(question_url(question)).content.decode()
    assert "Accept this answer" in asker_page and "Post my answer" not in asker_page
    answer = question.answers.get()
    browser_of(asker).post(reverse("community-accept", args=[answer.pk]))
    page = Client().get(question_url(question)).content.decode()
    assert "Accepted answer" in page and "Accept this answer" not in page


def test_refusals_show_as_messages_not_errors(question, answer, provider):
    stranger = UserFactory()
    response = browser_of(stranger).post(reverse("community-accept", args=[answer.pk]), follow=True)
    assert "Only the person who asked" in response.content.decode()
    response = browser_of(provider.user).post(reverse("community-vote", args=[answer.pk]), follow=True)
    assert "your own answer" in response.content.decode()
    response = browser_of(stranger).post(question_url(question), {"body": "Me too"})
    assert response.status_code == 400 and "Only listed providers" in response.content.decode()
    assert browser_of(stranger).post(reverse("community-accept", args=[99999])).status_code == 404


def test_a_seeker_without_profile_is_asked_to_log_in_to_answer(question):
    page = Client().get(question_url(question)).content.decode()
    assert "Log in" in page and "Post my answer" not in page
    assert Client().post(question_url(question), {"body": "x"}).status_code == 302


def test_vote_and_report_from_the_page(question, answer):
    voter = UserFactory()
    browser = browser_of(voter)
    browser.post(reverse("community-vote", args=[answer.pk]))
    answer.refresh_from_db()
    assert answer.vote_count == 1
    response = browser.post(
        reverse("community-report"), {"answer": answer.pk, "reason": "Spam", "next": question_url(question)}
    )
    assert response.url == question_url(question)
    assert Report.objects.get().answer == answer
    response = browser.post(reverse("community-report"), {"question": question.pk, "reason": "", "next": "//evil"})
    assert response.url == "/"
    assert Report.objects.count() == 1


def test_get_matched_is_prefilled_with_the_question(question):
    page = Client().get(question_url(question)).content.decode()
    assert f"/seekers/new/?category={question.category.name}&amp;need=How+much+to+save%3F+I+am+40." in page
    form = Client().get(f"/seekers/new/?category={question.category.name}&need=How+much+to+save%3F+I+am+40.")
    assert "How much to save? I am 40." in form.content.decode()


def test_category_and_provider_pages_link_the_community(category, question, answer, provider):
    page = Client().get(reverse("category-detail", args=[category.name])).content.decode()
    assert "How much to save?" in page and reverse("community-ask", args=[category.name]) in page
    page = Client().get(reverse("provider-detail", args=[provider.pk])).content.decode()
    assert 'data-testid="provider-answers"' in page and "How much to save?" in page


def test_provider_page_answers_take_one_query(category, provider, django_assert_num_queries):
    from community.templatetags.community import provider_answers

    for n in range(8):
        question = services.question_ask(user=old_verified_user(), category=category, title=f"Q{n}", body="b")
        services.answer_post(user=provider.user, question_id=question.pk, body="a")
    with django_assert_num_queries(1):
        shown = provider_answers(provider)["answers"]
        titles = [answer.question.title for answer in shown]
    assert titles == ["Q7", "Q6", "Q5", "Q4", "Q3"]
