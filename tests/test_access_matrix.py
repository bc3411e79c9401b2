"""Who reaches what: every API endpoint and web page, for five people: the expected status.

The rows are keyed by the URL pattern, read from the URL configuration itself: a new URL
without a row here fails `test_every_url_has_a_row`, so no endpoint ships without someone
deciding who may reach it. Each case builds one world (two people who know each other in
five categories, at every step of the loop) and sends each role's request inside a savepoint
that is rolled back, so a write by one role cannot change what the next sees.

Roles: `anon` (not logged in), `seeker` and `provider` (the two sides of every object in
the world), `stranger` (logged in, part of nothing) and `staff` (an operator).
"""

from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from community import services as community_services
from currency import services as pot_services
from marketplace.candidates import clear_pool_cache
from marketplace.models import Engagement, Match, Provider, Rating, Seeker
from marketplace.services import engagements, matches, ratings
from tests.conftest import client_for
from tests.currency.factories import pot_fund
from tests.library.factories import ArticleFactory, PublishedArticleFactory
from tests.marketplace.factories import UserFactory
from tests.marketplace.loop import make_category, make_provider, make_seeker

ROLES = ("anon", "seeker", "provider", "stranger", "staff")


@dataclass
class World:
    """The seeker and the provider, matched in five categories, one per step of the loop."""

    seeker: Seeker  # the seeker profile of the first category
    provider: Provider
    suggested: Match  # can be introduced
    introduced: Match  # can be accepted or declined
    accepted: Match  # an engagement can be reported
    reported: Engagement  # the seeker reported it: the provider confirms
    confirmed: Engagement  # can be completed; the seeker rated it
    rating: Rating
    cancel_requested: Engagement  # the seeker asked to cancel after confirmation: the provider agrees or disputes
    redemption_id: int  # the seeker's, pending
    notification_id: int  # the seeker's newest
    people: dict
    question_id: int = 0  # the seeker asked it in the first category
    answer_id: int = 0  # the provider answered it
    article_id: int = 0  # the provider's published premium article (the seeker can unlock it)
    draft_id: int = 0  # the provider's draft article


def _world() -> World:
    seeker_user, provider_user = UserFactory(verified=True), UserFactory(verified=True)
    steps = []
    for number in range(6):
        category = make_category(name=f"planners{number}", display_name=f"Planners {number}")
        seeker = make_seeker(category, user=seeker_user)
        provider = make_provider(category, user=provider_user)
        [match] = matches.match_run_for_seeker(seeker=seeker)
        steps.append((seeker, provider, match))
    (seeker, provider, suggested), (_, _, introduced), (_, _, accepted), (_, _, reported), (_, _, confirmed) = steps[:5]
    to_cancel = steps[5][2]
    for match in (introduced, accepted, reported, confirmed, to_cancel):
        matches.match_introduce(match=match, user=seeker_user)
    for match in (accepted, reported, confirmed, to_cancel):
        matches.match_accept(match=match, user=provider_user)
    reported_engagement = engagements.engagement_report(match=reported, user=seeker_user, deal_value_usd="1000.00")
    confirmed_engagement = engagements.engagement_report(match=confirmed, user=seeker_user, deal_value_usd="800.00")
    confirmed_engagement = engagements.engagement_confirm(engagement=confirmed_engagement, user=provider_user)
    rating = ratings.rating_create(engagement=confirmed_engagement, user=seeker_user, stars=5, review="Great")
    cancel_requested = engagements.engagement_report(match=to_cancel, user=seeker_user, deal_value_usd="700.00")
    cancel_requested = engagements.engagement_confirm(engagement=cancel_requested, user=provider_user)
    cancel_requested = engagements.engagement_cancel(engagement=cancel_requested, user=seeker_user, reason="Moved")
    question = community_services.question_ask(user=seeker_user, category=seeker.category, title="Fees?", body="How?")
    answer = community_services.answer_post(user=provider_user, question_id=question.pk, body="Hourly.")
    pot_fund(seeker_user, 1000)
    redemption = pot_services.redemption_request(user=seeker_user, pot_amount=500, payment_method="PayPal s@x.com")
    article = PublishedArticleFactory(author=provider, premium=True, price_pot=20)
    draft = ArticleFactory(author=provider)
    return World(
        article_id=article.pk,
        draft_id=draft.pk,
        seeker=seeker,
        provider=provider,
        suggested=suggested,
        introduced=introduced,
        accepted=accepted,
        reported=reported_engagement,
        confirmed=confirmed_engagement,
        rating=rating,
        cancel_requested=cancel_requested,
        redemption_id=redemption.redemption.pk,
        notification_id=seeker_user.notifications.latest("id").pk,
        question_id=question.pk,
        answer_id=answer.pk,
        people={
            "anon": None,
            "seeker": seeker_user,
            "provider": provider_user,
            "stranger": UserFactory(),
            "staff": UserFactory(is_staff=True),
        },
    )


@dataclass(frozen=True)
class Case:
    """One request and what each role gets: statuses in the order of ROLES."""

    method: str
    path: str  # formatted with the world: {seeker}, {provider}, {suggested}, …
    statuses: tuple[int, int, int, int, int]
    body: dict | None = None


def case(method: str, path: str, anon: int, seeker: int, provider: int, stranger: int, staff: int, **body) -> Case:
    return Case(method, path, (anon, seeker, provider, stranger, staff), body or None)


# Web pages answer an anonymous visitor with the login redirect (302); someone else's object is 404.
LOGIN = 302
ROWS: dict[str, list[Case]] = {
    # --- Project --------------------------------------------------------------------------
    "health": [case("get", "/health", 200, 200, 200, 200, 200)],
    # --- API: accounts ---------------------------------------------------------------------
    "api/v1/auth/register/": [case("post", "/api/v1/auth/register/", 400, 400, 400, 400, 400)],
    "api/v1/auth/token/": [case("post", "/api/v1/auth/token/", 400, 400, 400, 400, 400)],
    "api/v1/auth/logout/": [case("post", "/api/v1/auth/logout/", 401, 204, 204, 204, 204)],
    "api/v1/auth/verify-email/": [
        case("post", "/api/v1/auth/verify-email/", 400, 400, 400, 400, 400, token="not-a-token")
    ],
    # The seeker and the provider are verified (400 already_verified); the others get a new link.
    "api/v1/me/verify-email/resend/": [case("post", "/api/v1/me/verify-email/resend/", 401, 400, 400, 202, 202)],
    "api/v1/me/": [
        case("get", "/api/v1/me/", 401, 200, 200, 200, 200),
        case("patch", "/api/v1/me/", 401, 200, 200, 200, 200, time_zone="Europe/Paris"),
        case("patch", "/api/v1/me/", 401, 400, 400, 400, 400, time_zone="Mars/Olympus"),
        case("patch", "/api/v1/me/", 401, 200, 200, 200, 200, leaderboard_name_shown=True),
    ],
    # Only one's own photo: no id in the path; no file is a 400 for everyone logged in.
    "api/v1/me/photo/": [
        case("post", "/api/v1/me/photo/", 401, 400, 400, 400, 400),
        case("delete", "/api/v1/me/photo/", 401, 204, 204, 204, 204),
    ],
    # --- API: profiles ---------------------------------------------------------------------
    "api/v1/^seekers/$": [
        case("get", "/api/v1/seekers/", 401, 200, 200, 200, 200),
        case("post", "/api/v1/seekers/", 401, 400, 400, 400, 400),
    ],
    "api/v1/^seekers/(?P<pk>[0-9]{1,18})/$": [
        case("get", "/api/v1/seekers/{seeker}/", 401, 200, 404, 404, 200),
        case("patch", "/api/v1/seekers/{seeker}/", 401, 200, 404, 404, 200, needs_description="Retire at 55"),
    ],
    "api/v1/seekers/<id:seeker_id>/match/": [case("post", "/api/v1/seekers/{seeker}/match/", 401, 200, 404, 404, 200)],
    "api/v1/^providers/$": [
        case("get", "/api/v1/providers/", 200, 200, 200, 200, 200),
        case("post", "/api/v1/providers/", 401, 400, 400, 400, 400),
    ],
    "api/v1/^providers/(?P<pk>[0-9]{1,18})/$": [
        case("get", "/api/v1/providers/{provider}/", 200, 200, 200, 200, 200),
        case("patch", "/api/v1/providers/{provider}/", 401, 404, 200, 404, 200, bio="Now also estate planning."),
    ],
    # Staff verify a license (this provider gave no license number: a 400 means access passed) or withdraw it.
    "api/v1/^providers/(?P<pk>[0-9]{1,18})/verify-license/$": [
        case("post", "/api/v1/providers/{provider}/verify-license/", 401, 403, 403, 403, 400)
    ],
    "api/v1/^providers/(?P<pk>[0-9]{1,18})/unverify-license/$": [
        case("post", "/api/v1/providers/{provider}/unverify-license/", 401, 403, 403, 403, 200)
    ],
    # --- API: the core loop ----------------------------------------------------------------
    "api/v1/^matches/$": [case("get", "/api/v1/matches/", 401, 200, 200, 200, 200)],
    "api/v1/^matches/(?P<pk>[0-9]{1,18})/$": [
        case("get", "/api/v1/matches/{introduced}/", 401, 200, 200, 404, 200),
        # A suggested match is the seeker's private shortlist: the provider does not see it yet.
        case("get", "/api/v1/matches/{suggested}/", 401, 200, 404, 404, 200),
    ],
    "api/v1/^matches/(?P<pk>[0-9]{1,18})/introduce/$": [
        case("post", "/api/v1/matches/{suggested}/introduce/", 401, 200, 404, 404, 403)
    ],
    "api/v1/^matches/(?P<pk>[0-9]{1,18})/accept/$": [
        case("post", "/api/v1/matches/{introduced}/accept/", 401, 403, 200, 404, 403)
    ],
    "api/v1/^matches/(?P<pk>[0-9]{1,18})/decline/$": [
        case("post", "/api/v1/matches/{introduced}/decline/", 401, 200, 200, 404, 403)
    ],
    "api/v1/^matches/(?P<pk>[0-9]{1,18})/engagement/$": [
        case("post", "/api/v1/matches/{accepted}/engagement/", 401, 201, 201, 404, 403, deal_value_usd="500.00")
    ],
    "api/v1/^engagements/$": [case("get", "/api/v1/engagements/", 401, 200, 200, 200, 200)],
    "api/v1/^engagements/(?P<pk>[0-9]{1,18})/$": [
        case("get", "/api/v1/engagements/{reported}/", 401, 200, 200, 404, 200)
    ],
    "api/v1/^engagements/(?P<pk>[0-9]{1,18})/confirm/$": [
        case("post", "/api/v1/engagements/{reported}/confirm/", 401, 403, 200, 404, 200)
    ],
    "api/v1/^engagements/(?P<pk>[0-9]{1,18})/complete/$": [
        case("post", "/api/v1/engagements/{confirmed}/complete/", 401, 200, 200, 404, 200)
    ],
    "api/v1/^engagements/(?P<pk>[0-9]{1,18})/cancel/$": [
        case("post", "/api/v1/engagements/{reported}/cancel/", 401, 200, 200, 404, 200, reason="Changed plans")
    ],
    "api/v1/^ratings/$": [
        case("get", "/api/v1/ratings/", 401, 200, 200, 200, 200),
        # The seeker rated already (409 would be a conflict; it is a 400 already_rated); the provider may rate once.
        case("post", "/api/v1/ratings/", 401, 400, 201, 404, 403, engagement="{confirmed}", stars=4),
    ],
    # Everyone lists the people they referred (staff: everyone's; scoping in tests/api/test_referrals_api.py).
    "api/v1/^referrals/$": [case("get", "/api/v1/referrals/", 401, 200, 200, 200, 200)],
    "api/v1/^ratings/(?P<pk>[0-9]{1,18})/$": [case("get", "/api/v1/ratings/{rating}/", 401, 200, 200, 404, 200)],
    # --- API: categories -------------------------------------------------------------------
    "api/v1/^categories/$": [case("get", "/api/v1/categories/", 200, 200, 200, 200, 200)],
    "api/v1/^categories/(?P<name>[-a-zA-Z0-9_]+)/$": [
        case("get", "/api/v1/categories/planners0/", 200, 200, 200, 200, 200)
    ],
    "api/v1/^categories/(?P<name>[-a-zA-Z0-9_]+)/activate/$": [
        case("post", "/api/v1/categories/planners0/activate/", 401, 403, 403, 403, 200)
    ],
    "api/v1/^categories/(?P<name>[-a-zA-Z0-9_]+)/deactivate/$": [
        case("post", "/api/v1/categories/planners0/deactivate/", 401, 403, 403, 403, 200)
    ],
    # --- API: POT --------------------------------------------------------------------------
    "api/v1/pot/balance/": [
        case("get", "/api/v1/pot/balance/", 401, 200, 200, 200, 200),
        case("get", "/api/v1/pot/balance/?user={seeker_user}", 401, 200, 403, 403, 200),
    ],
    "api/v1/pot/transactions/": [
        case("get", "/api/v1/pot/transactions/", 401, 200, 200, 200, 200),
        case("get", "/api/v1/pot/transactions/?user={seeker_user}", 401, 200, 403, 403, 200),
    ],
    "api/v1/pot/rates/": [case("get", "/api/v1/pot/rates/", 200, 200, 200, 200, 200)],
    "api/v1/pot/pro/": [case("get", "/api/v1/pot/pro/", 401, 200, 200, 200, 200)],
    "api/v1/pot/pro/purchase/": [case("post", "/api/v1/pot/pro/purchase/", 401, 400, 400, 400, 400)],
    "api/v1/pot/streak/": [case("get", "/api/v1/pot/streak/", 401, 200, 200, 200, 200)],
    "api/v1/pot/spend/": [case("post", "/api/v1/pot/spend/", 401, 201, 400, 400, 400, option="extra_matches")],
    "api/v1/pot/redeem/": [
        case("post", "/api/v1/pot/redeem/", 401, 400, 400, 400, 400, pot_amount=1, payment_method="PayPal")
    ],
    "api/v1/^pot/redemptions/$": [case("get", "/api/v1/pot/redemptions/", 401, 200, 200, 200, 200)],
    "api/v1/^pot/redemptions/(?P<pk>[0-9]{1,18})/$": [
        case("get", "/api/v1/pot/redemptions/{redemption}/", 401, 200, 404, 404, 200)
    ],
    "api/v1/^pot/redemptions/(?P<pk>[0-9]{1,18})/approve/$": [
        case("post", "/api/v1/pot/redemptions/{redemption}/approve/", 401, 403, 403, 403, 200, payout_reference="PP")
    ],
    "api/v1/^pot/redemptions/(?P<pk>[0-9]{1,18})/reject/$": [
        case("post", "/api/v1/pot/redemptions/{redemption}/reject/", 401, 403, 403, 403, 200, reason="No")
    ],
    # An approved redemption is marked paid; this one is pending (409 not_approved: access passed).
    "api/v1/^pot/redemptions/(?P<pk>[0-9]{1,18})/paid/$": [
        case("post", "/api/v1/pot/redemptions/{redemption}/paid/", 401, 403, 403, 403, 409)
    ],
    # --- API: the content library --------------------------------------------------------------
    "api/v1/^content/$": [
        case("get", "/api/v1/content/", 200, 200, 200, 200, 200),
        case("post", "/api/v1/content/", 401, 400, 400, 400, 400),
    ],
    "api/v1/^content/(?P<pk>[0-9]{1,18})/$": [
        case("get", "/api/v1/content/{article}/", 200, 200, 200, 200, 200),
        case("get", "/api/v1/content/{draft}/", 404, 404, 200, 404, 200),
        case("patch", "/api/v1/content/{draft}/", 401, 404, 200, 404, 404, title="New title"),
    ],
    "api/v1/^content/(?P<pk>[0-9]{1,18})/submit/$": [
        case("post", "/api/v1/content/{draft}/submit/", 401, 404, 200, 404, 404)
    ],
    # Without an Idempotency-Key: 400 for everyone logged in (the key is checked first).
    "api/v1/^content/(?P<pk>[0-9]{1,18})/unlock/$": [
        case("post", "/api/v1/content/{article}/unlock/", 401, 400, 400, 400, 400)
    ],
    # --- API: notifications and conversations (only one's own; staff too get 404) ---------------
    "api/v1/^notifications/$": [case("get", "/api/v1/notifications/", 401, 200, 200, 200, 200)],
    "api/v1/^notifications/(?P<pk>[0-9]{1,18})/read/$": [
        case("post", "/api/v1/notifications/{notification}/read/", 401, 200, 404, 404, 404)
    ],
    "api/v1/^notifications/read-all/$": [case("post", "/api/v1/notifications/read-all/", 401, 200, 200, 200, 200)],
    "api/v1/^threads/$": [case("get", "/api/v1/threads/", 401, 200, 200, 200, 200)],
    "api/v1/^threads/(?P<pk>[0-9]{1,18})/$": [
        case("get", "/api/v1/threads/{introduced}/", 401, 200, 200, 404, 404),
        # A suggested match has no thread yet (the provider does not know of it).
        case("get", "/api/v1/threads/{suggested}/", 401, 404, 404, 404, 404),
    ],
    "api/v1/^threads/(?P<pk>[0-9]{1,18})/messages/$": [
        case("get", "/api/v1/threads/{introduced}/messages/", 401, 200, 200, 404, 404),
        case("post", "/api/v1/threads/{introduced}/messages/", 401, 201, 201, 404, 404, body="Hello"),
    ],
    "api/v1/^threads/(?P<pk>[0-9]{1,18})/read/$": [
        case("post", "/api/v1/threads/{introduced}/read/", 401, 200, 200, 404, 404)
    ],
    "api/v1/pot/economy/": [case("get", "/api/v1/pot/economy/", 401, 403, 403, 403, 200)],
    "api/v1/operations/weekly-report/": [
        case("get", "/api/v1/operations/weekly-report/", 401, 403, 403, 403, 200),
        case("get", "/api/v1/operations/weekly-report/?weeks=99", 401, 403, 403, 403, 400),
    ],
    "api/v1/pot/adjustments/": [
        case("post", "/api/v1/pot/adjustments/", 401, 403, 403, 403, 201, user="{seeker_user}", amount=5, reason="Fix")
    ],
    # Staff deactivate and reactivate accounts (reactivating an active one is a 400: access passed).
    "api/v1/^users/(?P<pk>[0-9]{1,18})/deactivate/$": [
        case("post", "/api/v1/users/{provider_user}/deactivate/", 401, 403, 403, 403, 200, reason="Spam reports")
    ],
    "api/v1/^users/(?P<pk>[0-9]{1,18})/reactivate/$": [
        case("post", "/api/v1/users/{provider_user}/reactivate/", 401, 403, 403, 403, 400, reason="Resolved")
    ],
    "api/v1/": [case("get", "/api/v1/", 200, 200, 200, 200, 200)],
    "api/v1/redoc/": [case("get", "/api/v1/redoc/", 200, 200, 200, 200, 200)],
    "api/v1/schema/": [case("get", "/api/v1/schema/", 200, 200, 200, 200, 200)],
    "api/v1/docs/": [case("get", "/api/v1/docs/", 200, 200, 200, 200, 200)],
    # --- Web: public pages and accounts ------------------------------------------------------
    "": [case("get", "/", 200, 200, 200, 200, 200)],
    "categories/<slug:name>/": [case("get", "/categories/planners0/", 200, 200, 200, 200, 200)],
    "providers/<id:provider_id>/": [case("get", "/providers/{provider}/", 200, 200, 200, 200, 200)],
    "signup/": [case("get", "/signup/", 200, 302, 302, 302, 302)],
    # A referral link: on to sign-up, or (logged in) to the dashboard saying why the code does not apply.
    "join/": [case("get", "/join/?ref=ABCDEFGH", 302, 302, 302, 302, 302)],
    "login/": [case("get", "/login/", 200, 302, 302, 302, 302)],  # logged in: on to the dashboard
    "logout/": [case("post", "/logout/", 302, 302, 302, 302, 302)],
    "password-reset/": [case("get", "/password-reset/", 200, 200, 200, 200, 200)],
    "password-reset/sent/": [case("get", "/password-reset/sent/", 200, 200, 200, 200, 200)],
    "password-reset/<uidb64>/<token>/": [case("get", "/password-reset/MQ/not-a-token/", 200, 200, 200, 200, 200)],
    "password-reset/done/": [case("get", "/password-reset/done/", 200, 200, 200, 200, 200)],
    "welcome/<uidb64>/<token>/": [case("get", "/welcome/MQ/not-a-token/", 200, 200, 200, 200, 200)],
    "badges/": [case("get", "/badges/", 200, 200, 200, 200, 200)],
    # Leaderboards are public (names only of those who opted in); a bad month is a 400 for everyone.
    "leaderboards/": [
        case("get", "/leaderboards/?category=planners0", 200, 200, 200, 200, 200),
        case("get", "/leaderboards/?category=planners0&month=2026-13", 400, 400, 400, 400, 400),
    ],
    "api/v1/leaderboards/": [
        case("get", "/api/v1/leaderboards/?category=planners0", 200, 200, 200, 200, 200),
        case("get", "/api/v1/leaderboards/?category=nothing", 400, 400, 400, 400, 400),
    ],
    # --- Web: profiles -----------------------------------------------------------------------
    "verify-email/<str:token>/": [case("get", "/verify-email/not-a-token/", 400, 400, 400, 400, 400)],
    "verify-email/resend/": [case("post", "/verify-email/resend/", LOGIN, 302, 302, 302, 302)],
    "dashboard/": [case("get", "/dashboard/", LOGIN, 200, 200, 200, 200)],
    # The first profile's form is open to everyone (an account is made inline); someone with a
    # profile in that category is sent to its edit form.
    "seekers/new/": [
        case("get", "/seekers/new/", 200, 200, 200, 200, 200),
        case("get", "/seekers/new/?category=planners0", 200, 302, 200, 200, 200),
    ],
    "seekers/<id:seeker_id>/edit/": [case("get", "/seekers/{seeker}/edit/", LOGIN, 200, 404, 404, 200)],
    "providers/new/": [
        case("get", "/providers/new/", 200, 200, 200, 200, 200),
        case("get", "/providers/new/?category=planners0", 200, 200, 302, 200, 200),
    ],
    "search/": [
        case("get", "/search/?need=planners&where=remote", 302, 302, 302, 302, 302),
        case("get", "/search/", 302, 302, 302, 302, 302),  # nothing typed: back home with a hint
    ],
    "account/": [
        case("get", "/account/", LOGIN, 200, 200, 200, 200),
        case("post", "/account/", LOGIN, 400, 400, 400, 400, time_zone="Mars/Olympus"),
    ],
    "account/photo/": [case("post", "/account/photo/", LOGIN, 400, 400, 400, 400)],  # no file: the form says so
    "account/photo/remove/": [case("post", "/account/photo/remove/", LOGIN, 302, 302, 302, 302)],
    "account/leaderboards/": [
        case("post", "/account/leaderboards/", LOGIN, 302, 302, 302, 302, leaderboard_name="anonymous"),
        case("post", "/account/leaderboards/", LOGIN, 400, 400, 400, 400, leaderboard_name="everyone"),
    ],
    "^media/(?P<path>photos/[0-9a-f]{32}\\.jpg)$": [
        case("get", "/media/photos/0123456789abcdef0123456789abcdef.jpg", 404, 404, 404, 404, 404)
    ],
    "providers/<id:provider_id>/edit/": [case("get", "/providers/{provider}/edit/", LOGIN, 404, 200, 404, 200)],
    # --- Web: the core loop ------------------------------------------------------------------
    "matches/": [case("get", "/matches/", LOGIN, 200, 200, 200, 200)],
    "seekers/<id:seeker_id>/match/": [case("post", "/seekers/{seeker}/match/", LOGIN, 302, 404, 404, 302)],
    "matches/<id:match_id>/introduce/": [case("post", "/matches/{suggested}/introduce/", LOGIN, 302, 404, 404, 302)],
    "matches/<id:match_id>/accept/": [case("post", "/matches/{introduced}/accept/", LOGIN, 302, 302, 404, 302)],
    "matches/<id:match_id>/decline/": [case("post", "/matches/{introduced}/decline/", LOGIN, 302, 302, 404, 302)],
    "matches/<id:match_id>/engagement/": [case("get", "/matches/{accepted}/engagement/", LOGIN, 200, 200, 404, 200)],
    "leads/": [case("get", "/leads/", LOGIN, 200, 200, 200, 200)],
    "engagements/": [case("get", "/engagements/", LOGIN, 200, 200, 200, 200)],
    "engagements/<id:engagement_id>/confirm/": [
        case("post", "/engagements/{reported}/confirm/", LOGIN, 302, 302, 404, 302)
    ],
    "engagements/<id:engagement_id>/complete/": [
        case("post", "/engagements/{confirmed}/complete/", LOGIN, 302, 302, 404, 302)
    ],
    "engagements/<id:engagement_id>/cancel/": [
        case("get", "/engagements/{reported}/cancel/", LOGIN, 200, 200, 404, 200)
    ],
    "engagements/<id:engagement_id>/dispute/": [
        case("get", "/engagements/{cancel_requested}/dispute/", LOGIN, 200, 200, 404, 200)
    ],
    "api/v1/^engagements/(?P<pk>[0-9]{1,18})/dispute/$": [
        case("post", "/api/v1/engagements/{cancel_requested}/dispute/", 401, 403, 200, 404, 403, reason="Work was done")
    ],
    "engagements/<id:engagement_id>/rate/": [case("get", "/engagements/{confirmed}/rate/", LOGIN, 200, 200, 404, 200)],
    "commission/": [case("get", "/commission/", LOGIN, 200, 200, 200, 200)],
    "pro/": [case("get", "/pro/", LOGIN, 200, 200, 200, 200)],
    # --- Web: wallet -------------------------------------------------------------------------
    "wallet/": [case("get", "/wallet/", LOGIN, 200, 200, 200, 200)],
    "wallet/spend/<slug:option_key>/": [case("get", "/wallet/spend/extra_matches/", LOGIN, 200, 200, 200, 200)],
    "wallet/redeem/": [case("post", "/wallet/redeem/", LOGIN, 200, 200, 200, 200)],
    # --- Web: the content library (published articles for all; one's own drafts) -------------------
    "library/": [case("get", "/library/", 200, 200, 200, 200, 200)],
    "library/<id:article_id>/": [
        case("get", "/library/{article}/", 200, 200, 200, 200, 200),
        case("get", "/library/{draft}/", 404, 404, 200, 404, 200),
    ],
    # The seeker has POT and unlocks; the author may not (a message); the others have no POT.
    "library/<id:article_id>/unlock/": [case("post", "/library/{article}/unlock/", LOGIN, 302, 302, 302, 302)],
    "library/mine/": [case("get", "/library/mine/", LOGIN, 200, 200, 200, 200)],
    # Without a provider profile the page sends you to create one.
    "library/mine/new/": [case("get", "/library/mine/new/", LOGIN, 302, 200, 302, 302)],
    "library/mine/<id:article_id>/edit/": [case("get", "/library/mine/{draft}/edit/", LOGIN, 404, 200, 404, 404)],
    "library/mine/<id:article_id>/submit/": [case("post", "/library/mine/{draft}/submit/", LOGIN, 404, 302, 404, 404)],
    # --- Web: notifications and conversations (only one's own; staff too get 404) -------------
    "notifications/": [case("get", "/notifications/", LOGIN, 200, 200, 200, 200)],
    "notifications/<id:notification_id>/read/": [
        case("post", "/notifications/{notification}/read/", LOGIN, 302, 404, 404, 404)
    ],
    "notifications/read-all/": [case("post", "/notifications/read-all/", LOGIN, 302, 302, 302, 302)],
    "conversations/": [case("get", "/conversations/", LOGIN, 200, 200, 200, 200)],
    "conversations/<id:match_id>/": [
        case("get", "/conversations/{introduced}/", LOGIN, 200, 200, 404, 404),
        case("post", "/conversations/{introduced}/", LOGIN, 302, 302, 404, 404, body="Hello"),
        case("get", "/conversations/{suggested}/", LOGIN, 404, 404, 404, 404),
    ],
    # --- Community answers: public reads; the asker accepts; providers of the category answer -----
    "api/v1/^questions/$": [
        case("get", "/api/v1/questions/?category=planners0", 200, 200, 200, 200, 200),
        case("post", "/api/v1/questions/", 401, 201, 201, 201, 201, category="planners0", title="Tax?", body="How?"),
    ],
    "api/v1/^questions/(?P<pk>[0-9]{1,18})/$": [case("get", "/api/v1/questions/{question}/", 200, 200, 200, 200, 200)],
    # The seeker asked (not a provider: 403), the provider answered already (409).
    "api/v1/^questions/(?P<pk>[0-9]{1,18})/answers/$": [
        case("post", "/api/v1/questions/{question}/answers/", 401, 403, 409, 403, 403, body="Hourly.")
    ],
    "api/v1/^questions/(?P<pk>[0-9]{1,18})/hide/$": [
        case("post", "/api/v1/questions/{question}/hide/", 401, 403, 403, 403, 200, reason="Spam")
    ],
    "api/v1/^questions/(?P<pk>[0-9]{1,18})/unhide/$": [
        case("post", "/api/v1/questions/{question}/unhide/", 401, 403, 403, 403, 200)
    ],
    "api/v1/^answers/(?P<pk>[0-9]{1,18})/accept/$": [
        case("post", "/api/v1/answers/{answer}/accept/", 401, 200, 403, 403, 403)
    ],
    "api/v1/^answers/(?P<pk>[0-9]{1,18})/vote/$": [
        case("post", "/api/v1/answers/{answer}/vote/", 401, 200, 409, 200, 200)
    ],
    "api/v1/^answers/(?P<pk>[0-9]{1,18})/hide/$": [
        case("post", "/api/v1/answers/{answer}/hide/", 401, 403, 403, 403, 200, reason="Spam")
    ],
    "api/v1/^answers/(?P<pk>[0-9]{1,18})/unhide/$": [
        case("post", "/api/v1/answers/{answer}/unhide/", 401, 403, 403, 403, 200)
    ],
    "api/v1/^community-reports/$": [
        case("post", "/api/v1/community-reports/", 401, 201, 201, 201, 201, answer="{answer}", reason="Spam")
    ],
    "categories/<slug:name>/questions/": [case("get", "/categories/planners0/questions/", 200, 200, 200, 200, 200)],
    "categories/<slug:name>/questions/ask/": [
        case("get", "/categories/planners0/questions/ask/", LOGIN, 200, 200, 200, 200)
    ],
    "categories/<slug:name>/questions/<id:question_id>/": [
        case("get", "/categories/planners0/questions/{question}/", 200, 200, 200, 200, 200),
        # Not a provider of the category, or answered already: the form says so (400).
        case("post", "/categories/planners0/questions/{question}/", LOGIN, 400, 400, 400, 400, body="Hourly."),
    ],
    "answers/<id:answer_id>/accept/": [case("post", "/answers/{answer}/accept/", LOGIN, 302, 302, 302, 302)],
    "answers/<id:answer_id>/vote/": [case("post", "/answers/{answer}/vote/", LOGIN, 302, 302, 302, 302)],
    "community/report/": [case("post", "/community/report/", LOGIN, 302, 302, 302, 302, reason="Spam")],
}


def _routes(patterns, prefix: str = "") -> list[str]:
    """Every URL pattern of the project but Django's admin (its own staff check, tested in the apps)."""
    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if getattr(pattern, "app_name", None) == "admin":
                continue
            routes.extend(_routes(pattern.url_patterns, prefix + str(pattern.pattern)))
        elif isinstance(pattern, URLPattern):
            routes.append(prefix + str(pattern.pattern))
    return routes


def test_every_url_has_a_row():
    routes = set(_routes(get_resolver().url_patterns))
    assert routes - set(ROWS) == set(), "a URL without a row: decide who may reach it"
    assert set(ROWS) - routes == set(), "a row for a URL that is gone"


def _client(user, *, api: bool):
    if user is None:
        return APIClient() if api else Client()
    if api:
        return client_for(user)
    client = Client()
    client.force_login(user)
    return client


def _filled(value, world: World):
    ids = {
        "seeker": world.seeker.pk,
        "provider": world.provider.pk,
        "suggested": world.suggested.pk,
        "introduced": world.introduced.pk,
        "accepted": world.accepted.pk,
        "reported": world.reported.pk,
        "confirmed": world.confirmed.pk,
        "rating": world.rating.pk,
        "cancel_requested": world.cancel_requested.pk,
        "redemption": world.redemption_id,
        "notification": world.notification_id,
        "seeker_user": world.people["seeker"].pk,
        "provider_user": world.people["provider"].pk,
        "question": world.question_id,
        "answer": world.answer_id,
        "article": world.article_id,
        "draft": world.draft_id,
    }
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    return value


CASES = [
    pytest.param(row_case, id=f"{row_case.method} {row_case.path}") for cases in ROWS.values() for row_case in cases
]


class _Undo(Exception):
    """Raised to roll back one role's request."""


@pytest.mark.django_db
@pytest.mark.parametrize("row_case", CASES)
def test_who_reaches_what(row_case: Case):
    world = _world()
    path = _filled(row_case.path, world)
    body = {key: _filled(value, world) for key, value in (row_case.body or {}).items()}
    api = row_case.path.startswith("/api/")
    got = {}
    for role in ROLES:
        clear_pool_cache()
        client = _client(world.people[role], api=api)
        send = getattr(client, row_case.method)
        try:
            with transaction.atomic():
                response = send(path, body, format="json") if api and body else send(path, body or None)
                got[role] = response.status_code
                raise _Undo
        except _Undo:
            pass
    expected = dict(zip(ROLES, row_case.statuses, strict=True))
    assert got == expected
