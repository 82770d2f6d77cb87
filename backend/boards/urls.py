"""Board URLs, mounted under ``/api/adspark/`` next to AdSpark's own."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import BoardViewSet, CreativeBoardsView, SharedBoardView

router = SimpleRouter()
router.register("boards", BoardViewSet, basename="board")

urlpatterns = [
    path("creatives/<str:ad_creative_id>/boards/", CreativeBoardsView.as_view(), name="creative-boards"),
    path("shared-boards/<str:token>/", SharedBoardView.as_view(), name="shared-board"),
    *router.urls,
]
