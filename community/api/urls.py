from rest_framework.routers import SimpleRouter

from community.api import views

router = SimpleRouter()
router.register("questions", views.QuestionViewSet, basename="question")
router.register("answers", views.AnswerViewSet, basename="answer")
router.register("community-reports", views.ReportViewSet, basename="community-report")

urlpatterns = router.urls
