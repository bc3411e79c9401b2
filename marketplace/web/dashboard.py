"""The dashboard, kept rendered per person (`imatch.person_cache`) and built again when what it shows changes.

The page shows the person's account, profiles, leads, engagements, ratings to give, unread
messages, wallet, redemptions, streak, referrals and badges, with the bell's unread count: each
is a scope of `DASHBOARD_SCOPES`, forgotten by the services (and signals) that change it. What
changes for everyone at once is the page's variant (the categories' version, the POT rules'
digest), and so is what depends on the request (time zone, the host of the referral link): its
keys are known before the user is, and read with the session's user (`read_with_session_user`).
What depends on the time is kept only until it changes (`fresh_until`): a lead's hours left to
answer, the week of the streak, a Pro period starting or ending.

The usual view is kept (no flash message to show); the CSRF token of its forms is written in
per request (`imatch.web.with_csrf_token`). Under `PERSON_CACHE_VERIFY` every served page is
rendered again and compared, and the test suite asks again for every page a test kept at its
end (`person_answers_verify`): a write that shows on the dashboard without forgetting its scope
fails the test that makes it.
"""

from datetime import datetime
from functools import partial

from django.contrib import messages
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from categories.selectors import catalog_version
from currency.selectors import pot_rules_signature, pro_changes_after
from imatch.person_cache import Scope, person_answer, person_answer_keys
from imatch.session_auth import read_with_session_user
from imatch.web import CSRF_MARK, with_csrf_token
from marketplace import selectors

DASHBOARD_SCOPES = (
    Scope.ACCOUNT,  # name, email, verified, account type, referral code, leaderboard name
    Scope.PROFILES,  # the seeker and provider profiles, their status and completeness
    Scope.MATCHES,  # leads, engagements to confirm or rate, the streak's answered leads and ratings
    Scope.LEDGER,  # the wallet, redemptions in progress, referral awards, Pro, accepted answers' awards
    Scope.NOTIFICATIONS,  # the bell
    Scope.MESSAGES,  # unread threads
    Scope.GROWTH,  # referrals, accepted answers, published articles (badges)
)


def dashboard_html(request: HttpRequest) -> str:
    """The person's dashboard: kept whole when there is no flash message to show, else rendered now."""
    if len(messages.get_messages(request)):
        return _render(request)[0]
    html, _until = person_answer(
        user_id=request.user.pk,
        scopes=DASHBOARD_SCOPES,
        name=NAME,
        build=lambda: _render(request, csrf_token=CSRF_MARK),
        variant=partial(_variant, request),
        fresh_until=lambda kept: kept[1],
    )
    return with_csrf_token(request, html)


NAME = ("dashboard",)  # one kept page per person: what else it depends on is its variant, so its keys are known ahead


def _variant(request: HttpRequest) -> tuple[str, ...]:
    """What the page shows that changes for everyone at once (the categories, the POT rules: a
    bonus's POT) or with the request (the time zone, the referral link's host)."""
    return (
        catalog_version(),
        pot_rules_signature(),
        timezone.get_current_timezone_name(),
        request.scheme,
        request.get_host(),
    )


read_with_session_user(
    "dashboard", lambda request, user_id: person_answer_keys(user_id=user_id, scopes=DASHBOARD_SCOPES, name=NAME)
)


def _render(request: HttpRequest, **tokens) -> tuple[str, datetime]:
    """The page's HTML now, and until when it stays true if nothing it shows is written."""
    now = timezone.now()
    user = selectors.user_for_dashboard(user=request.user)
    providers = list(user.providers.all())
    actions = selectors.actions_needed(user=user, providers=providers, now=now)
    context = {
        "profile_user": user,
        "referral_link": request.build_absolute_uri(f"{reverse('join')}?{urlencode({'ref': user.referral_code})}"),
        "referrals": selectors.referral_summary(user=user),
        "actions_needed": actions,
        "streak": selectors.streak_summary(user=user, now=now, holds_provider=bool(providers)),
        **tokens,
    }
    html = render_to_string("marketplace/dashboard.html", context, request)
    moments = [
        context["streak"].week_ends_at,  # the streak's week ends
        pro_changes_after(user_id=user.pk, at=now),  # the Pro badge
        *(item.changes_at for item in actions),  # a lead's hours left
    ]
    return html, min(moment for moment in moments if moment is not None)
