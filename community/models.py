"""Community answers: public questions in a launched category, providers' answers, votes and reports.

Everything is plain text (stored as typed, shown escaped). An operator hides a question or an
answer with a reason; hidden ones leave the public pages but stay in the admin.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from categories.models import Category
from marketplace.models import Provider


class Question(models.Model):
    """A question someone asked in a category, and the answer they accepted (once, for good)."""

    TITLE_MAX = 150
    BODY_MAX = 4000

    # No index of their own: `question_category_newest` and `question_asker_newest` begin with them.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="questions", db_index=False)
    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="questions", db_index=False
    )
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(help_text="Plain text, at most 4,000 characters; shown escaped.")
    anonymous = models.BooleanField(default=False, help_text="Shown as “Anonymous” instead of the asker's name.")
    accepted_answer = models.OneToOneField(
        "community.Answer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    award = models.OneToOneField(
        "currency.PotTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The provider's `answer_accepted` award, when acceptance paid one.",
    )
    award_withheld = models.CharField(
        max_length=200, blank=True, help_text="Why accepting this answer paid no POT (a farming limit), if so."
    )
    answer_count = models.PositiveIntegerField(default=0, help_text="Visible answers, kept by the services.")
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "community_questions"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["category", "-created_at", "-id"], name="question_category_newest"),
            models.Index(fields=["asker", "-created_at"], name="question_asker_newest"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="question_title_not_empty"),
            models.CheckConstraint(condition=~Q(body=""), name="question_body_not_empty"),
            models.CheckConstraint(condition=Q(hidden=False) | ~Q(hidden_reason=""), name="question_hidden_has_reason"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def asker_display(self) -> str:
        return "Anonymous" if self.anonymous else self.asker.name


class Answer(models.Model):
    """A provider's answer to a question of their category."""

    BODY_MAX = 4000

    # No index of their own: `answer_one_per_provider` and `answer_provider_newest` begin with them.
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers", db_index=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="answers", db_index=False)
    body = models.TextField(help_text="Plain text, at most 4,000 characters; shown escaped.")
    vote_count = models.PositiveIntegerField(default=0, help_text="Up-votes, kept by the services.")
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "community_answers"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["provider", "-created_at"], name="answer_provider_newest")]
        constraints = [
            models.UniqueConstraint(fields=["question", "provider"], name="answer_one_per_provider"),
            models.CheckConstraint(condition=~Q(body=""), name="answer_body_not_empty"),
            models.CheckConstraint(condition=Q(hidden=False) | ~Q(hidden_reason=""), name="answer_hidden_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Answer #{self.pk} to question {self.question_id}"


class Vote(models.Model):
    """One person's up-vote of an answer (once each; never on their own answer)."""

    # No index of its own: `vote_once_per_person` begins with it (an index less to write with every vote).
    answer = models.ForeignKey(Answer, on_delete=models.PROTECT, related_name="votes", db_index=False)
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "community_votes"
        constraints = [models.UniqueConstraint(fields=["answer", "voter"], name="vote_once_per_person")]

    def __str__(self) -> str:
        return f"Vote of user {self.voter_id} on answer {self.answer_id}"


class ReportStatus(models.TextChoices):
    """Where a report stands."""

    OPEN = "open", "Open"
    """Waits for an operator."""
    HANDLED = "handled", "Handled"
    """An operator looked at it (and hid the item, or not)."""


class Report(models.Model):
    """Someone flags a question or an answer to the operators."""

    REASON_MAX = 500

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey(Question, null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    answer = models.ForeignKey(Answer, null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "community_reports"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="report_status_time")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(question__isnull=False) & Q(answer__isnull=True))
                | (Q(question__isnull=True) & Q(answer__isnull=False)),
                name="report_question_xor_answer",
            ),
            models.UniqueConstraint(
                fields=["reporter", "question"],
                condition=Q(status="open", question__isnull=False),
                name="report_open_once_per_question",
            ),
            models.UniqueConstraint(
                fields=["reporter", "answer"],
                condition=Q(status="open", answer__isnull=False),
                name="report_open_once_per_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"Report #{self.pk} ({self.status})"

    @property
    def item(self):
        return self.question if self.question_id else self.answer
