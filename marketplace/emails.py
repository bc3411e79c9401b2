"""Emails of the core loop, sent by a background task queued once the transaction commits.

Each message is rendered when the service runs (from the objects it holds) and handed to
`imatch.mail.send_email_on_commit`, so a refused or rolled-back action never sends anything
and a slow mail server never slows a request (without a broker the task runs inline).
The introduction, the hottest write, queues one task instead that renders its two emails in the
worker (`introduction_emails`), through the outbox (`notifications.outbox`): a row written in the
introduction's transaction, which the worker's beat sends to the broker within ~2 s (at least
once); without a broker it runs inline once the transaction commits.

Every email about an event is also an in-app notification (`NOTIFIED`: the template → the
kind), written in the same transaction with the email's subject as its text and the page the
email links to: one call here, so no event can email without notifying. Account emails (the
verification link, the Phase 1 invitation) are not events and notify nobody.
"""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from imatch.links import page_path
from imatch.mail import send_email_on_commit
from marketplace.models import Engagement, Match, Provider, Rating, Seeker, User
from notifications.models import NotificationKind
from notifications.outbox import outbox_queue
from notifications.services import Notice, notify, notify_many

Kind = NotificationKind
# Not here: `match_accepted_provider` (the provider's own action; it carries the seeker's email)
# and `engagement_bonus_paid` (the POT award itself notifies, `pot_earned`, once per award).
NOTIFIED: dict[str, NotificationKind] = {
    "introduction_seeker": Kind.INTRODUCTION,
    "introduction_provider": Kind.INTRODUCTION,
    "match_accepted": Kind.MATCH_ACCEPTED,
    "match_declined": Kind.MATCH_DECLINED,
    "match_withdrawn": Kind.MATCH_WITHDRAWN,
    "match_expired": Kind.MATCH_EXPIRED,
    "match_expired_provider": Kind.MATCH_EXPIRED,
    "engagement_reported": Kind.ENGAGEMENT_REPORTED,
    "engagement_under_review": Kind.ENGAGEMENT_UNDER_REVIEW,
    "engagement_confirmed": Kind.ENGAGEMENT_CONFIRMED,
    "engagement_cancel_requested": Kind.ENGAGEMENT_CANCEL_REQUESTED,
    "engagement_disputed": Kind.ENGAGEMENT_DISPUTED,
    "engagement_kept": Kind.ENGAGEMENT_KEPT,
    "engagement_cancelled": Kind.ENGAGEMENT_CANCELLED,
    "rating_received": Kind.RATING_RECEIVED,
    "license_verified": Kind.LICENSE_VERIFIED,
    "provisional_lapsed": Kind.PROVISIONAL_LAPSED,
    "pro_expiring": Kind.PRO_EXPIRING,
    "article_published": Kind.ARTICLE_PUBLISHED,
    "article_rejected": Kind.ARTICLE_REJECTED,
}
SUBJECT_PREFIX = "I MATCH: "


def site_url(name: str, *args) -> str:
    """The public address of a page (SITE_URL), for links in emails."""
    return settings.SITE_URL.rstrip("/") + page_path(name, *args)


def _page(link: str) -> str:
    """The path of a link on our site (for the notification), or "" for none."""
    base = settings.SITE_URL.rstrip("/")
    return link[len(base) :] if link.startswith(base + "/") else ""


def _rendered(template: str, to: User, context: dict) -> tuple[str, str]:
    text = render_to_string(f"marketplace/emails/{template}.txt", {"recipient": to, **context})
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def send_on_commit(*, template: str, to: User, context: dict) -> None:
    """Render `marketplace/emails/<template>.txt` (first line: subject) now; send it after commit.

    An event's email also notifies the person in the app, now, with the page the email links to.
    """
    subject, body = _rendered(template, to, context)
    send_email_on_commit(subject=subject, body=body, to=[to.email], about=f"{template} (user {to.pk})")
    kind = NOTIFIED.get(template)
    if kind is not None:
        text = subject.removeprefix(SUBJECT_PREFIX)
        notify(user=to, kind=kind, text=text[:1].upper() + text[1:], link=_page(context.get("link", "")))


def new_matches(seeker: Seeker, *, count: int) -> None:
    """The engine found providers for a seeker: an in-app notification only (a match run is not worth an email)."""
    noun = "a new match" if count == 1 else f"{count} new matches"
    notify(
        user=seeker.user,
        kind=Kind.NEW_MATCHES,
        text=f"You have {noun} in {seeker.category.display_name}.",
        link=page_path("matches"),
    )


# What an introduction's notifications say, to the seeker and to the provider (what the emails'
# subjects say; a test holds them to it). The one-statement introduction on PostgreSQL
# (`marketplace.services.matches`) writes its notifications from these too.
INTRODUCTION_TO_SEEKER = "You asked to meet {business_name}"
INTRODUCTION_TO_PROVIDER = "A new lead in {category}"


def introduction_links(match_id: int) -> tuple[str, str]:
    """The pages an introduction's notifications open: the seeker's thread, the provider's leads."""
    return page_path("thread", match_id), page_path("leads")


def introduction(match: Match) -> None:
    """Both sides learn why they were matched and where to talk; emails are shared only once the provider accepts.

    Each side is notified now; one task renders and sends both emails (`introduction_emails`),
    queued through the outbox in the same transaction: a request pays for one row and no template.
    """
    to_seeker, to_provider = introduction_links(match.pk)
    # Both notifications in one insert.
    notify_many(
        Notice(
            user=match.seeker.user,
            kind=Kind.INTRODUCTION,
            text=INTRODUCTION_TO_SEEKER.format(business_name=match.provider.business_name),
            link=to_seeker,
        ),
        Notice(
            user=match.provider.user,
            kind=Kind.INTRODUCTION,
            text=INTRODUCTION_TO_PROVIDER.format(category=match.category.display_name),
            link=to_provider,
        ),
    )
    introduction_emails_queue(match.pk)


def introduction_emails_queue(match_id: int) -> None:
    """Queue `introduction_emails` through the outbox, in the caller's transaction (a rollback takes it back).

    The one-statement introduction (`marketplace.services.matches`) writes the same row in its statement.
    """
    outbox_queue(task=introduction_emails, kwargs={"match_id": match_id})


@shared_task(name="marketplace.introduction_emails", ignore_result=True)
def introduction_emails(*, match_id: int) -> None:
    """Render the introduction's two emails from the match as stored and queue each (`imatch.mail.send_email`).

    Sent through the outbox, at least once: in the rare run after a refused publish or a lost
    commit, both emails go out a second time.
    """
    match = Match.objects.select_related("category", "seeker__user", "provider__user").filter(pk=match_id).first()
    if match is None:  # deleted before the worker ran: nobody to tell
        return
    seeker, provider = match.seeker, match.provider
    context = {"match": match, "seeker": seeker, "provider": provider, "thread": site_url("thread", match.pk)}
    for template, to, link in (
        ("introduction_seeker", seeker.user, site_url("thread", match.pk)),
        ("introduction_provider", provider.user, site_url("leads")),
    ):
        subject, body = _rendered(template, to, {**context, "link": link})
        send_email_on_commit(subject=subject, body=body, to=[to.email], about=f"{template} (user {to.pk})")


def match_accepted(match: Match) -> None:
    """The provider accepted: each side gets the other's email (shared only from now on)."""
    context = {"match": match, "thread": site_url("thread", match.pk)}
    send_on_commit(template="match_accepted", to=match.seeker.user, context={**context, "link": site_url("matches")})
    send_on_commit(
        template="match_accepted_provider", to=match.provider.user, context={**context, "link": site_url("leads")}
    )


def _page_of_side(match: Match, person: User) -> str:
    """Where a side of a match follows it: the seeker's matches or the provider's leads."""
    return site_url("matches") if person.pk == match.seeker.user_id else site_url("leads")


def match_declined(match: Match, *, by: User) -> None:
    """The other side learns of a decline once they knew of the match (after the introduction)."""
    other = match.provider.user if by.pk == match.seeker.user_id else match.seeker.user
    send_on_commit(
        template="match_declined", to=other, context={"match": match, "by": by, "link": _page_of_side(match, other)}
    )


def match_withdrawn(match: Match, *, departed: User) -> None:
    """The other side of an introduction learns that the person left (their account was deactivated)."""
    other = match.provider.user if departed.pk == match.seeker.user_id else match.seeker.user
    context = {"match": match, "departed": departed, "link": _page_of_side(match, other)}
    send_on_commit(template="match_withdrawn", to=other, context=context)


def match_expired(match: Match) -> None:
    send_on_commit(
        template="match_expired", to=match.seeker.user, context={"match": match, "link": site_url("matches")}
    )
    send_on_commit(
        template="match_expired_provider", to=match.provider.user, context={"match": match, "link": site_url("leads")}
    )


def engagement_reported(engagement: Engagement) -> None:
    """The side that did not report is asked to confirm."""
    reporter = engagement.reported_by
    other = engagement.provider.user if reporter.pk == engagement.seeker.user_id else engagement.seeker.user
    send_on_commit(
        template="engagement_reported",
        to=other,
        context={"engagement": engagement, "reporter": reporter, "link": site_url("engagements")},
    )


def engagement_confirmed(engagement: Engagement) -> None:
    _both_sides(engagement, template="engagement_confirmed")


def engagement_cancelled(engagement: Engagement, *, by: User) -> None:
    for person in (engagement.seeker.user, engagement.provider.user):
        if person.pk != by.pk:
            context = {"engagement": engagement, "by": by, "link": site_url("engagements")}
            send_on_commit(template="engagement_cancelled", to=person, context=context)


def _both_sides(engagement: Engagement, *, template: str, **context) -> None:
    for person in (engagement.seeker.user, engagement.provider.user):
        send_on_commit(
            template=template,
            to=person,
            context={
                "engagement": engagement,
                "is_provider": person.pk == engagement.provider.user_id,
                "link": site_url("engagements"),
                **context,
            },
        )


def engagement_under_review(engagement: Engagement) -> None:
    """Both sides learn that an operator reviews the deal before the confirmation counts."""
    _both_sides(engagement, template="engagement_under_review")


def engagement_cancel_requested(engagement: Engagement) -> None:
    """The other side is asked to agree to the cancellation, or dispute it."""
    requester = engagement.cancel_requested_by
    other = engagement.provider.user if requester.pk == engagement.seeker.user_id else engagement.seeker.user
    send_on_commit(
        template="engagement_cancel_requested",
        to=other,
        context={"engagement": engagement, "requester": requester, "link": site_url("engagements")},
    )


def engagement_disputed(engagement: Engagement) -> None:
    _both_sides(engagement, template="engagement_disputed")


def engagement_kept(engagement: Engagement, *, note: str) -> None:
    _both_sides(engagement, template="engagement_kept", note=note)


def engagement_bonus_paid(engagement: Engagement) -> None:
    _both_sides(engagement, template="engagement_bonus_paid", link=site_url("wallet"))


def rating_received(rating: Rating) -> None:
    send_on_commit(
        template="rating_received", to=rating.rated, context={"rating": rating, "link": site_url("dashboard")}
    )


def license_verified(provider: Provider) -> None:
    """An operator verified the provider's license: they are listed and matched from now on."""
    send_on_commit(
        template="license_verified",
        to=provider.user,
        context={"provider": provider, "link": site_url("provider-detail", provider.pk)},
    )


def email_verification(user: User, *, token: str) -> None:
    """The link that verifies the person's email address (sent at sign-up and on request)."""
    send_on_commit(
        template="verify_email",
        to=user,
        context={
            "link": site_url("verify-email", token),
            "days": settings.EMAIL_VERIFICATION_MAX_AGE_DAYS,
            "dashboard": site_url("dashboard"),
        },
    )


def invitation(user: User, *, link: str, days: int, next_step, connection=None) -> None:
    """ "Your I MATCH account is ready": the set-a-password link and what to do first (Phase 1 people).

    With a broker it is queued on commit like every email (the worker retries). Without one
    it is sent now, on `connection` when given (one SMTP session for a batch), and a mail
    server's error is raised: `invite_v1` reports it and the person stays uninvited.
    """
    subject, body = _rendered("invitation", user, {"link": link, "days": days, "next_step": next_step})
    if settings.CELERY_TASK_ALWAYS_EAGER:
        EmailMessage(subject=subject, body=body, to=[user.email], connection=connection).send()
    else:
        send_email_on_commit(subject=subject, body=body, to=[user.email], about=f"invitation (user {user.pk})")


def provisional_lapsed(provider: Provider) -> None:
    """A Phase 1 advisor's license deadline passed unverified: why they are no longer matched, and how to come back."""
    send_on_commit(
        template="provisional_lapsed",
        to=provider.user,
        context={"provider": provider, "link": site_url("provider-edit", provider.pk)},
    )


def pro_expiring(user: User, *, ends_at) -> None:
    """A provider's Pro ends in a few days: how to renew (nothing is charged automatically)."""
    send_on_commit(template="pro_expiring", to=user, context={"ends_at": ends_at, "link": site_url("pro")})


def article_published(author: User, *, title: str, article_id: int) -> None:
    """An operator published the author's article: where readers find it."""
    send_on_commit(
        template="article_published", to=author, context={"title": title, "link": site_url("article", article_id)}
    )


def article_rejected(author: User, *, title: str, reason: str, article_id: int) -> None:
    """An operator sent the author's article back: the reason, and the page to edit and resubmit it."""
    send_on_commit(
        template="article_rejected",
        to=author,
        context={"title": title, "reason": reason, "link": site_url("article-edit", article_id)},
    )
