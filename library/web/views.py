"""Library pages: the library (search and category), an article (views counted, premium unlock), the author's own."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from categories import selectors as category_selectors
from imatch.errors import DomainError
from imatch.web import add_domain_error, owned_or_404, page_without_count
from library import selectors, services
from library.web.forms import ArticleForm, LibrarySearchForm
from marketplace.selectors import providers_owned_by

LIBRARY_PAGE_SIZE = 20


def library_page(request: HttpRequest) -> HttpResponse:
    """Published articles, newest first, by words and category, twenty a page."""
    categories = category_selectors.category_list_public()
    form = LibrarySearchForm(request.GET or None, categories=categories)
    words, category = "", None
    if form.is_bound and form.is_valid():
        words = form.cleaned_data["q"]
        category = next((c for c in categories if c.name == form.cleaned_data["category"]), None)
    articles = selectors.articles_published(category_id=category.pk if category else None, words=words)
    page = page_without_count(articles, number=request.GET.get("page"), size=LIBRARY_PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "category": category, "filtered": bool(words)}
    return render(request, "library/library.html", context)


def _viewer(request: HttpRequest) -> str:
    return services.viewer_key(
        user_id=request.user.pk if request.user.is_authenticated else None,
        session_key=request.session.session_key,
        ip=request.META.get("REMOTE_ADDR"),
    )


def article_page(request: HttpRequest, article_id: int) -> HttpResponse:
    """One article: the full text, or for a locked premium one its summary and the unlock button."""
    try:
        article = selectors.article_readable(user=request.user, article_id=article_id)
    except DomainError as error:
        raise Http404(error.message) from error
    if services.article_view_count(article=article, viewer=_viewer(request)):
        article.view_count += 1
    context = {
        "article": article,
        "unlocked": selectors.article_unlocked_for(user=request.user, article=article),
        "is_author": request.user.is_authenticated and article.author.user_id == request.user.pk,
    }
    return render(request, "library/article.html", context)


@login_required
@require_POST
def article_unlock_page(request: HttpRequest, article_id: int) -> HttpResponse:
    try:
        result = services.article_unlock(user=request.user, article_id=article_id)
    except DomainError as error:
        if error.status == 404:
            raise Http404(error.message) from error
        messages.error(request, error.message)
    else:
        if not result.replayed:
            messages.success(request, f"Unlocked for {result.unlock.price_pot} POT. Enjoy the read.")
    return redirect("article", article_id)


@login_required
def my_articles_page(request: HttpRequest) -> HttpResponse:
    providers = list(providers_owned_by(user=request.user))
    context = {"articles": selectors.articles_owned_by(user=request.user), "providers": providers}
    return render(request, "library/my_articles.html", context)


def _fields(article) -> dict:
    return {"provider": article.author_id, "title": article.title, "summary": article.summary, "body": article.body,
            "premium": article.premium, "price_pot": article.price_pot}  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def article_write_page(request: HttpRequest, article_id: int | None = None) -> HttpResponse:
    """Write a new draft or edit one's own draft (or rejected article)."""
    article = owned_or_404(selectors.article_owned, request, article_id=article_id) if article_id else None
    providers = list(providers_owned_by(user=request.user))
    if not providers:
        messages.info(request, "Articles are written by providers: create your provider profile first.")
        return redirect("provider-create")
    if article and not article.editable:
        messages.error(request, f"This article is {article.get_status_display().lower()}: it can no longer be edited.")
        return redirect("my-articles")
    initial = _fields(article) if article else None
    form = ArticleForm(request.POST or None, initial=initial, providers=[article.author] if article else providers)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ("title", "summary", "body", "premium", "price_pot")}
        try:
            if article:
                saved = services.article_edit(user=request.user, article_id=article.pk, **data)
            else:
                saved = services.article_create(user=request.user, provider_id=form.cleaned_data["provider"], **data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if "submit" in request.POST:
                services.article_submit(user=request.user, article_id=saved.pk)
                messages.success(request, "Submitted: an operator reviews it, then it is published.")
                return redirect("my-articles")
            messages.success(request, "Draft saved.")
            return redirect("article-edit", saved.pk)
    return render(request, "library/article_form.html", {"form": form, "article": article})


@login_required
@require_POST
def article_submit_page(request: HttpRequest, article_id: int) -> HttpResponse:
    article = owned_or_404(selectors.article_owned, request, article_id=article_id)
    try:
        services.article_submit(user=request.user, article_id=article.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Submitted: an operator reviews it, then it is published.")
    return redirect("my-articles")
