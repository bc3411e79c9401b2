"""Conversation pages: the person's threads, and one thread (reading it marks it read; the form posts)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from conversations import selectors, services
from conversations.web.forms import MessageForm
from imatch.errors import DomainError
from imatch.web import add_domain_error, owned_or_404

THREAD_MESSAGES_SHOWN = 200


@login_required
def threads_page(request: HttpRequest) -> HttpResponse:
    return render(request, "conversations/threads.html", {"threads": selectors.threads_of(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def thread_page(request: HttpRequest, match_id: int) -> HttpResponse:
    match = owned_or_404(selectors.thread_for_user, request, match_id=match_id)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_post(match_id=match.pk, user=request.user, body=form.cleaned_data["body"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("thread", match.pk)
    services.thread_mark_read(match_id=match.pk, user=request.user)
    shown = list(selectors.messages_of(match=match).reverse()[:THREAD_MESSAGES_SHOWN])[::-1]
    other = selectors.other_side(match, request.user)
    context = {
        "match": match,
        "messages_shown": shown,
        "other": other,
        "is_seeker": request.user.pk == match.seeker.user_id,
        "can_post": selectors.can_post(match),
        "form": form,
    }
    return render(request, "conversations/thread.html", context, status=400 if form.errors else 200)
