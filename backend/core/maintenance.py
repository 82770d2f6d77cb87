"""Maintenance services (queue ``maintenance``): stuck-run repair, pruning, default schedules.

The stuck-run repair covers every job model (:func:`core.jobs.job_models`) and does two things:

* A ``running`` row whose lease expired (:func:`core.jobs.jobs_stuck`: its worker died, or a
  countdown it waited on passed without its message coming back) is sent to its task again
  (the task registered by the row's app, :func:`core.jobs.job_register`) under its task id.
  Re-sends of rows a worker died holding are counted (``JobKind.requeue_counter``, up to
  ``MAX_REQUEUES``, then the row is failed with the reason; models without a counter, whose
  task is not safe to run twice, are failed at once); re-sending a row that only waited costs
  nothing and is not counted.
* A ``pending`` row whose message is older than ``JOB_PENDING_REPUBLISH_SECONDS``
  (:func:`core.jobs.jobs_unpublished`: Redis lost it, e.g. flushed after commit) is published
  again under its own task id. A duplicate message is harmless: the lease lets one delivery run.

Beat runs the repair every ``JOB_REPAIR_INTERVAL_SECONDS`` and every worker asks for one when
it starts (core.apps), so a dead worker's jobs are taken over within a lease plus an interval.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.celery import app

from .heartbeat import BEAT_HEARTBEAT_INTERVAL
from .jobs import (
    JobKind,
    job_fail_registered,
    job_kind,
    job_models,
    jobs_stuck,
    jobs_unpublished,
    lease_seconds,
)
from .models import FINISHED_STATUSES, Job, JobStatus

logger = logging.getLogger(__name__)

MAX_REQUEUES = 3
# Finished job rows and their logs are kept this long (days) for the API and the admin.
PRUNE_RUNS_DAYS = 30
PRUNE_BATCH_SIZE = 1000


def stuck_runs_repair(*, now: dt.datetime | None = None) -> dict[str, dict[str, int]]:
    """Re-send stuck and lost job rows; return ``{model label: {"requeued", "republished", "failed"}}``.

    Each row is changed with a conditional UPDATE (still the same status, lease and
    ``updated_at``), so two repairs at once, or a worker that finishes meanwhile, cannot double
    it. Messages are sent after commit, under the row's own task id.
    Models whose app registered no task are only failed when stuck.
    """
    now = now or timezone.now()
    report: dict[str, dict[str, int]] = {}
    for model in job_models():
        kind = job_kind(model)
        counts = {"requeued": 0, "republished": 0, "failed": 0}
        for row in jobs_stuck(model, now=now).iterator(chunk_size=200):
            died = bool(row.lease_owner) or row.lease_expires_at is None
            counter = kind.requeue_counter if kind is not None else None
            if kind is not None and (
                not died or (counter is not None and getattr(row, counter) < MAX_REQUEUES)
            ):
                if _requeue(model, row, kind, now, count=died):
                    counts["requeued"] += 1
                continue
            reason = (
                f"The worker running this job stopped: its lease of {lease_seconds()} s was not renewed. "
                "Marked failed by the stuck-run repair."
            )
            if counter is not None:
                reason += f" It had already been re-queued {MAX_REQUEUES} times."
            if job_fail_registered(model, pk=row.pk, error=reason):
                counts["failed"] += 1
        if kind is not None:
            for row in jobs_unpublished(model, now=now).iterator(chunk_size=200):
                if _republish(model, row, kind, now):
                    counts["republished"] += 1
        if any(counts.values()):
            logger.warning("stuck-run repair %s: %s", model._meta.label, counts)
        report[model._meta.label] = counts
    return report


def _requeue(model: type[Job], row: Job, kind: JobKind, now: dt.datetime, *, count: bool) -> bool:
    # The job keeps its task id (its status URL names it); a late copy of the old message is
    # harmless, the lease lets one delivery run.
    task_id = row.celery_task_id or str(uuid.uuid4())
    fields: dict[str, Any] = {
        "celery_task_id": task_id,
        "updated_at": now,
        # a short lease: the new delivery claims it; if the message is lost too, the next repair
        # finds the row stuck again
        "lease_owner": "",
        "lease_expires_at": now + dt.timedelta(seconds=lease_seconds()),
    }
    if count:
        fields["error"] = "Re-queued by the stuck-run repair: the worker running it stopped."
        if kind.requeue_counter:
            fields[kind.requeue_counter] = F(kind.requeue_counter) + 1
    with transaction.atomic():
        updated = model._default_manager.filter(
            pk=row.pk,
            status=JobStatus.RUNNING,
            lease_owner=row.lease_owner,
            lease_expires_at=row.lease_expires_at,
            updated_at=row.updated_at,
        ).update(**fields)
        if updated:
            kwargs = kind.task_kwargs(row)
            transaction.on_commit(lambda: app.send_task(kind.task_name, kwargs=kwargs, task_id=task_id))
    return bool(updated)


def _republish(model: type[Job], row: Job, kind: JobKind, now: dt.datetime) -> bool:
    task_id = row.celery_task_id or str(uuid.uuid4())
    with transaction.atomic():
        updated = model._default_manager.filter(
            pk=row.pk, status=JobStatus.PENDING, updated_at=row.updated_at
        ).update(updated_at=now, celery_task_id=task_id)
        if updated:
            kwargs = kind.task_kwargs(row)
            transaction.on_commit(lambda: app.send_task(kind.task_name, kwargs=kwargs, task_id=task_id))
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
        old = model._default_manager.filter(status__in=FINISHED_STATUSES, finished_at__lt=cutoff).order_by(
            "pk"
        )
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
    # Captures never-archived creatives (AdSpark.archive): ARCHIVE_BACKLOG_BATCH per tick.
    "Archive creatives backlog": {
        "task": "AdSpark.tasks.archive_backlog_task",
        "interval": (10, "minutes"),
        "expire_seconds": 9 * 60,
    },
    "Repair stuck runs": {
        "task": "core.tasks.repair_stuck_runs_task",
        "interval": (settings.JOB_REPAIR_INTERVAL_SECONDS, "seconds"),
        "expire_seconds": settings.JOB_REPAIR_INTERVAL_SECONDS,
    },
    "Prune old runs and results": {
        "task": "core.tasks.prune_old_runs_task",
        "crontab": {"minute": "0", "hour": "4"},
        "expire_seconds": 6 * 3600,
    },
    # Authentication only deletes the expired token it is shown (accounts.authentication);
    # the others go here, in one DELETE.
    "Purge expired API tokens": {
        "task": "accounts.tasks.purge_expired_tokens_task",
        "crontab": {"minute": "15", "hour": "*"},
        "expire_seconds": 3600,
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
