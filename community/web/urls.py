from django.urls import path

import imatch.converters  # noqa: F401  (registers <id:…>)
from community.web import views

urlpatterns = [
    path("categories/<slug:name>/questions/", views.questions_page, name="community-questions"),
    path("categories/<slug:name>/questions/ask/", views.question_ask, name="community-ask"),
    path("categories/<slug:name>/questions/<id:question_id>/", views.question_page, name="community-question"),
    path("answers/<id:answer_id>/accept/", views.answer_accept, name="community-accept"),
    path("answers/<id:answer_id>/vote/", views.answer_vote, name="community-vote"),
    path("community/report/", views.report_file, name="community-report"),
]
