from django.urls import path
from rest_framework.routers import SimpleRouter

import imatch.converters  # noqa: F401  (registers <id:…>)
from marketplace.api import pro, streaks, views

router = SimpleRouter()
router.register("seekers", views.SeekerViewSet, basename="seeker")
router.register("providers", views.ProviderViewSet, basename="provider")
router.register("matches", views.MatchViewSet, basename="match")
router.register("engagements", views.EngagementViewSet, basename="engagement")
router.register("ratings", views.RatingViewSet, basename="rating")
router.register("referrals", views.ReferralViewSet, basename="referral")
router.register("users", views.AccountViewSet, basename="account")

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="api-register"),
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="api-logout"),
    path("auth/verify-email/", views.EmailVerifyView.as_view(), name="api-verify-email"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("me/photo/", views.MePhotoView.as_view(), name="api-me-photo"),
    path("me/verify-email/resend/", views.EmailVerificationResendView.as_view(), name="api-verify-email-resend"),
    path("seekers/<id:seeker_id>/match/", views.SeekerMatchView.as_view(), name="api-seeker-match"),
    path("pot/pro/", pro.ProStatusView.as_view(), name="api-pro"),
    path("pot/pro/purchase/", pro.ProPurchaseView.as_view(), name="api-pro-purchase"),
    path("pot/streak/", streaks.StreakView.as_view(), name="api-streak"),
    *router.urls,
]
