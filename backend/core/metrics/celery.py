"""Celery task metrics from worker signals, the publish-time header, and each worker's metrics port.

Connected by ``backend/celery.py`` (every process that loads the app: web, beat, workers).

* ``before_task_publish`` stamps every message with ``adspark_sent_at`` (Unix seconds), from
  which :func:`core.health.queue_oldest_ages` tells how long a queue's oldest message has waited
  and the beat heartbeat tells when beat sent its tick.
* ``task_prerun`` / ``task_postrun`` / ``task_revoked`` in the pool process that runs the task:
  ``adspark_celery_tasks_total{task, queue, state}`` (state: ``success``, ``failure``,
  ``retry``…, Celery's state names lower-cased; ``revoked``, or ``expired`` for a message whose
  ``expires`` passed while it waited),
  ``adspark_celery_task_runtime_seconds{task, queue}`` (histogram, wall-clock seconds from
  prerun to postrun) and ``adspark_celery_tasks_active{queue}`` (tasks running now).
* ``worker_init`` (the worker's main process, before the pool forks) empties the multiprocess
  directory and, when ``CELERY_METRICS_PORT`` is set, serves the summed figures of all pool
  processes on that port (:func:`core.metrics.exposition.metrics_server_start`);
  ``worker_process_shutdown`` marks an exiting pool child dead.
"""

from __future__ import annotations

import os
import time
from typing import Any

from celery.signals import (
    before_task_publish,
    task_postrun,
    task_prerun,
    task_revoked,
    worker_init,
    worker_process_shutdown,
)
from prometheus_client import Counter, Gauge, Histogram

from . import SENT_AT_HEADER
from .exposition import child_exited, metrics_server_start, multiprocess_dir, multiprocess_dir_reset

TASKS_TOTAL = Counter(
    "adspark_celery_tasks",
    "Celery tasks finished, by task, queue and final state",
    ["task", "queue", "state"],
)
TASK_RUNTIME = Histogram(
    "adspark_celery_task_runtime_seconds",
    "Wall-clock seconds a task ran (prerun to postrun)",
    ["task", "queue"],
    # From a probe (milliseconds) to a 20-minute fetch (the longest hard time limit).
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, float("inf")),
)
TASKS_ACTIVE = Gauge(
    "adspark_celery_tasks_active", "Tasks running now, by queue", ["queue"], multiprocess_mode="livesum"
)

_started: dict[str, tuple[float, str]] = {}  # task id -> (perf_counter at prerun, queue)


def _queue_of(task: Any) -> str:
    from backend.celery import TASKS

    delivery = getattr(getattr(task, "request", None), "delivery_info", None) or {}
    queue = delivery.get("routing_key") or TASKS.get(getattr(task, "name", ""), {}).get("queue")
    return str(queue or "unknown")


@before_task_publish.connect
def _stamp_sent_at(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if headers is not None:
        headers[SENT_AT_HEADER] = time.time()


@task_prerun.connect
def _task_started(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    if task_id is None or task is None:
        return
    queue = _queue_of(task)
    _started[task_id] = (time.perf_counter(), queue)
    TASKS_ACTIVE.labels(queue).inc()


@task_postrun.connect
def _task_finished(
    task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: Any
) -> None:
    if task_id is None or task is None:
        return
    started = _started.pop(task_id, None)
    queue = started[1] if started else _queue_of(task)
    TASKS_TOTAL.labels(task.name, queue, (state or "unknown").lower()).inc()
    if started is not None:
        TASK_RUNTIME.labels(task.name, queue).observe(time.perf_counter() - started[0])
        TASKS_ACTIVE.labels(queue).dec()


@task_revoked.connect
def _task_revoked(sender: Any = None, request: Any = None, expired: bool = False, **kwargs: Any) -> None:
    # Sent by the worker for a revoked message, or one whose ``expires`` passed while it waited.
    name = getattr(sender, "name", None) or "unknown"
    delivery = getattr(request, "delivery_info", None) or {}
    queue = delivery.get("routing_key") or _queue_of(sender)
    TASKS_TOTAL.labels(str(name), str(queue), "expired" if expired else "revoked").inc()


@worker_init.connect
def _worker_metrics_start(sender: Any = None, **kwargs: Any) -> None:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    port: int = settings.WORKER_METRICS_PORT
    pool = getattr(sender, "pool_cls", None)
    pool_module = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    if port and multiprocess_dir() is None and "prefork" in str(pool_module):
        raise ImproperlyConfigured(
            "CELERY_METRICS_PORT is set for a prefork worker but PROMETHEUS_MULTIPROC_DIR is not: "
            "the pool processes' counters would be invisible. Point PROMETHEUS_MULTIPROC_DIR at an "
            "empty directory of this worker (e.g. an emptyDir or tmpfs)."
        )
    multiprocess_dir_reset()
    if port:
        metrics_server_start(port=port)


@worker_process_shutdown.connect
def _pool_child_exited(pid: int | None = None, **kwargs: Any) -> None:
    child_exited(pid or os.getpid())
