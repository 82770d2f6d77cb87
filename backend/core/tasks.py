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
