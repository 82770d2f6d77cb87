"""The API's exception handler: DRF's own, plus ``503`` JSON when Redis (broker or cache) is
down, with every error body an object and its messages bounded in length.

Throttles read their counters from the cache (Redis) and the enqueue endpoints publish to the
broker (Redis): with Redis unreachable those raise connection errors that DRF would turn into
a 500 HTML page. They are a temporary outage, so the client gets ``503`` with a JSON body and
``Retry-After`` instead. Messages that quote the caller's value (DRF's ``"…" is not a valid
choice.``, ours via :func:`core.text.echo`) would otherwise send a 2 MB value straight back.
Set as ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``; core/middleware.py applies the same 503 rule
to errors raised outside DRF.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, JsonResponse
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

# Seconds a client should wait before trying again: a Redis restart with its append-only
# file takes a few seconds (tests/ops/test_crash_safety.py).
RETRY_AFTER_SECONDS = 30
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, BrokerError)
UNAVAILABLE_BODY = {
    "detail": "A backing service is unavailable; try again shortly.",
    "code": "service_unavailable",
}
# The 404 body of a view that names no ``not_found_message`` (no model names: they are ours).
NOT_FOUND = "Not found."
# Longest error message returned (characters); ours are far shorter.
MAX_MESSAGE_LENGTH = 300


def _bounded(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_MESSAGE_LENGTH:
        return value[: MAX_MESSAGE_LENGTH - 1] + "…"
    if isinstance(value, dict):
        return {key: _bounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_bounded(item) for item in value]
    return value


def unavailable_response(exc: Exception, where: str) -> JsonResponse:
    """The ``503`` answer for a Redis outage (``exc``), logged once with ``where`` it happened."""
    logger.warning("%s: Redis is unavailable: %s", where, exc)
    return JsonResponse(UNAVAILABLE_BODY, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, ``503 {"detail", "code": "service_unavailable"}`` for a Redis outage;
    the body is always an object and every message is cut to :data:`MAX_MESSAGE_LENGTH`.

    A 404 of an unknown or another user's object (Django's ``Http404``, e.g. from
    ``get_object()``) says the view's ``not_found_message`` ("This watch does not exist or is
    not yours.") or ``"Not found."``, never a model name."""
    if isinstance(exc, UNAVAILABLE):
        view = context.get("view")
        logger.warning("%s: Redis is unavailable: %s", type(view).__name__ if view else "API", exc)
        return Response(UNAVAILABLE_BODY, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, Http404):
        # Django's text names the model ("No Watch matches the given query."): say it in the
        # view's words instead (its ``not_found_message``), or just "Not found.".
        view = context.get("view")
        response.data = {"detail": str(getattr(view, "not_found_message", None) or NOT_FOUND)}
    if response is not None:
        # A ValidationError raised with a list (a filter, a hand-raised one) is not about one
        # field: give it the shape of every other error body, an object.
        data = {"non_field_errors": response.data} if isinstance(response.data, list) else response.data
        response.data = _bounded(data)
    return response
