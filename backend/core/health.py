"""Health probes: database, Redis, and which queues have a consuming worker."""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection

from backend.celery import QUEUES, app

from .redaction import redact


def check_database() -> dict[str, Any]:
    """``{"ok": bool, "latency_ms": float, "error"?: str}`` for ``SELECT 1`` on the default DB."""
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return {"ok": False, "error": redact(str(exc))[:300]}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def check_redis(url: str | None = None) -> dict[str, Any]:
    """``{"ok": bool, "latency_ms": float, "error"?: str}`` for ``PING`` on the broker's Redis."""
    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(
            url or settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
    except redis.RedisError as exc:
        return {"ok": False, "error": redact(str(exc))[:300]}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def queue_consumers(timeout: float = 1.0) -> dict[str, list[str]]:
    """Return ``{queue: [worker hostnames]}`` for the four queues, from ``inspect active_queues``.

    A queue with an empty list has no worker consuming it: its tasks will wait.
    """
    consumers: dict[str, list[str]] = {queue: [] for queue in QUEUES}
    try:
        replies = app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception:  # broker down: nobody consumes
        return consumers
    for worker, queues in replies.items():
        for queue in queues or []:
            name = queue.get("name")
            if name in consumers:
                consumers[name].append(worker)
    return {queue: sorted(workers) for queue, workers in consumers.items()}


def broker_queue_keys(queue: str) -> tuple[str, ...]:
    """The Redis lists that hold ``queue``'s waiting messages, highest priority first.

    Kombu's Redis transport keeps a queue in a list named after it plus one list per priority
    step (``queue\\x06\\x16N`` for N in 3, 6, 9).
    """
    return (queue, *(f"{queue}\x06\x16{step}" for step in (3, 6, 9)))


def queue_depths() -> dict[str, int | None]:
    """Return ``{queue: messages waiting}`` read from the Redis broker (LLEN of each list).

    Waiting messages are the sum over :func:`broker_queue_keys`. None if Redis is down.
    """
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
        depths: dict[str, int | None] = {}
        for queue in QUEUES:
            depths[queue] = sum(int(client.llen(key)) for key in broker_queue_keys(queue))
        return depths
    except redis.RedisError:
        return {queue: None for queue in QUEUES}
