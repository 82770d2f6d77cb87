"""Watches: saved queries that AdSpark re-runs on a schedule and that report new creatives.

The life of a watch:

1. :func:`watch_create` / :func:`watch_update` validate the query exactly like a fetch
   (:func:`AdSpark.queries.normalize_fetch_params`) and store its normalised fields.
2. celery beat runs ``process_all_active_watches_task`` every minute; it calls
   :func:`AdSpark.watches.dispatch.watches_dispatch_due`, which creates one pending
   :class:`WatchRun` per due watch and publishes one ``process_watch_task`` each.
3. :func:`watch_run` runs one WatchRun: it finds or makes the :class:`FetchRun` (shared with
   other watches of the same query within ``WATCH_FETCH_SHARE_SECONDS``), runs it unless
   another delivery already does (then it waits without a worker slot and the fetch's end
   resumes it), and when that fetch succeeded records which creatives are new *to this watch*
   (:class:`WatchCreative`). The first success is the baseline and alerts only if the watch
   asks for it.
4. A failed run (:func:`watch_run_fail`) never marks creatives as seen; the watch backs off
   (``interval · 2^failures``, capped) and is paused after ``WATCH_MAX_CONSECUTIVE_FAILURES``
   failures in a row, or at once on a permanent error (invalid key, rejected query).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.celery import hard_time_limit
from core.jobs import job_cancel, job_claim, job_fail, job_succeed
from core.models import ACTIVE_STATUSES, JobStatus
from core.urlsafety import check_url

from ..models import FetchRun, Watch, WatchCreative, WatchRun, WatchTrigger
from ..queries import WATCH_QUERY_FIELDS, FetchParamsError, FetchQuery, normalize_fetch_params
from ..serpapi_client import SerpApiClient, SerpApiPermanentError, SerpApiTransientError
from ..services import fetch_run_create, fetch_run_execute, transient_wait_seconds

logger = logging.getLogger(__name__)

# Watches with the same query share a fetch that started this recently (seconds). Ten minutes
# covers one dispatcher tick's worth of watches even when the data_fetch queue is backed up,
# and is short against the smallest interval (15 min), so no watch reuses stale results.
WATCH_FETCH_SHARE_SECONDS: int = settings.WATCH_FETCH_SHARE_SECONDS
WATCH_MAX_CONSECUTIVE_FAILURES: int = settings.WATCH_MAX_CONSECUTIVE_FAILURES
# The longest backoff interval (minutes): a failing hourly watch goes 2 h, 4 h, 8 h, 16 h, 24 h.
WATCH_MAX_BACKOFF_MINUTES = 24 * 60

QUERY_FIELDS = WATCH_QUERY_FIELDS


# --- validation, create, update ------------------------------------------------------------


def watch_query_normalize(raw: Mapping[str, Any]) -> FetchQuery:
    """Validate a watch's query fields (see ``QUERY_FIELDS``) like a fetch.

    Raises:
        FetchParamsError: ``errors`` by field, as :func:`normalize_fetch_params` gives them.
    """
    return normalize_fetch_params({key: raw.get(key) for key in QUERY_FIELDS if key in raw})


def webhook_url_check(url: str) -> str:
    """Return ``url`` if a webhook may be sent there (the SSRF check of docs/architecture.md).

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


def _fetch_wait_seconds() -> float:
    """How long a run waiting on a fetch may go unresumed before the repair re-sends it (seconds):
    the fetch task's hard time limit; the fetch's end normally resumes it long before."""
    return float(hard_time_limit(FetchRun.TASK_NAME))


def watch_run(
    *,
    watch_run_id: int,
    task_id: str | None = None,
    client: SerpApiClient | None = None,
) -> WatchRun:
    """Run watch run ``watch_run_id``: fetch (or share a fetch) and record the new creatives.

    Claims the row first (a finished run, or one a live delivery holds, is returned untouched,
    so a redelivered task is harmless). A run whose watch was paused after dispatch fails
    without counting as a failure of the watch. Permanent SerpApi errors and invalid stored
    queries fail the run and pause the watch; they are not raised.

    The fetch: a run whose fetch is not finished runs it here, in this delivery, when it can
    claim the fetch's lease (its own fetch, or a shared one nobody has started). When another
    delivery holds the fetch, the run gives its own lease up and returns at once, still
    ``running``: no worker slot waits. The fetch's end publishes the run's continuation
    (:func:`AdSpark.watches.dispatch.fetch_followers_resume`), which records the result.

    Raises:
        SerpApiTransientError: the run stays ``running`` with its fetch checkpoint and no lease
            holder until the retry (Celery's countdown); retry it.
        Watch.DoesNotExist, WatchRun.DoesNotExist: the row is gone (deleted meanwhile).
    """
    lease = job_claim(WatchRun, pk=watch_run_id, task_id=task_id)
    if lease is None:
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

    with lease.heartbeat():
        while True:
            fetch = _fetch_for_run(run, watch, query)
            if fetch.status in ACTIVE_STATUSES:
                try:
                    fetch = fetch_run_execute(fetch_run_id=fetch.pk, task_id=task_id, client=client)
                except SerpApiPermanentError as exc:
                    watch_run_fail(
                        watch_run_id=run.pk, error=f"SerpApi rejected the request: {exc}", permanent=True
                    )
                    return WatchRun.objects.get(pk=run.pk)
                except FetchParamsError as exc:
                    watch_run_fail(watch_run_id=run.pk, error=f"Invalid query: {exc}", permanent=True)
                    return WatchRun.objects.get(pk=run.pk)
                except SerpApiTransientError as exc:
                    lease.release(wait_seconds=transient_wait_seconds(exc))
                    raise
            if fetch.status in ACTIVE_STATUSES:
                # Another delivery runs the fetch: wait without a worker slot (see the docstring).
                lease.release(wait_seconds=_fetch_wait_seconds(), error=f"Waiting for fetch run {fetch.pk}.")
                fetch.refresh_from_db()
                if fetch.status in ACTIVE_STATUSES:
                    logger.info("watch run %s waits for fetch run %s", run.pk, fetch.pk)
                    return WatchRun.objects.get(pk=run.pk)
                # it ended between our look and our release: carry on if nobody else took over
                again = job_claim(WatchRun, pk=run.pk, task_id=task_id)
                if again is None:
                    return WatchRun.objects.get(pk=run.pk)
                lease.owner, lease.lost = again.owner, False
            if fetch.status == JobStatus.CANCELLED:
                job_cancel(WatchRun, pk=run.pk, reason=f"Cancelled: its fetch run {fetch.pk} was cancelled.")
                return WatchRun.objects.get(pk=run.pk)
            if fetch.status == JobStatus.FAILED and run.shared_fetch:
                continue  # another watch's fetch failed: make (or share) a fresh one
            if fetch.status == JobStatus.FAILED:
                watch_run_fail(watch_run_id=run.pk, error=f"The fetch failed: {fetch.error}")
                return WatchRun.objects.get(pk=run.pk)
            return watch_run_record(watch_run_id=run.pk, fetch=fetch)


def watch_run_record(*, watch_run_id: int, fetch: FetchRun) -> WatchRun:
    """Record a succeeded ``fetch`` as the result of running watch run ``watch_run_id``.

    Under a lock on the watch row (two runs of one watch cannot both call a creative new):
    the fetch's ``creative_ids`` not yet seen by the watch become :class:`WatchCreative`
    rows and the run's ``new_creative_ids``; the run succeeds; the watch's failure count is
    reset. After the baseline the next scheduled run is one interval away (not due at once). Alerts (email, webhook) are scheduled after commit when there is something new and
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
        fields: dict[str, Any] = {}
        if baseline:
            # The baseline (often run at once, by hand, right after the watch was saved) counts
            # as this interval's run: the first scheduled run is one interval after it.
            after_baseline = now + dt.timedelta(minutes=watch.interval_minutes)
            if watch.next_run_at is None or watch.next_run_at < after_baseline:
                fields["next_run_at"] = after_baseline
        Watch.objects.filter(pk=watch.pk).update(
            last_run_id=run.pk,
            last_success_at=now,
            consecutive_failures=0,
            baseline_at=Coalesce("baseline_at", Value(now)),
            updated_at=now,
            **fields,
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
