"""Conversations: the seeker and the provider of a match write to each other once an introduction was asked for.

A thread is the match itself (its id is the thread's id); a message has one sender and one
recipient, the other side, and is unread until the recipient opens the thread.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from marketplace.models import Match


class Message(models.Model):
    """A plain-text message from one side of a match to the other."""

    BODY_MAX = 2000

    # No index of its own: `message_thread_time` starts with the match (one index less per message).
    match = models.ForeignKey(Match, on_delete=models.PROTECT, related_name="messages", db_index=False)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(help_text="Plain text, at most 2,000 characters; shown escaped.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True, help_text="When the recipient opened the thread.")

    class Meta:
        db_table = "messages"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["match", "created_at", "id"], name="message_thread_time"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="message_recipient_unread"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(sender=F("recipient")), name="message_to_the_other_side"),
            models.CheckConstraint(condition=~Q(body=""), name="message_body_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Message #{self.pk} on match {self.match_id}"
