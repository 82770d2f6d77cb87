"""Health probes: database, Redis, and which queues have a consuming worker."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from backend.celery import QUEUES, app

from .redaction import redact

# inspect() broadcasts to every worker: answer from a cache for this many seconds.
CONSUMERS_CACHE_SECONDS = 5


@contextmanager
def broker_client() -> Iterator[redis.Redis]:
    """A redis-py client for the broker, through Kombu, so ``redis://``, ``rediss://`` (TLS) and
    ``sentinel://`` URLs (the current master) all work.

    Raises:
        redis.RedisError, kombu's OperationalError: the broker is unreachable.
    """
    with app.connection_for_read() as conn:
        # One quick attempt: a health check or a scrape must answer "down" fast, not retry.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        # Kombu's Redis channels (redis, rediss, sentinel) expose their redis-py client.
        yield conn.default_channel.client  # type: ignore[attr-defined]


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
        if url is None:
            with broker_client() as client:
                client.ping()
        else:
            redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except Exception as exc:  # redis.RedisError or Kombu's OperationalError: down
        return {"ok": False, "error": redact(str(exc))[:300]}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def worker_replies(command: str = "active_queues", *, timeout: float = 1.0) -> list[tuple[str, Any]]:
    """Every worker's reply to the broadcast control ``command``: ``[(node name, reply), …]``.

    One entry per worker that answered within ``timeout`` seconds, duplicates kept: workers
    started without ``-n`` all call themselves ``celery@<host>``, and ``inspect()`` (a dict keyed
    by node name) would keep only one of them. Empty when the broker is unreachable.
    """
    try:
        replies = app.control.broadcast(command, reply=True, timeout=timeout) or []
    except Exception:  # broker down: nobody answers
        return []
    return [(name, answer) for reply in replies for name, answer in reply.items()]


def consumers_from_replies(replies: list[tuple[str, Any]]) -> dict[str, list[str]]:
    """``{queue: [node names]}`` for the four queues from :func:`worker_replies` of ``active_queues``.

    A name appears once per worker that consumes the queue (twice if two workers share a name).
    """
    consumers: dict[str, list[str]] = {queue: [] for queue in QUEUES}
    for worker, queues in replies:
        for queue in queues or []:
            name = queue.get("name") if isinstance(queue, dict) else None
            if name in consumers:
                consumers[name].append(worker)
    return {queue: sorted(workers) for queue, workers in consumers.items()}


def duplicate_node_names(replies: list[tuple[str, Any]]) -> dict[str, int]:
    """``{node name: number of workers}`` for names that more than one worker answered with."""
    counts = Counter(name for name, _reply in replies)
    return {name: count for name, count in sorted(counts.items()) if count > 1}


def queue_consumers(timeout: float = 1.0) -> dict[str, list[str]]:
    """Return ``{queue: [worker node names]}`` for the four queues (``active_queues`` replies).

    A queue with an empty list has no worker consuming it: its tasks will wait. Workers that
    share a node name are each counted (see :func:`worker_replies`).
    """
    return consumers_from_replies(worker_replies("active_queues", timeout=timeout))


def queue_consumers_cached() -> dict[str, list[str]]:
    """:func:`queue_consumers`, cached for ``CONSUMERS_CACHE_SECONDS`` in the Django cache
    (health checks and metric scrapes may come every few seconds from several places)."""
    consumers: dict[str, list[str]] | None = cache.get("health:consumers")
    if consumers is None:
        consumers = queue_consumers()
        cache.set("health:consumers", consumers, CONSUMERS_CACHE_SECONDS)
    return consumers


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
        with broker_client() as client:
            depths: dict[str, int | None] = {}
            for queue in QUEUES:
                depths[queue] = sum(int(client.llen(key)) for key in broker_queue_keys(queue))
            return depths
    except Exception:  # redis.RedisError or Kombu's OperationalError: unknown
        return {queue: None for queue in QUEUES}


def broker_task_ids(queues: tuple[str, ...] = QUEUES) -> set[str]:
    """Ids of every task the broker holds: waiting in ``queues`` or delivered and not yet acked.

    Waiting messages are the JSON envelopes in :func:`broker_queue_keys`; messages a worker
    holds (running, prefetched, or waiting for an ETA/countdown) stay in kombu's ``unacked``
    hash (values ``[envelope, exchange, routing_key]``) until acked. Reads every message, so it
    costs O(messages).

    Raises:
        redis.RedisError, kombu's OperationalError: the broker is unreachable.
    """
    unacked_key = (settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}).get("unacked_key", "unacked")
    envelopes: list[Any] = []
    with broker_client() as client:
        for queue in queues:
            for key in broker_queue_keys(queue):
                envelopes.extend(client.lrange(key, 0, -1))
        unacked = client.hvals(unacked_key)
    for raw in unacked:
        try:
            envelopes.append(json.loads(raw)[0])
        except (ValueError, TypeError, IndexError, KeyError):
            continue
    ids: set[str] = set()
    for envelope in envelopes:
        try:
            message = json.loads(envelope) if isinstance(envelope, (bytes, str)) else envelope
            task_id = (message.get("headers") or {}).get("id")
        except (ValueError, TypeError, AttributeError):
            continue
        if task_id:
            ids.add(str(task_id))
    return ids
