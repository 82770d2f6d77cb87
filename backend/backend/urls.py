"""URL map: ``/api/…`` (DRF), ``/api/schema/`` (OpenAPI), ``/api/docs/`` (Swagger UI), ``/admin/``,
``/metrics`` is served by core.metrics.middleware (ahead of the host check)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("api/auth/session/", include("rest_framework.urls")),
    path("api/adspark/", include("AdSpark.urls")),
    path("api/adspark/", include("boards.urls")),
    path("api/ai/", include("ai_agent.urls")),
    path("api/search/", include("search.urls")),
    path("api/", include("core.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
