from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import AdvertiserViewSet, CreativeViewSet, FetchRunViewSet, FetchView, RegionListView
from .watches.views import WatchRunViewSet, WatchViewSet

router = DefaultRouter()
router.register("fetch-runs", FetchRunViewSet, basename="fetchrun")
router.register("creatives", CreativeViewSet, basename="creative")
router.register("advertisers", AdvertiserViewSet, basename="advertiser")
router.register("watches", WatchViewSet, basename="watch")
router.register("watch-runs", WatchRunViewSet, basename="watchrun")

urlpatterns = [
    path("fetch/", FetchView.as_view(), name="fetch"),
    path("regions/", RegionListView.as_view(), name="region-list"),
    *router.urls,
]
