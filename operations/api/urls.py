from django.urls import path

from operations.api import views

urlpatterns = [
    path("operations/weekly-report/", views.WeeklyReportView.as_view(), name="api-operations-weekly-report"),
]
