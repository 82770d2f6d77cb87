"""Watches: saved queries that AdSpark re-runs on a schedule and that report new creatives.

The life of a watch:

1. :func:`watch_create` / :func:`watch_update` validate the query exactly like a fetch
   (:func:`AdSpark.queries.normalize_fetch_params`) and store its normalised fields.
2. celery beat runs ``process_all_active_watches_task`` every minute; it calls
   :func:`watches_dispatch_due`, which claims due watches in batches
   (``SELECT … FOR UPDATE SKIP LOCKED``), moves their ``next_run_at`` forward, creates one
   pending :class:`WatchRun` each and, after commit, enqueues one ``process_watch_task`` each.
   Two dispatchers at once never claim the same watch: the second skips locked rows, and
   once the first commits the rows are no longer due.
3. :func:`watch_run` runs one WatchRun: it finds or makes the :class:`FetchRun` (shared with
   other watches of the same query within ``WATCH_FETCH_SHARE_SECONDS``), and when that fetch
   succeeded records which creatives are new *to this watch* (:class:`WatchCreative`). The
   first success is the baseline and alerts only if the watch asks for it.
4. A failed run (:func:`watch_run_fail`) never marks creatives as seen; the watch backs off
   (``interval · 2^failures``, capped) and is paused after ``WATCH_MAX_CONSECUTIVE_FAILURES``
   failures in a row, or at once on a permanent error (invalid key, rejected query).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.jobs import job_claim, job_fail, job_succeed
from core.models import ACTIVE_STATUSES, JobStatus
from core.urlsafety import check_url

from ..models import FetchRun, Watch, WatchCreative, WatchRun, WatchTrigger
from ..queries import FetchParamsError, FetchQuery, normalize_fetch_params
from ..serpapi_client import SerpApiClient, SerpApiPermanentError
from ..services import fetch_run_create, fetch_run_execute

logger = logging.getLogger(__name__)

# Watches with the same query share a fetch that started this recently (seconds). Ten minutes
# covers one dispatcher tick's worth of watches even when the data_fetch queue is backed up,
# and is short against the smallest interval (15 min), so no watch reuses stale results.
WATCH_FETCH_SHARE_SECONDS: int = settings.WATCH_FETCH_SHARE_SECONDS
# How long a watch run waits in-process for a fetch another watch is running (seconds).
# Most fetches take 1-7 s per page (total_time_taken in the recordings); past this the task
# retries later rather than hold a worker slot.
WATCH_SHARED_FETCH_WAIT_SECONDS: float = settings.WATCH_SHARED_FETCH_WAIT_SECONDS
WATCH_MAX_CONSECUTIVE_FAILURES: int = settings.WATCH_MAX_CONSECUTIVE_FAILURES
# The longest backoff interval (minutes): a failing hourly watch goes 2 h, 4 h, 8 h, 16 h, 24 h.
WATCH_MAX_BACKOFF_MINUTES = 24 * 60
# Watches claimed per transaction. bench/watch_dispatch.py: 1,000 per batch claims 10,000
# watches in ~3 queries per 1,000 and keeps each transaction's row locks short (<0.1 s).
DISPATCH_BATCH_SIZE = 1000
# Redis commands per pipeline when publishing (two per message: LPUSH + task-sent event).
# kombu's default; bench/watch_dispatch.py shows no gain above it.
PUBLISH_PIPELINE_SIZE = 1000

QUERY_FIELDS = (
    "advertiser_ids",
    "text",
    "region",
    "platform",
    "creative_format",
    "start_date",
    "end_date",
    "political_ads",
    "max_pages",
)


class SharedFetchPending(Exception):
    """The run waits on a fetch another watch is running; retry the task later."""

    def __init__(self, fetch_run_id: int):
        super().__init__(f"Waiting for shared fetch run {fetch_run_id} to finish.")
        self.fetch_run_id = fetch_run_id


# --- validation, create, update ------------------------------------------------------------


def watch_query_normalize(raw: Mapping[str, Any]) -> FetchQuery:
    """Validate a watch's query fields (see ``QUERY_FIELDS``) like a fetch.

    Raises:
        FetchParamsError: ``errors`` by field, as :func:`normalize_fetch_params` gives them.
    """
    return normalize_fetch_params({key: raw.get(key) for key in QUERY_FIELDS if key in raw})


def webhook_url_check(url: str) -> str:
    """Return ``url`` if a webhook may be sent there (the SSRF check of DESIGN.md).

    Raises:
        core.urlsafety.UnsafeURLError: not http(s), does not resolve, or a private,
            loopback (unless allowed) or link-local address.
    """
    return check_url(url)


def _query_fields(query: FetchQuery) -> dict[str, Any]:
    return {
        "advertiser_ids": list(query.advertiser_ids),
        "text": query.text,
        "region": query.region or "",
        "platform": query.platform or "",
        "creative_format": query.creative_format or "",
        "start_date": query.start_date or "",
        "end_date": query.end_date or "",
        "political_ads": query.political_ads,
        "max_pages": query.max_pages,
        "query_fingerprint": query.fingerprint(),
    }


def watch_query(watch: Watch) -> FetchQuery:
    """Return the watch's stored query as a :class:`FetchQuery`.

    Raises:
        FetchParamsError: the stored fields no longer validate (e.g. a region was removed).
    """
    return normalize_fetch_params(watch.query_params())


@transaction.atomic
def watch_create(
    *,
    owner: Any,
    name: str,
    query: FetchQuery,
    interval_minutes: int = 60,
    is_active: bool = True,
    notify_email: bool = True,
    webhook_url: str = "",
    webhook_secret: str = "",
    alert_on_first_run: bool = False,
) -> Watch:
    """Create a watch whose first (baseline) run is due now.

    ``webhook_url`` must already have passed :func:`webhook_url_check`; a secret is generated
    when a URL is given without one (32 random bytes, URL-safe base64).
    """
    if webhook_url and not webhook_secret:
        webhook_secret = secrets.token_urlsafe(32)
    return Watch.objects.create(
        owner=owner,
        name=name,
        interval_minutes=interval_minutes,
        is_active=is_active,
        next_run_at=timezone.now(),
        notify_email=notify_email,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        alert_on_first_run=alert_on_first_run,
        **_query_fields(query),
    )


@transaction.atomic
def watch_update(*, watch: Watch, query: FetchQuery | None = None, **fields: Any) -> Watch:
    """Change a watch's settings (``fields``: model field names) and/or its query.

    A new query (different fingerprint) starts over: the watch forgets what it has seen and
    its next run is a new baseline. Re-activating a watch clears ``paused_reason`` and the
    failure count and makes it due now.
    """
    watch = Watch.objects.select_for_update().get(pk=watch.pk)
    was_active = watch.is_active
    for key, value in fields.items():
        setattr(watch, key, value)
    if query is not None and query.fingerprint() != watch.query_fingerprint:
        for key, value in _query_fields(query).items():
            setattr(watch, key, value)
        WatchCreative.objects.filter(watch=watch).delete()
        watch.baseline_at = None
        watch.next_run_at = timezone.now()
    if watch.webhook_url and not watch.webhook_secret:
        watch.webhook_secret = secrets.token_urlsafe(32)
    if watch.is_active and not was_active:
        watch.paused_reason = ""
        watch.consecutive_failures = 0
        watch.next_run_at = timezone.now()
    watch.save()
    return watch


def backoff_minutes(*, interval_minutes: int, failures: int) -> int:
    """Minutes until the next run after ``failures`` consecutive failures (≥ 1).

    ``interval · 2^failures``, capped at a day (or the interval itself when that is longer).
    """
    return min(interval_minutes * 2**failures, max(interval_minutes, WATCH_MAX_BACKOFF_MINUTES))


# --- dispatch ------------------------------------------------------------------------------

# (watch_id, watch_run_id, celery task id) of each run to enqueue.
DispatchedRun = tuple[int, int, str]
Publisher = Callable[[list[DispatchedRun]], None]


def publish_watch_runs(runs: list[DispatchedRun]) -> None:
    """Send one ``process_watch_task(watch_id, watch_run_id=…)`` message per run, in bulk.

    The messages are exactly what ``apply_async`` sends (Celery's own ``create_task_message``
    and ``send_task_message``, with the route, time limits and ``task-sent`` event), but the
    per-message work that is the same for all is done once: routing, declaring the queue,
    acquiring a producer. kombu's ``Producer.batch()`` pipelines the Redis commands (LPUSH and
    the event's PUBLISH) ``PUBLISH_PIPELINE_SIZE`` at a time. bench/watch_dispatch.py: about
    0.15 ms of CPU per message against 0.5 ms for ``apply_async`` in a loop with one producer.
    On transports without batch support kombu publishes each message at once.
    """
    from backend.celery import app

    from ..tasks import process_watch_task as task

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
                transaction.on_commit(functools.partial(publish, batch))
        total += len(batch)
        if len(batch) < batch_size:
            break
    if total:
        logger.info("dispatched %d due watches", total)
    return total


def watch_run_create(*, watch: Watch, trigger: str = WatchTrigger.MANUAL, enqueue: bool = True) -> WatchRun:
    """Create a pending WatchRun for ``watch`` and enqueue its task after commit.

    Used by the trigger endpoints; the schedule (``next_run_at``) is left alone.
    """
    run = WatchRun.objects.create(watch=watch, trigger=trigger, celery_task_id=str(uuid.uuid4()))
    if enqueue:
        batch = [(watch.pk, run.pk, str(run.celery_task_id))]
        transaction.on_commit(lambda: publish_watch_runs(batch))
    return run


def watch_runs_create(*, watches: Iterable[Watch], trigger: str = WatchTrigger.MANUAL) -> list[WatchRun]:
    """Create and enqueue (after commit) one run for each of ``watches``."""
    runs = WatchRun.objects.bulk_create(
        [WatchRun(watch=watch, trigger=trigger, celery_task_id=str(uuid.uuid4())) for watch in watches]
    )
    batch = [(run.watch_id, run.pk, str(run.celery_task_id)) for run in runs]
    if batch:
        transaction.on_commit(lambda: publish_watch_runs(batch))
    return runs


def watch_run_for_task(*, watch_id: int, task_id: str) -> WatchRun:
    """Return the WatchRun of task ``task_id``, creating it for the seed's ``.delay(watch_id)``.

    Raises:
        Watch.DoesNotExist: no such watch.
    """
    run = WatchRun.objects.filter(celery_task_id=task_id).first()
    if run is not None:
        return run
    watch = Watch.objects.get(pk=watch_id)
    run, _ = WatchRun.objects.get_or_create(
        celery_task_id=task_id, defaults={"watch": watch, "trigger": WatchTrigger.MANUAL}
    )
    return run


# --- one run -------------------------------------------------------------------------------


def _lock_query(fingerprint: str) -> None:
    """Serialise the find-or-create of a fetch for one query across workers (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return  # SQLite runs write transactions one at a time anyway (IMMEDIATE mode)
    key = int(fingerprint[:15], 16)  # 60 bits: fits PostgreSQL's bigint advisory-lock key
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _fetch_for_run(run: WatchRun, watch: Watch, query: FetchQuery) -> FetchRun:
    """Return the FetchRun that serves ``run``: its own (resumed), a shared one, or a new one.

    Shared: a FetchRun of the same query fingerprint created within
    ``WATCH_FETCH_SHARE_SECONDS`` that has not failed and that this watch has not used before
    (re-using its own last fetch would find nothing new by construction).
    """
    if run.fetch_run_id:
        fetch = FetchRun.objects.get(pk=run.fetch_run_id)
        if not (run.shared_fetch and fetch.status == JobStatus.FAILED):
            return fetch
    fingerprint = query.fingerprint()
    with transaction.atomic():
        _lock_query(fingerprint)
        since = timezone.now() - dt.timedelta(seconds=WATCH_FETCH_SHARE_SECONDS)
        shared = (
            FetchRun.objects.filter(query_fingerprint=fingerprint, created_at__gte=since)
            .exclude(status=JobStatus.FAILED)
            .exclude(watch_runs__watch=watch)
            .order_by("-created_at")
            .first()
        )
        if shared is not None:
            fetch, is_shared = shared, True
        else:
            fetch, is_shared = fetch_run_create(owner=watch.owner, query=query, enqueue=False), False
        WatchRun.objects.filter(pk=run.pk).update(fetch_run=fetch, shared_fetch=is_shared)
    run.fetch_run, run.shared_fetch = fetch, is_shared
    return fetch


def _wait_for_fetch(fetch_run_id: int, *, timeout: float) -> FetchRun:
    """Poll a fetch another worker runs until it finishes or ``timeout`` seconds pass.

    Raises:
        SharedFetchPending: still pending or running after ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        fetch = FetchRun.objects.get(pk=fetch_run_id)
        if fetch.status not in ACTIVE_STATUSES:
            return fetch
        if time.monotonic() >= deadline:
            raise SharedFetchPending(fetch_run_id)
        time.sleep(0.5)


def watch_run(
    *,
    watch_run_id: int,
    task_id: str | None = None,
    client: SerpApiClient | None = None,
    wait_seconds: float | None = None,
) -> WatchRun:
    """Run watch run ``watch_run_id``: fetch (or share a fetch) and record the new creatives.

    Claims the row first (a finished run is returned untouched, so a redelivered task is
    harmless). A run whose watch was paused after dispatch fails without counting as a
    failure of the watch. Permanent SerpApi errors and invalid stored queries fail the run
    and pause the watch; they are not raised.

    Raises:
        SerpApiTransientError: the run stays ``running`` with its fetch checkpoint; retry.
        SharedFetchPending: the shared fetch is still running after ``wait_seconds``; retry.
    """
    if not job_claim(WatchRun, pk=watch_run_id, task_id=task_id):
        return WatchRun.objects.get(pk=watch_run_id)
    run = WatchRun.objects.select_related("watch").get(pk=watch_run_id)
    watch = run.watch
    if run.trigger == WatchTrigger.SCHEDULE and not watch.is_active:
        job_fail(WatchRun, pk=run.pk, error="The watch was paused before this run started.")
        return WatchRun.objects.get(pk=run.pk)
    try:
        query = watch_query(watch)
    except FetchParamsError as exc:
        watch_run_fail(
            watch_run_id=run.pk, error=f"The watch's query is no longer valid: {exc}", permanent=True
        )
        return WatchRun.objects.get(pk=run.pk)

    fetch = _fetch_for_run(run, watch, query)
    if run.shared_fetch and fetch.status in ACTIVE_STATUSES:
        timeout = WATCH_SHARED_FETCH_WAIT_SECONDS if wait_seconds is None else wait_seconds
        fetch = _wait_for_fetch(fetch.pk, timeout=timeout)
    elif fetch.status in ACTIVE_STATUSES:
        try:
            fetch = fetch_run_execute(fetch_run_id=fetch.pk, task_id=fetch.celery_task_id, client=client)
        except SerpApiPermanentError as exc:
            watch_run_fail(watch_run_id=run.pk, error=f"SerpApi rejected the request: {exc}", permanent=True)
            return WatchRun.objects.get(pk=run.pk)
        except FetchParamsError as exc:
            watch_run_fail(watch_run_id=run.pk, error=f"Invalid query: {exc}", permanent=True)
            return WatchRun.objects.get(pk=run.pk)

    if fetch.status == JobStatus.FAILED:
        if run.shared_fetch:
            # The other watch's fetch failed: the next attempt makes a fetch of our own.
            raise SharedFetchPending(fetch.pk)
        watch_run_fail(watch_run_id=run.pk, error=f"The fetch failed: {fetch.error}")
        return WatchRun.objects.get(pk=run.pk)
    return watch_run_record(watch_run_id=run.pk, fetch=fetch)


def watch_run_record(*, watch_run_id: int, fetch: FetchRun) -> WatchRun:
    """Record a succeeded ``fetch`` as the result of running watch run ``watch_run_id``.

    Under a lock on the watch row (two runs of one watch cannot both call a creative new):
    the fetch's ``creative_ids`` not yet seen by the watch become :class:`WatchCreative`
    rows and the run's ``new_creative_ids``; the run succeeds; the watch's failure count is
    reset. Alerts (email, webhook) are scheduled after commit when there is something new and
    this is not the baseline, or the watch asks to be alerted on its baseline.
    """
    from ..alerts import watch_alerts_schedule

    ids = [str(creative_id) for creative_id in fetch.creative_ids]
    now = timezone.now()
    with transaction.atomic():
        run = WatchRun.objects.select_related("watch").get(pk=watch_run_id)
        watch = Watch.objects.select_for_update().get(pk=run.watch_id)
        if run.status != JobStatus.RUNNING:
            return run
        baseline = watch.baseline_at is None
        seen = set(
            WatchCreative.objects.filter(watch=watch, ad_creative_id__in=ids).values_list(
                "ad_creative_id", flat=True
            )
        )
        new_ids = [creative_id for creative_id in dict.fromkeys(ids) if creative_id not in seen]
        WatchCreative.objects.bulk_create(
            [
                WatchCreative(
                    watch=watch,
                    ad_creative_id=creative_id,
                    first_seen_by_watch=now,
                    first_run_id=run.pk,
                    from_baseline=baseline,
                )
                for creative_id in new_ids
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        alert = bool(new_ids) and (not baseline or watch.alert_on_first_run)
        job_succeed(
            WatchRun,
            pk=run.pk,
            fetch_run=fetch,
            is_baseline=baseline,
            new_creatives_count=len(new_ids),
            new_creative_ids=new_ids,
            alerted=alert,
            progress_done=1,
            progress_total=1,
        )
        Watch.objects.filter(pk=watch.pk).update(
            last_run_id=run.pk,
            last_success_at=now,
            consecutive_failures=0,
            baseline_at=Coalesce("baseline_at", Value(now)),
            updated_at=now,
        )
        if alert:
            watch_alerts_schedule(watch=watch, watch_run_id=run.pk)
    run.refresh_from_db()
    logger.info(
        "watch %s run %s: %d creatives, %d new%s",
        watch.pk,
        run.pk,
        len(ids),
        len(new_ids),
        " (baseline)" if baseline else "",
    )
    return run


def watch_run_fail(*, watch_run_id: int, error: str, permanent: bool = False) -> bool:
    """Fail watch run ``watch_run_id`` and apply backoff or pause to its watch.

    ``permanent`` (an invalid key, a query SerpApi rejects) pauses the watch at once; else the
    watch's ``consecutive_failures`` grows, its next run moves out by :func:`backoff_minutes`,
    and at ``WATCH_MAX_CONSECUTIVE_FAILURES`` it is paused with a readable ``paused_reason``.
    Nothing is marked seen. Returns False (and changes nothing) if the run had already ended.
    """
    now = timezone.now()
    with transaction.atomic():
        if not job_fail(WatchRun, pk=watch_run_id, error=error):
            return False
        run = WatchRun.objects.get(pk=watch_run_id)
        watch = Watch.objects.select_for_update().get(pk=run.watch_id)
        failures = watch.consecutive_failures + 1
        fields: dict[str, Any] = {"consecutive_failures": failures, "last_run_id": run.pk, "updated_at": now}
        if permanent:
            fields.update(
                is_active=False,
                paused_reason=f"Paused after a permanent error: {error} Fix the query or the "
                "SerpApi key, then re-activate the watch.",
            )
        elif failures >= WATCH_MAX_CONSECUTIVE_FAILURES:
            fields.update(
                is_active=False,
                paused_reason=f"Paused after {failures} failed runs in a row. Last error: {error}",
            )
        else:
            minutes = backoff_minutes(interval_minutes=watch.interval_minutes, failures=failures)
            fields["next_run_at"] = now + dt.timedelta(minutes=minutes)
        Watch.objects.filter(pk=watch.pk).update(**fields)
    logger.warning("watch %s run %s failed (%d in a row): %s", watch.pk, watch_run_id, failures, error)
    return True
