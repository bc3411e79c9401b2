from django.urls import path
from rest_framework.routers import SimpleRouter

from marketplace.api import views

router = SimpleRouter()
router.register("seekers", views.SeekerViewSet, basename="seeker")
router.register("providers", views.ProviderViewSet, basename="provider")

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="api-register"),
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
