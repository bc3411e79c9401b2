"""In-app notifications: one row per event that concerns a person (every event that emails them).

The app knows users only: the marketplace and the POT ledger call `notifications.services.notify`
where their events happen, with the text and the page the person should open.

The outbox (`OutboxTask`, `notifications.outbox`) lives here too, beside what people are told: the
background tasks (an introduction's emails) that committed actions left to be sent to the broker.
It knows task names only; every app may write to it (all of them may import notifications).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class NotificationKind(models.TextChoices):
    """What happened; one kind per event that notifies."""

    NEW_MATCHES = "new_matches", "New matches"  # the engine found providers for a seeker
    INTRODUCTION = "introduction", "Introduction"  # a seeker asked for one (both sides)
    MATCH_ACCEPTED = "match_accepted", "Introduction accepted"  # the provider accepted: contacts shared
    MATCH_DECLINED = "match_declined", "Match declined"  # the other side declined
    MATCH_WITHDRAWN = "match_withdrawn", "Match withdrawn"  # the other side left I MATCH
    MATCH_EXPIRED = "match_expired", "Introduction expired"  # unanswered for 72 hours
    ENGAGEMENT_REPORTED = "engagement_reported", "Engagement reported"  # confirm it
    ENGAGEMENT_UNDER_REVIEW = "engagement_under_review", "Engagement under review"  # an operator checks the deal
    ENGAGEMENT_CONFIRMED = "engagement_confirmed", "Engagement confirmed"
    ENGAGEMENT_CANCEL_REQUESTED = "engagement_cancel_requested", "Cancellation requested"  # agree or dispute
    ENGAGEMENT_DISPUTED = "engagement_disputed", "Engagement disputed"  # an operator decides
    ENGAGEMENT_KEPT = "engagement_kept", "Engagement kept"  # an operator kept it after a dispute
    ENGAGEMENT_CANCELLED = "engagement_cancelled", "Engagement cancelled"
    RATING_RECEIVED = "rating_received", "Rating received"
    LICENSE_VERIFIED = "license_verified", "License verified"  # an operator verified it: listed
    PROVISIONAL_LAPSED = "provisional_lapsed", "License deadline passed"  # a Phase 1 advisor stops matching
    POT_EARNED = "pot_earned", "POT earned"
    REDEMPTION_REQUESTED = "redemption_requested", "Redemption requested"
    REDEMPTION_APPROVED = "redemption_approved", "Redemption approved"  # with the payout reference
    REDEMPTION_PAID = "redemption_paid", "Redemption paid"
    REDEMPTION_REJECTED = "redemption_rejected", "Redemption rejected"  # with the reason
    NEW_MESSAGE = "new_message", "New message"  # unread messages in a conversation
    NEW_ANSWER = "new_answer", "New answer"  # a provider answered the person's community question
    ANSWER_ACCEPTED = "answer_accepted", "Answer accepted"  # the asker accepted the provider's answer
    PRO_EXPIRING = "pro_expiring", "Pro ends soon"  # renew explicitly; nothing is charged automatically
    ARTICLE_PUBLISHED = "article_published", "Article published"  # an operator published the author's article
    ARTICLE_REJECTED = "article_rejected", "Article sent back"  # with the operator's reason: edit and resubmit


class Notification(models.Model):
    """Something that happened to the person, with the page to open; unread until they read it."""

    TEXT_MAX = 300

    # No index of its own: `notification_user_newest` starts with the user (one index less per notification).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    text = models.CharField(max_length=TEXT_MAX)
    link = models.CharField(max_length=300, blank=True, help_text="A path on the site, e.g. /leads/.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "notifications"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_newest"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_user_unread"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(link="") | Q(link__startswith="/"), name="notification_link_is_a_path")
        ]

    def __str__(self) -> str:
        return f"Notification #{self.pk} to {self.user_id}: {self.kind}"


class OutboxTask(models.Model):
    """A background task due to be sent to the broker: written in the transaction of the action that
    asks for it, sent by `notifications.outbox.outbox_flush` once that transaction has committed."""

    TASK_MAX = 200

    task = models.CharField(max_length=TASK_MAX, help_text="The Celery task's name (marketplace.introduction_emails).")
    kwargs = models.JSONField(default=dict, help_text="The task's keyword arguments.")
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "task_outbox"
        ordering = ["id"]  # the order the flush sends them in
        verbose_name = "task in the outbox"
        verbose_name_plural = "tasks in the outbox"

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
