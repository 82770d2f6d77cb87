from rest_framework.routers import DefaultRouter

from .views import AdVariantViewSet

router = DefaultRouter()
router.register("variants", AdVariantViewSet, basename="advariant")

urlpatterns = router.urls
