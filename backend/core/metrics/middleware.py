"""Serve ``/metrics`` ahead of Django's host check.

Prometheus scrapes each web pod by its IP (Kubernetes pod discovery), a Host header that
``DJANGO_ALLOWED_HOSTS`` cannot list in advance; CommonMiddleware would answer 400. The host
check guards absolute URLs built from the Host header, and ``/metrics`` builds none, so this
middleware (placed before ``SecurityMiddleware`` and ``CommonMiddleware``) answers it directly;
access is still decided by :mod:`core.metrics.auth`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .views import metrics_view

METRICS_PATH = "/metrics"


class MetricsEndpointMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == METRICS_PATH:
            return metrics_view(request)
        return self.get_response(request)
