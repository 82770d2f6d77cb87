"""Dispatch: due watches become pending watch runs, and runs are published to ``data_fetch``.

:func:`watches_dispatch_due` claims due watches in batches (``SELECT … FOR UPDATE SKIP
LOCKED``), moves their ``next_run_at`` forward, creates one pending :class:`WatchRun` each and,
after commit, publishes one ``process_watch_task`` each (:func:`publish_watch_runs`). Two
dispatchers at once never claim the same watch: the second skips locked rows, and once the
first commits the rows are no longer due. :func:`watch_run_create` / :func:`watch_runs_create`
do the same for the trigger endpoints, and :func:`fetch_followers_resume` publishes the
continuation of every watch run that waited on a fetch once that fetch ended.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from typing import Any

from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Value
from django.utils import timezone

from core.jobs import publish_on_commit
from core.models import ACTIVE_STATUSES, JobStatus

from ..models import Watch, WatchRun, WatchTrigger

logger = logging.getLogger(__name__)

# Watches claimed per transaction. bench/watch_dispatch.py: 1,000 per batch claims 10,000
# watches in ~3 queries per 1,000 and keeps each transaction's row locks short (<0.1 s).
DISPATCH_BATCH_SIZE = 1000
# Redis commands per pipeline when publishing (two per message: LPUSH + task-sent event).
# kombu's default; bench/watch_dispatch.py shows no gain above it.
PUBLISH_PIPELINE_SIZE = 1000


# (watch_id, watch_run_id, celery task id) of each run to enqueue.
DispatchedRun = tuple[int, int, str]
Publisher = Callable[[list[DispatchedRun]], None]


def publish_watch_runs(runs: list[DispatchedRun]) -> None:
    """Send one ``process_watch_task(watch_id, watch_run_id=…)`` message per run, in bulk.

    The messages are exactly what ``apply_async`` sends (Celery's own ``create_task_message``
    and ``send_task_message``, with the route, time limits and ``task-sent`` event), but the
    per-message work that is the same for all is done once: routing, declaring the queue,
    acquiring a producer. kombu's ``Producer.batch()`` pipelines the Redis commands (LPUSH and
    the event's PUBLISH) ``PUBLISH_PIPELINE_SIZE`` at a time. Kept over the public API because
    it is ≥ 1.5× faster: bench/watch_dispatch.py (10,000 messages, best of 3, load 6-10 on 2
    CPUs) 286 µs/message against 884 µs for ``apply_async(producer=…)`` with one reused producer
    inside the same ``Producer.batch()`` (3.1×) and 2,536 µs without it (8.9×).
    On transports without batch support kombu publishes each message at once.
    """
    from backend.celery import app, registered_task

    task = registered_task(WatchRun.TASK_NAME)  # by name: the tasks module imports this one

    amqp = app.amqp
    options = amqp.router.route({}, task.name, (0,), {}, task)  # type: ignore[arg-type]  # celery-types wants a class; Celery passes the instance
    send_sent_event = app.conf.task_send_sent_event
    with app.producer_or_acquire() as producer:
        batch = (
            producer.batch(max_size=PUBLISH_PIPELINE_SIZE) if hasattr(producer, "batch") else nullcontext()
        )
        with batch:
            if options.get("queue") is not None:
                producer.maybe_declare(options["queue"])
            for watch_id, run_id, task_id in runs:
                message = amqp.create_task_message(
                    task_id,
                    task.name,
                    (watch_id,),
                    {"watch_run_id": run_id},
                    time_limit=task.time_limit,
                    soft_time_limit=task.soft_time_limit,
                    create_sent_event=send_sent_event,
                    argsrepr=f"({watch_id},)",
                    kwargsrepr=f"{{'watch_run_id': {run_id}}}",
                )
                amqp.send_task_message(producer, task.name, message, declare=[], **options)


def _claim_batch_orm(now: dt.datetime, batch_size: int) -> list[DispatchedRun]:
    """Claim one batch in three statements (any database): lock, move forward, insert runs."""
    next_run = ExpressionWrapper(
        Value(now) + F("interval_minutes") * Value(dt.timedelta(minutes=1)), output_field=DateTimeField()
    )
    ids = list(
        Watch.objects.filter(is_active=True, next_run_at__lte=now)
        .order_by("next_run_at", "id")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[:batch_size]
    )
    if not ids:
        return []
    Watch.objects.filter(pk__in=ids).update(next_run_at=next_run)
    runs = WatchRun.objects.bulk_create(
        [
            WatchRun(watch_id=watch_id, trigger=WatchTrigger.SCHEDULE, celery_task_id=str(uuid.uuid4()))
            for watch_id in ids
        ]
    )
    return [(run.watch_id, run.pk, str(run.celery_task_id)) for run in runs]


def _claim_batch_postgresql(now: dt.datetime, batch_size: int) -> list[DispatchedRun]:
    """Claim one batch in one statement on PostgreSQL (same effect as :func:`_claim_batch_orm`).

    ``SELECT … FOR UPDATE SKIP LOCKED`` → ``UPDATE … RETURNING`` → ``INSERT … SELECT …
    RETURNING`` in one CTE, so no model instances are built in Python: bench/watch_dispatch.py
    measured it at about a third of the ORM path's time. WatchRun columns that the statement
    does not set get their model defaults, read from the model, so new fields need no change here.
    """
    watch_table = connection.ops.quote_name(Watch._meta.db_table)
    run_table = connection.ops.quote_name(WatchRun._meta.db_table)
    special = {
        "watch": "moved.id",
        "celery_task_id": "gen_random_uuid()::text",
        "status": "%s",
        "trigger": "%s",
        "created_at": "%s",
        "updated_at": "%s",
    }
    special_params = {
        "status": JobStatus.PENDING.value,
        "trigger": WatchTrigger.SCHEDULE.value,
        "created_at": now,
        "updated_at": now,
    }
    columns: list[str] = []
    values: list[str] = []
    params: list[Any] = []
    for field in WatchRun._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(str(field.column)))
        if field.name in special:
            values.append(special[field.name])
            if field.name in special_params:
                params.append(special_params[field.name])
        else:
            values.append("%s")
            default = field.get_default() if field.has_default() else None
            params.append(field.get_db_prep_save(default, connection))
    sql = f"""
        WITH due AS (
            SELECT id FROM {watch_table}
            WHERE is_active AND next_run_at <= %s
            ORDER BY next_run_at, id
            LIMIT %s
            FOR UPDATE SKIP LOCKED
        ), moved AS (
            UPDATE {watch_table} AS w
            SET next_run_at = %s + w.interval_minutes * interval '1 minute'
            FROM due WHERE w.id = due.id
            RETURNING w.id
        )
        INSERT INTO {run_table} ({", ".join(columns)})
        SELECT {", ".join(values)} FROM moved
        RETURNING watch_id, id, celery_task_id
    """  # noqa: S608 - table and column names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, batch_size, now, *params])
        return [(watch_id, run_id, task_id) for watch_id, run_id, task_id in cursor.fetchall()]


def watches_dispatch_due(
    *,
    now: dt.datetime | None = None,
    batch_size: int = DISPATCH_BATCH_SIZE,
    publish: Publisher | None = None,
) -> int:
    """Claim every due watch, schedule its next run and enqueue one run each; return the count.

    Due: ``is_active`` and ``next_run_at <= now``. Per batch of ``batch_size`` watches, one
    transaction locks the due rows (``FOR UPDATE SKIP LOCKED``: a concurrent dispatcher skips
    them, and once this one commits they are no longer due), moves ``next_run_at`` to
    ``now + interval_minutes`` and inserts one pending WatchRun each with its Celery task id;
    on PostgreSQL that is one statement, elsewhere three. ``publish`` (default
    :func:`publish_watch_runs`) is called after each batch commits, so a worker never sees a
    run that is not in the database.
    """
    now = now or timezone.now()
    publish = publish or publish_watch_runs
    claim = _claim_batch_postgresql if connection.vendor == "postgresql" else _claim_batch_orm
    total = 0
    while True:
        with transaction.atomic():
            batch = claim(now, batch_size)
            if batch:
                publish_on_commit(functools.partial(publish, batch), what=f"{len(batch)} watch runs")
        total += len(batch)
        if len(batch) < batch_size:
            break
    if total:
        logger.info("dispatched %d due watches", total)
    return total


def _active_run_watch_ids(watch_ids: list[int]) -> set[int]:
    """Lock the watches ``watch_ids`` (in id order) and return those with a pending or running run."""
    locked = list(
        Watch.objects.filter(pk__in=watch_ids).order_by("pk").select_for_update().values_list("pk", flat=True)
    )
    return set(
        WatchRun.objects.filter(watch_id__in=locked, status__in=ACTIVE_STATUSES).values_list(
            "watch_id", flat=True
        )
    )


def watch_run_create(*, watch: Watch, trigger: str = WatchTrigger.MANUAL, enqueue: bool = True) -> WatchRun:
    """Create a pending WatchRun for ``watch`` and enqueue its task after commit.

    Used by the trigger endpoint; the schedule (``next_run_at``) is left alone. A watch that
    already has a run pending or running gets no second one: that run is returned instead
    (the watch row is locked while this is decided, so two triggers at once make one run).
    """
    with transaction.atomic():
        if watch.pk in _active_run_watch_ids([watch.pk]):
            active = (
                WatchRun.objects.filter(watch=watch, status__in=ACTIVE_STATUSES)
                .order_by("-created_at")
                .first()
            )
            if active is not None:
                return active
        run = WatchRun.objects.create(watch=watch, trigger=trigger, celery_task_id=str(uuid.uuid4()))
        if enqueue:
            batch = [(watch.pk, run.pk, str(run.celery_task_id))]
            publish_on_commit(lambda: publish_watch_runs(batch), what=f"watch run {run.pk}")
    return run


def watch_runs_create(*, watches: Iterable[Watch], trigger: str = WatchTrigger.MANUAL) -> list[WatchRun]:
    """Create and enqueue (after commit) one run for each of ``watches`` that has none pending or
    running; return the runs created (watches that already had one are skipped)."""
    watches = list(watches)
    with transaction.atomic():
        busy = _active_run_watch_ids([watch.pk for watch in watches])
        runs = WatchRun.objects.bulk_create(
            [
                WatchRun(watch=watch, trigger=trigger, celery_task_id=str(uuid.uuid4()))
                for watch in watches
                if watch.pk not in busy
            ]
        )
        batch = [(run.watch_id, run.pk, str(run.celery_task_id)) for run in runs]
        if batch:
            publish_on_commit(lambda: publish_watch_runs(batch), what=f"{len(batch)} watch runs")
    return runs


def fetch_followers_resume(*, fetch_run_id: int) -> int:
    """Publish the continuation of every watch run waiting on fetch run ``fetch_run_id``.

    Called (after commit) when the fetch ends, whatever the outcome: each waiting run is sent
    to ``process_watch_task`` again under its own task id, and records the result or fails.
    A watch run still held by a live delivery ignores the extra message (its lease). Returns
    the number of messages published.
    """
    batch = [
        (watch_id, run_id, str(task_id))
        for watch_id, run_id, task_id in WatchRun.objects.filter(
            fetch_run_id=fetch_run_id, status=JobStatus.RUNNING
        ).values_list("watch_id", "pk", "celery_task_id")
    ]
    if batch:
        publish_watch_runs(batch)
        logger.info("fetch run %s ended: resumed %d watch runs", fetch_run_id, len(batch))
    return len(batch)
