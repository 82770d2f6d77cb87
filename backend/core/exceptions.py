"""The API's exception handler: DRF's own, plus ``503`` JSON when Redis (broker or cache) is down.

Throttles read their counters from the cache (Redis) and the enqueue endpoints publish to the
broker (Redis): with Redis unreachable those raise connection errors that DRF would turn into
a 500 HTML page. They are a temporary outage, so the client gets ``503`` with a JSON body and
``Retry-After`` instead. Set as ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``.
"""

from __future__ import annotations

import logging
from typing import Any

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


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, and ``503 {"detail", "code": "service_unavailable"}`` for a Redis outage."""
    if isinstance(exc, UNAVAILABLE):
        view = context.get("view")
        logger.warning("%s: Redis is unavailable: %s", type(view).__name__ if view else "API", exc)
        return Response(
            {"detail": "A backing service is unavailable; try again shortly.", "code": "service_unavailable"},
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return exception_handler(exc, context)
