"""Operators read notifications (what a person was told, and when) and the outbox's due tasks; nobody edits them."""

from django.contrib import admin

from imatch.admin import ReadOnlyAdmin
from notifications.models import Notification, OutboxTask


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "kind", "text", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["user__email"]
    list_select_related = ["user"]


@admin.register(OutboxTask)
class OutboxTaskAdmin(ReadOnlyAdmin):
    """Tasks written by committed actions and not yet sent to the broker: a long list means no worker with beat runs."""

    list_display = ["id", "task", "kwargs", "queued_at"]
    list_filter = ["task"]
