from rest_framework import serializers

from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    """A notification: what happened (`kind`, `text`), the page it is about (`link`, a path), read or not."""

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "link", "created_at", "read_at"]
        read_only_fields = fields


class ReadAllSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(help_text="How many unread notifications were marked read.")
