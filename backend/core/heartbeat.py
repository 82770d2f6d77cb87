"""celery beat's heartbeat: a Redis key written by a beat-driven task.

``core.tasks.beat_heartbeat_task`` is a periodic task (``DEFAULT_PERIODIC_TASKS`` in
core.maintenance, every ``BEAT_HEARTBEAT_INTERVAL`` seconds). Each run writes
``HEARTBEAT_KEY`` in the shared Redis (``settings.REDIS_URL``), so the key's age says when beat
last sent a tick that a worker ran. ``monitor_celery.py --check`` and the ``/metrics``
collectors read it; django-celery-beat's ``PeriodicTask.last_run_at`` is written back only every
few minutes (``sync_every``) and cannot tell a live beat from a stopped one that quickly.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis
from django.conf import settings

HEARTBEAT_KEY = "adspark:beat:heartbeat"
# Seconds between two heartbeats (the periodic task's interval, core.maintenance).
BEAT_HEARTBEAT_INTERVAL = 60
# A heartbeat older than this is stale: two missed ticks plus time to wait in the default queue.
BEAT_HEARTBEAT_MAX_AGE = 3 * BEAT_HEARTBEAT_INTERVAL
# The key outlives any verdict by far; it only disappears when beat has been gone for a day.
_HEARTBEAT_TTL = 24 * 3600


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def beat_heartbeat_write(
    *, sent_at: float | None, hostname: str | None, now: float | None = None
) -> dict[str, Any]:
    """Record one heartbeat and return it.

    Shape (Unix seconds): ``{"sent_at": float, "ran_at": float, "hostname": str | None}``.
    ``sent_at`` is when beat published the tick (the message's ``adspark_sent_at`` header);
    when unknown it is the run time.

    Raises:
        redis.RedisError: the shared Redis is unreachable.
    """
    ran_at = time.time() if now is None else now
    beat = {"sent_at": sent_at if sent_at is not None else ran_at, "ran_at": ran_at, "hostname": hostname}
    _client().set(HEARTBEAT_KEY, json.dumps(beat), ex=_HEARTBEAT_TTL)
    return beat


def beat_heartbeat_read() -> dict[str, Any] | None:
    """Return the last heartbeat (shape of :func:`beat_heartbeat_write`) or None if there is none.

    Raises:
        redis.RedisError: the shared Redis is unreachable.
    """
    raw = _client().get(HEARTBEAT_KEY)
    if raw is None:
        return None
    try:
        beat = json.loads(raw)
        return {
            "sent_at": float(beat["sent_at"]),
            "ran_at": float(beat["ran_at"]),
            "hostname": beat.get("hostname"),
        }
    except (ValueError, KeyError, TypeError):
        return None  # not ours: treat as no heartbeat


def beat_heartbeat_age(*, now: float | None = None) -> float | None:
    """Seconds since beat sent the last heartbeat tick, or None if there is none.

    Raises:
        redis.RedisError: the shared Redis is unreachable.
    """
    beat = beat_heartbeat_read()
    if beat is None:
        return None
    return max(0.0, (time.time() if now is None else now) - beat["sent_at"])
