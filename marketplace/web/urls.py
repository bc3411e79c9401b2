from django.contrib.auth import views as auth_views
from django.urls import path

import imatch.converters  # noqa: F401  (registers <id:…>)
from marketplace.web import account, engagements, matches, onboarding, pro, views

urlpatterns = [
    path("", views.home, name="home"),
    path("categories/<slug:name>/", views.category_detail, name="category-detail"),
    path("providers/<id:provider_id>/", views.provider_detail, name="provider-detail"),
    path("signup/", views.signup, name="signup"),
    path("join/", views.join, name="join"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("welcome/<uidb64>/<token>/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("verify-email/resend/", views.verify_email_resend, name="verify-email-resend"),
    path("verify-email/<str:token>/", views.verify_email, name="verify-email"),
    path("search/", onboarding.search, name="search"),
    path("account/", account.account_settings, name="account"),
    path("account/photo/", account.photo_upload, name="account-photo"),
    path("account/photo/remove/", account.photo_remove, name="account-photo-remove"),
    path("account/leaderboards/", account.leaderboard_name, name="account-leaderboards"),
    path("seekers/new/", onboarding.seeker_create, name="seeker-create"),
    path("seekers/<id:seeker_id>/edit/", views.seeker_edit, name="seeker-edit"),
    path("providers/new/", onboarding.provider_create, name="provider-create"),
    path("providers/<id:provider_id>/edit/", views.provider_edit, name="provider-edit"),
    # The core loop: match → introduction → engagement → rating.
    path("matches/", matches.matches_page, name="matches"),
    path("seekers/<id:seeker_id>/match/", matches.seeker_match, name="seeker-match"),
    path("matches/<id:match_id>/introduce/", matches.match_introduce, name="match-introduce"),
    path("matches/<id:match_id>/accept/", matches.match_accept, name="match-accept"),
    path("matches/<id:match_id>/decline/", matches.match_decline, name="match-decline"),
    path("matches/<id:match_id>/engagement/", engagements.engagement_report, name="engagement-report"),
    path("leads/", matches.leads_page, name="leads"),
    path("engagements/", engagements.engagements_page, name="engagements"),
    path("engagements/<id:engagement_id>/confirm/", engagements.engagement_confirm, name="engagement-confirm"),
    path("engagements/<id:engagement_id>/complete/", engagements.engagement_complete, name="engagement-complete"),
    path("engagements/<id:engagement_id>/cancel/", engagements.engagement_cancel, name="engagement-cancel"),
    path("engagements/<id:engagement_id>/dispute/", engagements.engagement_dispute, name="engagement-dispute"),
    path("engagements/<id:engagement_id>/rate/", engagements.engagement_rate, name="engagement-rate"),
    path("commission/", engagements.commission_statement_page, name="commission-statement"),
    path("pro/", pro.pro_page, name="pro"),
]
