"""Small operational tasks (routes: backend/celery.py)."""

from __future__ import annotations

import socket
import time
from typing import Any

from celery import shared_task


@shared_task(bind=True, name="core.tasks.probe_task")
def probe_task(self: Any, sent_at: float | None = None) -> dict[str, Any]:
    """Answer a health probe: ``{"queue", "hostname", "sent_at", "answered_at"}`` (Unix seconds).

    monitor_celery.py sends one to each queue (``apply_async(queue=…)``) to prove a worker
    consumes it; it spends no SerpApi searches and no AI money.
    """
    delivery = self.request.delivery_info or {}
    return {
        "queue": delivery.get("routing_key") or delivery.get("queue"),
        "hostname": self.request.hostname or socket.gethostname(),
        "sent_at": sent_at,
        "answered_at": time.time(),
    }


@shared_task(name="core.tasks.repair_stuck_runs_task")
def repair_stuck_runs_task() -> dict[str, dict[str, int]]:
    """Re-queue or fail job rows left ``running`` by a dead worker (queue ``maintenance``).

    Returns ``{model label: {"requeued": n, "failed": n}}``; see core.maintenance.
    """
    from .maintenance import stuck_runs_repair

    return stuck_runs_repair()


@shared_task(name="core.tasks.prune_old_runs_task")
def prune_old_runs_task(days: int = 30) -> dict[str, int]:
    """Delete finished job rows older than ``days`` days and expired results (queue ``maintenance``).

    Returns ``{model label: rows deleted, "celery_results": 0|1}``; see core.maintenance.
    """
    from .maintenance import old_runs_prune

    return old_runs_prune(days=days)


@shared_task(bind=True, name="core.tasks.beat_heartbeat_task")
def beat_heartbeat_task(self: Any) -> dict[str, Any]:
    """Record celery beat's heartbeat in Redis (periodic, queue ``default``; core.heartbeat).

    Returns ``{"sent_at", "ran_at", "hostname"}`` (Unix seconds): ``sent_at`` is when beat
    published this tick (the ``adspark_sent_at`` message header).
    """
    from .heartbeat import beat_heartbeat_write
    from .metrics import SENT_AT_HEADER

    sent_at = self.request.get(SENT_AT_HEADER)
    return beat_heartbeat_write(
        sent_at=float(sent_at) if sent_at is not None else None,
        hostname=self.request.hostname or socket.gethostname(),
    )
