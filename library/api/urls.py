from rest_framework.routers import SimpleRouter

from library.api import views

router = SimpleRouter()
router.register("content", views.ContentViewSet, basename="content")

urlpatterns = router.urls
