"""URL map: ``/api/…`` (DRF), ``/api/schema/`` (OpenAPI), ``/api/docs/`` (Swagger UI), ``/admin/``,
``/metrics`` (Prometheus; core.views.metrics_view)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.views import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("api/auth/", include("accounts.urls")),
    path("api/auth/session/", include("rest_framework.urls")),
    path("api/adspark/", include("AdSpark.urls")),
    path("api/ai/", include("ai_agent.urls")),
    path("api/search/", include("search.urls")),
    path("api/", include("core.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
