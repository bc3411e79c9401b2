from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from categories.selectors import category_list_public
from growth import leaderboards as boards
from growth.badges import BADGES
from growth.ranking import Month
from growth.selectors import badges_of_people
from growth.web.forms import LeaderboardPickForm


@require_http_methods(["GET"])
def badges(request: HttpRequest) -> HttpResponse:
    """Every badge with its rule; for a logged-in person, which ones they hold."""
    held: set[str] = set()
    if request.user.is_authenticated:
        held = {badge.key for badge in badges_of_people(user_ids=[request.user.pk])[request.user.pk]}
    return render(request, "growth/badges.html", {"badges": BADGES, "held": held})


@require_http_methods(["GET"])
def leaderboards(request: HttpRequest) -> HttpResponse:
    """A category's three leaderboards for a month (the current one by default), from the cache."""
    now = timezone.now()
    form = LeaderboardPickForm(request.GET, categories=category_list_public(), now=now)
    context = {
        "form": form,
        "refresh_minutes": settings.LEADERBOARD_CACHE_SECONDS // 60,
        "size": settings.LEADERBOARD_SIZE,
    }
    if not form.is_valid():
        return render(request, "growth/leaderboards.html", context, status=400)
    category, month = form.cleaned_data["category"], form.cleaned_data["month"]
    if category is not None:
        found = boards.leaderboards(category=category, month=month, now=now)
        context.update(
            category=category,
            month=month,
            current=month == Month.of(now),
            boards=found,
            updated_at=boards.updated_at(found),
        )
    return render(request, "growth/leaderboards.html", context)
