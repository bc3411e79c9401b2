"""Community answers pages: a category's questions, asking, a question with its answers; accept, vote, report."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from community import selectors, services
from community.web.forms import AnswerForm, QuestionForm, ReportForm
from imatch.errors import DomainError, NotFound
from imatch.web import add_domain_error, flash_outcome, page_without_count
from marketplace.selectors import directory_category

QUESTIONS_PAGE_SIZE = 20
SORT_LABELS = {"newest": "Newest", "unanswered": "Unanswered", "popular": "Most answered"}


def _category(name: str):
    category = directory_category(name=name)
    if category is None:
        raise Http404("No such category.")
    return category


def _question(request: HttpRequest, name: str, question_id: int):
    try:
        question = selectors.question_visible(question_id=question_id, user=request.user)
    except NotFound as error:
        raise Http404(error.message) from error
    if question.category.name != name:
        raise Http404("No such question.")
    return question


def questions_page(request: HttpRequest, name: str) -> HttpResponse:
    category = _category(name)
    sort = request.GET.get("sort", "newest")
    if sort not in selectors.SORTS:
        sort = "newest"
    page = page_without_count(
        selectors.questions_in(category=category, sort=sort), number=request.GET.get("page"), size=QUESTIONS_PAGE_SIZE
    )
    context = {"category": category, "page": page, "sort": sort, "sorts": SORT_LABELS}
    return render(request, "community/questions.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def question_ask(request: HttpRequest, name: str) -> HttpResponse:
    category = _category(name)
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            question = services.question_ask(user=request.user, category=category, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Your question is up: providers of this category answer here.")
            return redirect("community-question", category.name, question.pk)
    status = 400 if form.errors else 200
    return render(request, "community/ask.html", {"category": category, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
def question_page(request: HttpRequest, name: str, question_id: int) -> HttpResponse:
    question = _question(request, name, question_id)
    provider = selectors.provider_answers_in(user=request.user, category=question.category)
    form = AnswerForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?{urlencode({'next': request.path})}")
        if form.is_valid():
            try:
                services.answer_post(user=request.user, question_id=question.pk, body=form.cleaned_data["body"])
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, "Your answer is up. The asker is notified.")
                return redirect("community-question", name, question.pk)
    answers = list(selectors.answers_of(question=question, user=request.user))
    answered = provider is not None and any(answer.provider_id == provider.pk for answer in answers)
    context = {
        "category": question.category,
        "question": question,
        "answers": answers,
        "is_asker": request.user.is_authenticated and request.user.pk == question.asker_id,
        "can_answer": provider is not None and not answered and request.user.pk != question.asker_id,
        "form": form,
        "report_form": ReportForm(),
        "get_matched": f"{reverse('seeker-create')}?{urlencode({'category': name, 'need': _need_text(question)})}",
    }
    return render(request, "community/question.html", context, status=400 if form.errors else 200)


def _need_text(question) -> str:
    """The question's words for the guided seeker flow's "what you need" (which keeps 200 characters)."""
    return f"{question.title} {question.body}"[:200]


def _back_to_question(answer_id: int) -> HttpResponse:
    try:
        answer = selectors.answer_visible(answer_id=answer_id)
    except NotFound as error:
        raise Http404(error.message) from error
    return redirect("community-question", answer.question.category.name, answer.question_id)


@login_required
@require_POST
def answer_accept(request: HttpRequest, answer_id: int) -> HttpResponse:
    response = _back_to_question(answer_id)
    flash_outcome(
        request,
        lambda: services.answer_accept(user=request.user, answer_id=answer_id),
        "You accepted this answer. Thank you: it helps the next person with the same question.",
    )
    return response


@login_required
@require_POST
def answer_vote(request: HttpRequest, answer_id: int) -> HttpResponse:
    response = _back_to_question(answer_id)
    flash_outcome(request, lambda: services.answer_vote(user=request.user, answer_id=answer_id), "Vote counted.")
    return response


@login_required
@require_POST
def report_file(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say what is wrong to report it.")
        return redirect(request.POST.get("next") if _safe(request.POST.get("next")) else "home")
    data = form.cleaned_data
    flash_outcome(
        request,
        lambda: services.report_file(
            user=request.user, reason=data["reason"], question_id=data["question"], answer_id=data["answer"]
        ),
        "Thank you: an operator will look at it.",
    )
    return redirect(request.POST.get("next") if _safe(request.POST.get("next")) else "home")


def _safe(url: str | None) -> bool:
    return bool(url) and url.startswith("/") and not url.startswith("//")
