"""`{% with_unread_messages actions_needed user as actions_needed %}`: the dashboard's "Action needed" list
with one item per thread holding unread messages, right after the leads (the dashboard lives in
marketplace, which cannot import conversations; this tag adds what only conversations knows).
"""

from django import template
from django.urls import reverse

from conversations.selectors import unread_threads_of
from marketplace.selectors import ActionItem

register = template.Library()


@register.simple_tag
def with_unread_messages(actions: list[ActionItem], user) -> list[ActionItem]:
    """`actions` with an item per thread the person has unread messages in (one query for all threads)."""
    messages = [
        ActionItem(
            "message",
            f"{thread.unread} unread message{'' if thread.unread == 1 else 's'} from "
            f"{thread.other_name} ({thread.category_display_name}).",
            reverse("thread", args=[thread.match_id]),
            "Read",
        )
        for thread in unread_threads_of(user=user)
    ]
    leads = [item for item in actions if item.kind == "lead"]
    return leads + messages + [item for item in actions if item.kind != "lead"]
