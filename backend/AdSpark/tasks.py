"""Celery tasks of AdSpark (routes, limits and retry bounds: ``backend/celery.py``).

Tasks take ids and plain values, load the row, call one service and decide about retries.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from core.tasks import JobTask

from . import services
from .queries import QUERY_FIELDS, FetchParamsError
from .serpapi_client import SerpApiTransientError

logger = logging.getLogger(__name__)


def _summary(run: Any) -> dict[str, Any]:
    return {
        "fetch_run_id": run.pk,
        "status": run.status,
        "pages_fetched": run.pages_fetched,
        "creatives_seen": run.creatives_seen,
        "creatives_new": run.creatives_new,
        "creatives_updated": run.creatives_updated,
        "searches_used": run.searches_used,
        "stop_reason": run.stop_reason,
        "error": run.error,
    }


@shared_task(
    bind=True,
    base=JobTask,
    name="AdSpark.tasks.fetch_creatives_task",
    job_model="AdSpark.FetchRun",
    job_id_kwarg="fetch_run_id",
    autoretry_for=(SerpApiTransientError,),
)
def fetch_creatives_task(
    self: Any,
    fetch_run_id: int | None = None,
    advertiser_ids: str | list[str] | None = None,
    text: str | None = None,
    region: str | None = None,
    platform: str | None = None,
    creative_format: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    political_ads: bool | None = None,
    num: int | None = None,
    max_pages: int | None = None,
) -> dict[str, Any]:
    """Fetch Ads Transparency Center creatives into the database (queue ``data_fetch``).

    Either runs an existing FetchRun (``fetch_run_id``, as the API enqueues it) or accepts the
    seed's call ``fetch_creatives_task.delay(advertiser_ids="AR…", text="…", region="US")``
    and creates the FetchRun itself. Progress is reported after every page (Celery state
    ``PROGRESS`` with ``{"pages_done", "pages_planned", "creatives_seen"}``).

    Returns a summary dict of the run (its status is still ``running`` when another delivery
    holds the run: this one backed off). Transient SerpApi errors are retried with exponential
    backoff and jitter, honouring Retry-After (:class:`core.tasks.JobTask`; ``max_retries`` in
    backend/celery.py), then the run fails; permanent ones fail the run at once.

    Raises:
        FetchParamsError: invalid parameters (no retry).
        SerpApiPermanentError: 400/401/403 or malformed body (the run is marked failed).
    """
    arguments = dict(locals())
    task_id = self.request.id
    if fetch_run_id is None:
        # the keyword arguments are the query's fields (AdSpark.queries.QUERY_FIELDS)
        raw = {name: arguments[name] for name in QUERY_FIELDS}
        try:
            fetch_run_id = services.fetch_run_for_task(task_id=task_id, raw_params=raw).pk
        except FetchParamsError:
            logger.warning("fetch_creatives_task %s: invalid parameters %s", task_id, raw)
            raise

    def on_page(run: Any) -> None:
        self.progress(
            {
                "fetch_run_id": run.pk,
                "pages_done": run.pages_fetched,
                "pages_planned": run.progress_total,
                "creatives_seen": run.creatives_seen,
            }
        )

    run = services.fetch_run_execute(fetch_run_id=fetch_run_id, task_id=task_id, on_page=on_page)
    self.defer_while_leased(run)
    return _summary(run)


@shared_task(
    bind=True,
    base=JobTask,
    name="AdSpark.tasks.fetch_creative_details_task",
    autoretry_for=(SerpApiTransientError,),
)
def fetch_creative_details_task(self: Any, ad_creative_id: str, region: str | None = None) -> dict[str, Any]:
    """Fetch one stored creative's ad details (``google_ads_transparency_center_ad_details``).

    Returns ``{"ad_creative_id", "variations", "no_results"}``. Transient errors are retried.
    """
    details = services.creative_details_fetch(ad_creative_id=ad_creative_id, region=region)
    return {
        "ad_creative_id": ad_creative_id,
        "variations": len(details.variations),
        "no_results": details.no_results,
    }


# --- Watches -------------------------------------------------------------------------------
# Queues, time limits and retry bounds: backend/celery.py. Services: AdSpark/watches/,
# AdSpark/alerts.py, AdSpark/cleanup.py.


@shared_task(
    bind=True,
    base=JobTask,
    name="AdSpark.tasks.process_watch_task",
    job_model="AdSpark.WatchRun",
    job_id_kwarg="watch_run_id",
    autoretry_for=(SerpApiTransientError,),
)
def process_watch_task(self: Any, watch_id: int, watch_run_id: int | None = None) -> dict[str, Any]:
    """Run one watch (queue ``data_fetch``): fetch or share a fetch, record new creatives.

    The dispatcher sends ``process_watch_task(watch_id, watch_run_id=…)``; the seed's
    ``process_watch_task.delay(watch_id)`` creates its WatchRun itself (keyed by task id).
    Returns ``{"watch_id", "watch_run_id", "status", "new_creatives_count", "is_baseline",
    "error"}``; ``status`` is ``running`` when the run waits for a fetch another delivery runs
    (that fetch's end sends this task again). Transient SerpApi errors are retried with
    backoff; after ``max_retries`` the run fails and the watch backs off (see
    AdSpark.watches.services.watch_run_fail). Permanent errors fail the run and pause the watch
    without raising. A watch or run deleted meanwhile ends the task with one log line.
    """
    from .watches import services as watches

    if watch_run_id is None:
        watch_run_id = watches.watch_run_for_task(watch_id=watch_id, task_id=self.request.id).pk
    run = watches.watch_run(watch_run_id=watch_run_id, task_id=self.request.id)
    self.defer_while_leased(run)
    return {
        "watch_id": watch_id,
        "watch_run_id": run.pk,
        "status": run.status,
        "new_creatives_count": run.new_creatives_count,
        "is_baseline": run.is_baseline,
        "error": run.error,
    }


@shared_task(name="AdSpark.tasks.process_all_active_watches_task")
def process_all_active_watches_task() -> dict[str, int]:
    """Dispatch every due watch (queue ``data_fetch``; beat runs it every minute with ``expires``).

    Returns ``{"dispatched": n}``. Safe to run twice at once: each due watch runs once.
    """
    from .watches.dispatch import watches_dispatch_due

    return {"dispatched": watches_dispatch_due()}


@shared_task(bind=True, base=JobTask, name="AdSpark.tasks.send_watch_alert_task")
def send_watch_alert_task(self: Any, watch_run_id: int) -> dict[str, Any]:
    """Email a watch's owner about a run's new creatives (queue ``default``).

    Returns ``{"watch_run_id", "sent": bool}``; mail errors are retried with backoff.
    """
    from .alerts import watch_alert_email_send

    try:
        sent = watch_alert_email_send(watch_run_id=watch_run_id)
    except Exception as exc:  # SMTP and network errors of the email backend
        raise self.retry(exc=exc) from exc
    return {"watch_run_id": watch_run_id, "sent": sent}


@shared_task(bind=True, base=JobTask, name="AdSpark.tasks.deliver_webhook_task")
def deliver_webhook_task(self: Any, delivery_id: int) -> dict[str, Any]:
    """Make one attempt of a signed webhook delivery (queue ``default``); retry with backoff.

    Returns ``{"delivery_id", "done", "status_code", "error"}``. 5xx, 408, 429, timeouts and
    refused connections are retried up to ``max_retries`` times (5 s, 10 s, 20 s … with
    jitter); then the delivery ends as failed with every attempt logged.
    """
    from .alerts import webhook_attempt

    final = self.request.retries >= self.max_retries
    outcome = webhook_attempt(delivery_id=delivery_id, final=final)
    if outcome.retry:
        raise self.retry()
    return {
        "delivery_id": delivery_id,
        "done": outcome.done,
        "status_code": outcome.status_code,
        "error": outcome.error,
    }


@shared_task(name="AdSpark.tasks.cleanup_old_creatives_task")
def cleanup_old_creatives_task(days_old: int = 90) -> dict[str, int]:
    """Delete creatives not shown nor seen for ``days_old`` days (queue ``maintenance``).

    Returns ``{"deleted": n, "protected": n}``; see AdSpark.cleanup for what is kept.
    """
    from .cleanup import creatives_cleanup_old

    return creatives_cleanup_old(days_old=days_old)


# --- Creative archive ----------------------------------------------------------------------
# Services: AdSpark/archive.py. The capture runs on ai_generation (the worker's one browser).


@shared_task(bind=True, base=JobTask, name="AdSpark.tasks.archive_creative_task")
def archive_creative_task(self: Any, creative_id: str) -> dict[str, Any]:
    """Capture creative ``creative_id`` into the archive (queue ``ai_generation``).

    Returns ``{"creative_id", "status", "visual_hash", "error"}`` (status ``gone`` when the
    creative was deleted). A repeated message for a capture that is not pending does nothing.
    Transient errors (timeouts, connection errors, HTTP 5xx, browser hiccups) are retried with
    backoff up to ``max_retries`` (backend/celery.py), then the capture fails with the last
    reason; permanent errors (refused URL, HTTP 4xx, not an image) fail it at once, as do the
    soft time limit and unexpected errors (which are raised).
    """
    from .archive import ArchivePermanentError, ArchiveTransientError, archive_capture, archive_fail

    try:
        row = archive_capture(creative_id=creative_id)
    except ArchiveTransientError as exc:
        if self.request.retries >= (self.max_retries or 0):
            archive_fail(
                creative_id=creative_id, error=f"{exc} (gave up after {self.request.retries + 1} attempts)"
            )
            return {"creative_id": creative_id, "status": "failed", "visual_hash": "", "error": str(exc)}
        raise self.retry(exc=exc) from exc
    except ArchivePermanentError as exc:
        return {"creative_id": creative_id, "status": "failed", "visual_hash": "", "error": str(exc)}
    if row is None:
        return {"creative_id": creative_id, "status": "gone", "visual_hash": "", "error": ""}
    return {
        "creative_id": creative_id,
        "status": row.status,
        "visual_hash": row.visual_hash,
        "error": row.error,
    }


@shared_task(name="AdSpark.tasks.archive_backlog_task")
def archive_backlog_task(limit: int | None = None) -> dict[str, int]:
    """Queue never-archived creatives and requeue lost or stalled captures (queue
    ``maintenance``; beat every 10 minutes). Returns ``{"queued", "requeued"}``."""
    from .archive import archive_backlog

    return archive_backlog(limit=limit)
