"""URL map: ``/api/…`` (DRF), ``/api/schema/`` (OpenAPI), ``/api/docs/`` (Swagger UI), ``/admin/``,
``/metrics`` is served by core.metrics.middleware (ahead of the host check); ``/media/…``
(archived creatives, AI variant files) when ``MEDIA_SERVE`` (DEBUG and tests; production serves
MEDIA_ROOT from the reverse proxy, or the files live in S3)."""

from django.conf import settings
from django.contrib import admin
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.static import serve
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


def media(request: HttpRequest, path: str) -> HttpResponse | FileResponse:
    """A file under ``MEDIA_ROOT`` (read at request time: tests point it at a temporary directory)."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.MEDIA_SERVE:
    urlpatterns.append(re_path(r"^media/(?P<path>.*)$", media, name="media"))
