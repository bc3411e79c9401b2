from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from conversations.models import Message
from conversations.selectors import can_post
from marketplace.models import Match


class MessageSerializer(serializers.ModelSerializer):
    sender = serializers.IntegerField(source="sender_id", help_text="The user id of the sender.")
    sender_name = serializers.CharField(source="sender.name")

    class Meta:
        model = Message
        fields = ["id", "sender", "sender_name", "body", "created_at", "read_at"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A message",
            value={"body": "Hello! Could we talk about my retirement plan on Thursday afternoon?"},
            request_only=True,
        )
    ]
)
class MessagePostSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=Message.BODY_MAX, help_text="Plain text, at most 2,000 characters.")


class ThreadSerializer(serializers.ModelSerializer):
    """A conversation: the match it is on, who is on the other side, and what is unread.

    `contact` is the other side's email once the provider accepted, else null.
    """

    category = serializers.CharField(source="category.name")
    other_name = serializers.SerializerMethodField()
    contact = serializers.SerializerMethodField()
    unread = serializers.IntegerField(help_text="Messages to you that you have not read.")
    last_message_at = serializers.DateTimeField(allow_null=True)
    can_post = serializers.SerializerMethodField()

    class Meta:
        model = Match
        fields = ["id", "category", "status", "other_name", "contact", "unread", "last_message_at", "can_post"]
        read_only_fields = fields

    def _other(self, match: Match):
        viewer = self.context["request"].user
        return match.provider.user if viewer.pk == match.seeker.user_id else match.seeker.user

    def get_other_name(self, match: Match) -> str:
        return self._other(match).name

    def get_contact(self, match: Match) -> str | None:
        return self._other(match).email if match.contact_shared else None

    def get_can_post(self, match: Match) -> bool:
        return can_post(match)


class ThreadReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(help_text="How many messages to you were marked read.")
