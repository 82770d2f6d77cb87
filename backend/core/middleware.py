"""Every error answered under ``/api/`` is JSON, whatever raised it.

DRF renders its own errors as JSON, but some answers are made before or outside a DRF view:
Django's 404 for an unknown URL, the 400 for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
(``RequestDataTooBig``), a 500 from an unhandled exception, and errors from infrastructure
that is down (Redis). :class:`APIJSONErrorMiddleware` turns each into
``{"detail": "<message>"}`` with the right status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from .exceptions import UNAVAILABLE, unavailable_response

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# HTML and YAML by design: Swagger UI and the schema download.
NOT_JSON_PATHS = ("/api/docs/", "/api/schema/")
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Location", "Vary")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX) and not request.path.startswith(NOT_JSON_PATHS)


def _is_json(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "")
    return content_type.startswith("application/json") or "+json" in content_type


class APIJSONErrorMiddleware:
    """Answer every ``/api/`` error as JSON (see the module docstring).

    - ``RequestDataTooBig`` (a body over the upload limit) → ``413``;
    - Redis unreachable (:data:`core.exceptions.UNAVAILABLE`) → ``503`` with ``Retry-After``,
      as DRF views answer it (:func:`core.exceptions.api_exception_handler`);
    - any other non-JSON error answer keeps its status and gets ``{"detail": reason}``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 400 and _is_api(request) and not _is_json(response):
            replacement = JsonResponse({"detail": response.reason_phrase}, status=response.status_code)
            for header in KEPT_HEADERS:
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not _is_api(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse({"detail": "The request body is larger than the server accepts."}, status=413)
        if isinstance(exception, UNAVAILABLE):
            return unavailable_response(exception, f"{request.method} {request.path}")
        return None
