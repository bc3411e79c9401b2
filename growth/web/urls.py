from django.urls import path

from growth.web import views

urlpatterns = [
    path("badges/", views.badges, name="badges"),
    path("leaderboards/", views.leaderboards, name="leaderboards"),
]
