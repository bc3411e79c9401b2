from django.urls import path

from growth.api import views

urlpatterns = [
    path("leaderboards/", views.LeaderboardsView.as_view(), name="api-leaderboards"),
]
