"""Maintenance services (queue ``maintenance``): stuck-run repair, pruning, default schedules.

Stuck-run repair covers every job model (:func:`core.jobs.job_models`). A row is stuck when it
is ``running`` and was last claimed (``updated_at``, set by :func:`core.jobs.job_claim`) longer
ago than its task's hard time limit plus ``STUCK_MARGIN_SECONDS``: no attempt can run that
long, so the worker that held it died (OOM kill, SIGKILL, a lost host) and, if the broker
redelivers nothing, the row would stay ``running`` for ever. Idempotent jobs (listed in
``REQUEUE``) are sent to their task again, up to ``MAX_REQUEUES`` times; the others are
marked failed with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.celery import app, hard_time_limit

from .heartbeat import BEAT_HEARTBEAT_INTERVAL
from .jobs import job_fail, job_models, job_stuck_limit, jobs_stuck
from .models import FINISHED_STATUSES, Job, JobStatus

logger = logging.getLogger(__name__)

# A retried task waits up to BACKOFF_CAP (600 s, AdSpark.tasks) between attempts while its
# row stays ``running``; 15 min covers that wait plus queueing on a busy worker.
STUCK_MARGIN_SECONDS = 15 * 60
MAX_REQUEUES = 3
# Finished job rows and their logs are kept this long (days) for the API and the admin.
PRUNE_RUNS_DAYS = 30
PRUNE_BATCH_SIZE = 1000


@dataclass(frozen=True)
class Requeue:
    """How to re-send a stuck job: task name, the kwargs from the row, and the model field
    counting re-sends (bounded by ``MAX_REQUEUES``)."""

    task_name: str
    kwargs: Callable[[Any], dict[str, Any]]
    counter: str


# Jobs whose task can safely run again from its checkpoint (keyed by model label).
REQUEUE: dict[str, Requeue] = {
    # A fetch resumes from next_page_token; replayed pages upsert nothing new.
    "AdSpark.FetchRun": Requeue(
        "AdSpark.tasks.fetch_creatives_task", lambda row: {"fetch_run_id": row.pk}, "retries"
    ),
    # A watch run resumes its own fetch; recording new creatives happens under a row lock once.
    "AdSpark.WatchRun": Requeue(
        "AdSpark.tasks.process_watch_task",
        lambda row: {"watch_id": row.watch_id, "watch_run_id": row.pk},
        "requeues",
    ),
}


def stuck_runs_repair(
    *, now: dt.datetime | None = None, margin_seconds: int = STUCK_MARGIN_SECONDS
) -> dict[str, dict[str, int]]:
    """Re-queue or fail every stuck job row; return ``{model label: {"requeued", "failed"}}``.

    Each row is changed with a conditional UPDATE (still ``running``, still the same claim
    time), so two repairs at once, or a worker that finishes meanwhile, cannot double it.
    Messages are sent after commit with a fresh task id that is stored on the row first.
    """
    now = now or timezone.now()
    report: dict[str, dict[str, int]] = {}
    for model in job_models():
        limit = job_stuck_limit(model, margin_seconds=margin_seconds)
        stuck = jobs_stuck(model, margin_seconds=margin_seconds, now=now)
        requeue = REQUEUE.get(model._meta.label)
        counts = {"requeued": 0, "failed": 0}
        for row in stuck.iterator(chunk_size=200):
            if requeue is not None and getattr(row, requeue.counter) < MAX_REQUEUES:
                if _requeue(model, row, requeue, now):
                    counts["requeued"] += 1
                continue
            reason = (
                f"The worker running this job stopped: no progress for over {limit} s, beyond "
                f"the task's hard time limit of {hard_time_limit(model.TASK_NAME)} s. Marked failed "
                "by the stuck-run repair."
            )
            if requeue is not None:
                reason += f" It had already been re-queued {MAX_REQUEUES} times."
            if _fail_stuck(model, row, reason):
                counts["failed"] += 1
        if any(counts.values()):
            logger.warning("stuck-run repair %s: %s", model._meta.label, counts)
        report[model._meta.label] = counts
    return report


def _fail_stuck(model: type[Job], row: Job, reason: str) -> bool:
    if row.TASK_NAME == "AdSpark.tasks.process_watch_task":
        from AdSpark.watches import watch_run_fail

        return watch_run_fail(watch_run_id=row.pk, error=reason)
    return job_fail(model, pk=row.pk, error=reason)


def _requeue(model: type[Job], row: Job, requeue: Requeue, now: dt.datetime) -> bool:
    task_id = str(uuid.uuid4())
    with transaction.atomic():
        updated = model._default_manager.filter(pk=row.pk, status=JobStatus.RUNNING, updated_at=row.updated_at).update(
            celery_task_id=task_id,
            updated_at=now,
            error="Re-queued by the stuck-run repair: the worker running it stopped.",
            **{requeue.counter: F(requeue.counter) + 1},
        )
        if updated:
            kwargs = requeue.kwargs(row)
            transaction.on_commit(lambda: app.send_task(requeue.task_name, kwargs=kwargs, task_id=task_id))
    return bool(updated)


def old_runs_prune(*, now: dt.datetime | None = None, days: int = PRUNE_RUNS_DAYS) -> dict[str, int]:
    """Delete finished job rows older than ``days`` and expired Celery results.

    Rows go in batches of ``PRUNE_BATCH_SIZE`` (their logs, e.g. webhook attempts, cascade).
    Rows still referenced by a protecting foreign key are kept. Returns ``{model label: n}``
    plus ``"celery_results"`` (1 when the result backend's own cleanup ran).
    """
    from django.db.models import ProtectedError, RestrictedError

    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=days)
    report: dict[str, int] = {}
    for model in job_models():
        old = model._default_manager.filter(status__in=FINISHED_STATUSES, finished_at__lt=cutoff).order_by("pk")
        deleted, last_pk = 0, 0
        while True:
            batch = list(old.filter(pk__gt=last_pk).values_list("pk", flat=True)[:PRUNE_BATCH_SIZE])
            if not batch:
                break
            last_pk = batch[-1]
            try:
                with transaction.atomic():
                    model._default_manager.filter(pk__in=batch).delete()
                deleted += len(batch)
            except (ProtectedError, RestrictedError):
                for pk in batch:  # a protected row keeps only itself
                    try:
                        with transaction.atomic():
                            model._default_manager.filter(pk=pk).delete()
                        deleted += 1
                    except (ProtectedError, RestrictedError):
                        continue
        report[model._meta.label] = deleted
    # The Redis result backend expires keys itself (result_expires); database backends
    # need this call, which is what Celery's own celery.backend_cleanup does.
    try:
        app.backend.cleanup()
        report["celery_results"] = 1
    except Exception as exc:  # a result backend that is down must not fail the pruning
        logger.warning("result backend cleanup failed: %s", exc)
        report["celery_results"] = 0
    return report


# --- default periodic tasks (django-celery-beat) -------------------------------------------

# name -> (task, schedule, options). ``expires`` (seconds) drops a tick that waited in the
# queue past the next one, so a backlog never runs the dispatcher many times in a row.
DEFAULT_PERIODIC_TASKS: dict[str, dict[str, Any]] = {
    # Proves beat is alive to monitor_celery.py --check and /metrics (core.heartbeat).
    "Beat heartbeat": {
        "task": "core.tasks.beat_heartbeat_task",
        "interval": (BEAT_HEARTBEAT_INTERVAL, "seconds"),
        "expire_seconds": BEAT_HEARTBEAT_INTERVAL - 5,
    },
    "Dispatch due watches": {
        "task": "AdSpark.tasks.process_all_active_watches_task",
        "interval": (1, "minutes"),
        "expire_seconds": 55,
    },
    "Clean up old creatives": {
        "task": "AdSpark.tasks.cleanup_old_creatives_task",
        "crontab": {"minute": "30", "hour": "3"},
        "kwargs": {"days_old": 90},
        "expire_seconds": 6 * 3600,
    },
    "Repair stuck runs": {
        "task": "core.tasks.repair_stuck_runs_task",
        "interval": (10, "minutes"),
        "expire_seconds": 9 * 60,
    },
    "Prune old runs and results": {
        "task": "core.tasks.prune_old_runs_task",
        "crontab": {"minute": "0", "hour": "4"},
        "expire_seconds": 6 * 3600,
    },
}


def periodic_tasks_ensure(*, reset: bool = False, using: str = "default") -> dict[str, str]:
    """Create the default beat schedule entries if missing; return ``{name: "created"|"kept"|"reset"}``.

    Idempotent. Existing entries are kept as they are (they are edited in the admin) unless
    ``reset``, which restores task, schedule, arguments and ``expires`` to the defaults.
    """
    import json

    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    result: dict[str, str] = {}
    with transaction.atomic(using=using):
        for name, spec in DEFAULT_PERIODIC_TASKS.items():
            fields: dict[str, Any] = {
                "task": spec["task"],
                "kwargs": json.dumps(spec.get("kwargs", {})),
                "expire_seconds": spec.get("expire_seconds"),
                "interval": None,
                "crontab": None,
                "enabled": True,
            }
            if "interval" in spec:
                every, period = spec["interval"]
                fields["interval"], _ = IntervalSchedule.objects.using(using).get_or_create(
                    every=every, period=period
                )
            else:
                fields["crontab"], _ = CrontabSchedule.objects.using(using).get_or_create(
                    minute=spec["crontab"]["minute"],
                    hour=spec["crontab"]["hour"],
                    day_of_week="*",
                    day_of_month="*",
                    month_of_year="*",
                    timezone="UTC",
                )
            existing = PeriodicTask.objects.using(using).filter(name=name).first()
            if existing is None:
                PeriodicTask.objects.using(using).create(name=name, **fields)
                result[name] = "created"
            elif reset:
                for key, value in fields.items():
                    setattr(existing, key, value)
                existing.save(using=using)
                result[name] = "reset"
            else:
                result[name] = "kept"
    return result
