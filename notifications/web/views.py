"""The notifications page: newest first, mark one read (and open it), mark all read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from imatch.web import owned_or_404
from notifications import selectors, services

PAGE_SIZE = 20


@login_required
def notifications_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_of(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/notifications.html", {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark it read; `open` goes on to the page it is about, else back to the list."""
    notification = owned_or_404(services.notification_mark_read, request, notification_id=notification_id)
    link = notification.link
    if request.POST.get("open") and link and url_has_allowed_host_and_scheme(link, allowed_hosts=None):
        return redirect(link)
    return redirect("notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'' if count == 1 else 's'} read.")
    return redirect("notifications")
