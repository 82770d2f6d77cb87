"""``GET /metrics`` on the web server (served by :mod:`core.metrics.middleware`)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST

from .auth import MetricsAccess, metrics_access
from .exposition import render_metrics


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: Prometheus text exposition of this web server's process metrics
    (django-prometheus, summed over gunicorn workers) and the cluster metrics (queues, jobs,
    beat, SerpApi budget; core.metrics.collectors).

    Access (core.metrics.auth): 200 with a valid bearer token or basic-auth login; 401 with a
    ``WWW-Authenticate: Basic`` challenge otherwise; 404 in production with no credential set.
    """
    access = metrics_access(request.headers.get("Authorization"))
    if access is MetricsAccess.DISABLED:
        raise Http404("metrics are off: set METRICS_TOKEN or METRICS_BASIC_AUTH")
    if access is MetricsAccess.UNAUTHORIZED:
        response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Basic realm="metrics"'
        return response
    return HttpResponse(render_metrics(cluster=True), content_type=CONTENT_TYPE_LATEST)
