from django.urls import path

from .views import (
    SaveAsWatchView,
    SearchFetchView,
    SearchHistoryClearView,
    SearchHistoryDetailView,
    SearchHistoryView,
    SearchView,
)

urlpatterns = [
    path("", SearchView.as_view(), name="search"),
    path("history/", SearchHistoryView.as_view(), name="search-history"),
    path("history/clear/", SearchHistoryClearView.as_view(), name="search-history-clear"),
    path("history/<int:pk>/", SearchHistoryDetailView.as_view(), name="search-history-detail"),
    path("fetch/", SearchFetchView.as_view(), name="search-fetch"),
    path("save-as-watch/", SaveAsWatchView.as_view(), name="search-save-as-watch"),
]
