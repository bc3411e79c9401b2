from rest_framework.routers import SimpleRouter

from conversations.api import views

router = SimpleRouter()
router.register("threads", views.ThreadViewSet, basename="thread")

urlpatterns = router.urls
