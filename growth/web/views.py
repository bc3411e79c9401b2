from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from growth.badges import BADGES
from growth.selectors import badges_of_people


@require_http_methods(["GET"])
def badges(request: HttpRequest) -> HttpResponse:
    """Every badge with its rule; for a logged-in person, which ones they hold."""
    held: set[str] = set()
    if request.user.is_authenticated:
        held = {badge.key for badge in badges_of_people(user_ids=[request.user.pk])[request.user.pk]}
    return render(request, "growth/badges.html", {"badges": BADGES, "held": held})
