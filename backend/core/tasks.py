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
