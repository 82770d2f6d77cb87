"""The Celery app (``backend.celery.app``): queues, routes, limits and reliability settings.

This module is the one place where queue names, the routing table, per-task rate limits, time
limits and retry bounds are decided (``TASKS`` below). Broker and result URLs come from Django
settings (``CELERY_BROKER_URL`` / ``CELERY_RESULT_BACKEND``).

Queues and the worker that serves each (see docs/architecture.md and docker-compose.yml):

============== ================================================ =========== ======
queue          work                                             concurrency memory
============== ================================================ =========== ======
default        notifications, webhooks, small jobs, probes      2           512 MB
data_fetch     SerpApi calls, ingestion, watch runs             2           1 GB
ai_generation  screenshots, AI variants, creative archive       1           2 GB
maintenance    cleanup, stuck-run repair, result/token pruning  1           512 MB
============== ================================================ =========== ======
"""

from __future__ import annotations

import os
import sys
from typing import Any

from celery import Celery, signals
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

QUEUE_DEFAULT = "default"
QUEUE_DATA_FETCH = "data_fetch"
QUEUE_AI_GENERATION = "ai_generation"
QUEUE_MAINTENANCE = "maintenance"
QUEUES: tuple[str, ...] = (QUEUE_DEFAULT, QUEUE_DATA_FETCH, QUEUE_AI_GENERATION, QUEUE_MAINTENANCE)

# Task name -> queue and options. Time limits are seconds: ``soft_time_limit`` raises
# SoftTimeLimitExceeded inside the task (it records the failure), ``time_limit`` kills the child.
# ``rate_limit`` is Celery's per-worker limit; the SerpApi cap that holds across all workers is
# enforced in Redis by AdSpark.serpapi_client (Celery cannot do it cluster-wide).
TASKS: dict[str, dict[str, Any]] = {
    # A fetch follows at most SERPAPI_MAX_PAGES pages of up to ~7 s each (total_time_taken in
    # the recordings), plus rate-limit waits: 15 min soft / 20 min hard is generous.
    "AdSpark.tasks.fetch_creatives_task": {
        "queue": QUEUE_DATA_FETCH,
        "soft_time_limit": 900,
        "time_limit": 1200,
        "max_retries": 5,
    },
    "AdSpark.tasks.fetch_creative_details_task": {
        "queue": QUEUE_DATA_FETCH,
        "soft_time_limit": 120,
        "time_limit": 180,
        "max_retries": 5,
    },
    "AdSpark.tasks.process_watch_task": {
        "queue": QUEUE_DATA_FETCH,
        "soft_time_limit": 900,
        "time_limit": 1200,
        "max_retries": 5,
    },
    # The dispatcher runs every minute with `expires`; it only claims rows and enqueues.
    "AdSpark.tasks.process_all_active_watches_task": {
        "queue": QUEUE_DATA_FETCH,
        "soft_time_limit": 50,
        "time_limit": 60,
    },
    "AdSpark.tasks.send_watch_alert_task": {
        "queue": QUEUE_DEFAULT,
        "soft_time_limit": 60,
        "time_limit": 90,
        "max_retries": 3,
    },
    "AdSpark.tasks.deliver_webhook_task": {
        "queue": QUEUE_DEFAULT,
        "soft_time_limit": 30,
        "time_limit": 45,
        "max_retries": 6,
    },
    "AdSpark.tasks.cleanup_old_creatives_task": {
        "queue": QUEUE_MAINTENANCE,
        "soft_time_limit": 1800,
        "time_limit": 2100,
    },
    # One attempt = a screenshot (SCREENSHOT_TIMEOUT 20 s), a provider call (DIFY_TIMEOUT 150 s
    # per request) and an image download (60 s): 300 s soft fails the variant with the reason,
    # 360 s hard kills the child. Transient errors retry 4 times (core.tasks.JobTask: backoff, jitter).
    "ai_agent.tasks.generate_ad_variant_async": {
        "queue": QUEUE_AI_GENERATION,
        "soft_time_limit": 300,
        "time_limit": 360,
        "max_retries": 4,
        # One generation at a time per worker process already; this caps provider spend.
        "rate_limit": "30/m",
    },
    # One capture = an image download (ARCHIVE_TIMEOUT 20 s) or a preview rendering
    # (SCREENSHOT_TIMEOUT 20 s) plus encoding: 90 s soft fails the capture with the reason,
    # 120 s hard kills the child (AdSpark.archive.STALE_RUNNING_SECONDS is longer). Transient
    # errors retry 3 times with backoff. No rate_limit: a rate-limited task is held in the
    # worker's memory past the prefetch limit; ARCHIVE_PER_RUN_CAP and ARCHIVE_BACKLOG_BATCH
    # bound how many captures wait ahead of a variant instead (~0.1-1 s each).
    "AdSpark.tasks.archive_creative_task": {
        "queue": QUEUE_AI_GENERATION,
        "soft_time_limit": 90,
        "time_limit": 120,
        "max_retries": 3,
    },
    "AdSpark.tasks.archive_backlog_task": {
        "queue": QUEUE_MAINTENANCE,
        "soft_time_limit": 120,
        "time_limit": 180,
    },
    # One DELETE of the expired API tokens (accounts.services.tokens_expired_purge), hourly.
    "accounts.tasks.purge_expired_tokens_task": {
        "queue": QUEUE_MAINTENANCE,
        "soft_time_limit": 300,
        "time_limit": 360,
    },
    "core.tasks.probe_task": {"queue": QUEUE_DEFAULT, "soft_time_limit": 10, "time_limit": 20},
    # One SET in Redis every minute (core.heartbeat); a tick older than a minute is dropped.
    "core.tasks.beat_heartbeat_task": {"queue": QUEUE_DEFAULT, "soft_time_limit": 10, "time_limit": 20},
    "core.tasks.repair_stuck_runs_task": {
        "queue": QUEUE_MAINTENANCE,
        "soft_time_limit": 300,
        "time_limit": 360,
    },
    "core.tasks.prune_old_runs_task": {
        "queue": QUEUE_MAINTENANCE,
        "soft_time_limit": 1800,
        "time_limit": 2100,
    },
}

# Modules whose tasks must all be routed through TASKS (a test enforces it).
OUR_TASK_PREFIXES: tuple[str, ...] = ("AdSpark.", "ai_agent.", "accounts.", "search.", "core.")


def _task_routes() -> dict[str, dict[str, str]]:
    return {name: {"queue": options["queue"]} for name, options in TASKS.items()}


def _task_annotations() -> dict[str, dict[str, Any]]:
    return {
        name: {key: value for key, value in options.items() if key != "queue"}
        for name, options in TASKS.items()
    }


def registered_task(task_name: str) -> Any:
    """Return the task object registered as ``task_name``, importing the apps' task modules
    first if this process has not yet (a web process only imports them on demand).

    Services use it (or ``app.signature(name)``) to enqueue without importing a tasks module,
    which imports the services. Raises KeyError for an unknown name.
    """
    if task_name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[task_name]


def hard_time_limit(task_name: str) -> int:
    """Return the hard time limit (seconds) of ``task_name``; 3600 for tasks not in TASKS."""
    return int(TASKS.get(task_name, {}).get("time_limit", 3600))


app = Celery("backend")
app.config_from_object("django.conf:settings", namespace="CELERY")

_exchange = Exchange("adspark", type="direct")
app.conf.update(
    task_queues=tuple(Queue(name, _exchange, routing_key=name) for name in QUEUES),
    task_default_queue=QUEUE_DEFAULT,
    task_default_exchange="adspark",
    task_default_routing_key=QUEUE_DEFAULT,
    task_create_missing_queues=False,
    task_routes=_task_routes(),
    task_annotations=_task_annotations(),
    # JSON only: tasks take ids and plain values, never pickled objects.
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_accept_content=["json"],
    # Reliability: ack after the task ran, give the message back if the worker dies. The
    # prefetch multiplier (1) comes from settings (CELERY_WORKER_PREFETCH_MULTIPLIER).
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    broker_connection_retry_on_startup=True,
    # Flower and monitor_celery.py read task events.
    worker_send_task_events=True,
    task_send_sent_event=True,
    task_track_started=True,
    # Celery results are a cache: the durable record is the job row in PostgreSQL.
    result_expires=24 * 3600,
    result_extended=True,
    timezone="UTC",
    enable_utc=True,
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
)


def worker_pool_for(platform: str) -> str:
    """Return the default worker pool for ``platform`` (a ``sys.platform`` value).

    Prefork fails on Windows (``PermissionError: [WinError 5] Access is denied``), so workers
    there use the threads pool; everywhere else prefork. ``-P`` on the command line still wins.
    """
    return "threads" if platform == "win32" else "prefork"


app.conf.worker_pool = worker_pool_for(sys.platform)


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _redact_worker_logs(logger: Any, **kwargs: Any) -> None:
    """Mask credentials in every line the worker and beat write (see core.redaction)."""
    from core.redaction import install_log_filter

    install_log_filter(logger.handlers)


app.autodiscover_tasks()

# Task metrics from worker signals and the publish-time header (core.metrics.celery).
import core.metrics.celery  # noqa: E402, F401
