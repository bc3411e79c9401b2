from django.urls import path

import imatch.converters  # noqa: F401  (registers <id:…>)
from notifications.web import views

urlpatterns = [
    path("", views.notifications_page, name="notifications"),
    path("<id:notification_id>/read/", views.notification_read, name="notification-read"),
    path("read-all/", views.notifications_read_all, name="notifications-read-all"),
]
