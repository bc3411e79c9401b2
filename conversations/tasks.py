"""The new-message email: sent a few minutes after the first unread message, only if it is still unread.

One email per unread streak, never one per message: the task is queued for the first message
the recipient has not read (`message_post`), with a countdown of MESSAGE_EMAIL_DELAY_MINUTES.
When it runs, a thread the recipient opened meanwhile sends nothing; otherwise one email says
how many messages wait. Without a broker (inline) there is no countdown: the email goes at once
for the first unread message, and the later ones of the streak still send none.
"""

from celery import shared_task
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from conversations.models import Message
from imatch.mail import send_email_on_commit, task_on_commit


@shared_task(name="conversations.unread_message_email", ignore_result=True)
def unread_message_email(*, message_id: int) -> None:
    """Email the recipient of this message if it is still unread, with the count of unread messages in its thread."""
    message = Message.objects.select_related("sender", "recipient", "match__category").filter(pk=message_id).first()
    if message is None or message.read_at is not None or not message.recipient.is_active:
        return
    unread = Message.objects.filter(match_id=message.match_id, recipient=message.recipient, read_at__isnull=True)
    count = unread.count()
    link = settings.SITE_URL.rstrip("/") + reverse("thread", args=[message.match_id])
    text = render_to_string(
        "conversations/emails/unread_messages.txt",
        {"message": message, "count": count, "link": link, "recipient": message.recipient},
    )
    subject, _, body = text.strip().partition("\n")
    send_email_on_commit(
        subject=subject.strip(),
        body=body.strip() + "\n",
        to=[message.recipient.email],
        about=f"unread_messages (user {message.recipient_id})",
    )


def unread_message_email_schedule(message: Message) -> None:
    """Queue the email for this first unread message once the transaction commits, to run after the delay."""
    task_on_commit(
        unread_message_email,
        kwargs={"message_id": message.pk},
        about="unread message email",
        countdown=settings.MESSAGE_EMAIL_DELAY_MINUTES * 60,
    )
