"""Template context shared by every page (the navigation bar)."""

from django.http import HttpRequest

from categories.selectors import category_list


def navigation(request: HttpRequest) -> dict:
    """Active categories for the menu; evaluated lazily, only by pages that show it."""
    return {"nav_categories": category_list().only("name", "display_name")}
