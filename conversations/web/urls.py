from django.urls import path

import imatch.converters  # noqa: F401  (registers <id:…>)
from conversations.web import views

urlpatterns = [
    path("", views.threads_page, name="threads"),
    path("<id:match_id>/", views.thread_page, name="thread"),
]
