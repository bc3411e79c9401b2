"""Operators read conversations (for a dispute or an abuse report), read-only: nobody writes or deletes here."""

from django.contrib import admin

from conversations.models import Message
from imatch.admin import ReadOnlyAdmin


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "match", "sender", "recipient", "created_at", "read_at"]
    list_filter = ["created_at"]
    search_fields = ["sender__email", "recipient__email", "=match__id"]
    list_select_related = ["match", "sender", "recipient"]
    readonly_fields = ["match", "sender", "recipient", "body", "created_at", "read_at"]
