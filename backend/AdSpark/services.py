"""Writes for AdSpark: ingestion of SerpApi pages, fetch runs, creative details.

Ingestion is one page at a time: parse the page's ``ad_creatives``, read the existing rows in
one query, and write each table with one bulk upsert (``INSERT … ON CONFLICT DO UPDATE``),
skipping rows whose content did not change, so replaying a page changes nothing. A run's
checkpoint (pages done, ``next_page_token``, counters) is saved in the same transaction as the
page's rows, so a worker killed between pages resumes where it stopped without double counts.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Min, OuterRef, Subquery

from core.jobs import job_claim, job_fail, job_succeed

from .models import Advertiser, Creative, CreativeDetails, FetchRun, StopReason
from .parsing import CreativeRecord, ParseError, parse_creative, parse_details
from .queries import FetchQuery, normalize_fetch_params
from .serpapi_client import SerpApiClient, SerpApiPermanentError

logger = logging.getLogger(__name__)

# Creative columns rewritten on conflict (everything but the key and created_at).
_CREATIVE_UPDATE_FIELDS = [
    "advertiser",
    "format",
    "image_url",
    "preview_url",
    "width",
    "height",
    "target_domain",
    "first_shown",
    "last_shown",
    "total_days_shown",
    "details_link",
    "serpapi_details_link",
    "regions",
    "platforms",
    "raw",
    "updated_at",
]


@dataclass
class UpsertResult:
    """What one page did: creatives ``seen`` (distinct ids), ``new`` (inserted), ``updated``
    (existing rows whose content changed), their ids in page order, and items skipped as
    unparseable (``skipped``: one message each)."""

    seen: int = 0
    new: int = 0
    updated: int = 0
    creative_ids: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _merged(existing: Iterable[str], extra: str | None) -> list[str]:
    values = set(existing)
    if extra:
        values.add(extra)
    return sorted(values)


def _min_dt(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _max_dt(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def creative_upsert_page(
    *, items: list[dict[str, Any]], region: str | None = None, platform: str | None = None
) -> UpsertResult:
    """Upsert one page of SerpApi ``ad_creatives`` items; idempotent.

    Args:
        items: raw ``ad_creatives`` dicts from a ``google_ads_transparency_center`` page.
        region: the geo code the page was fetched for (added to each creative's ``regions``).
        platform: the platform filter the page was fetched with (added to ``platforms``).

    Returns:
        :class:`UpsertResult`. Statements: one SELECT of existing creatives, at most one
        upsert per table (advertisers, creatives) and one UPDATE of the advertisers'
        first_seen/last_seen (min/max over all their creatives).
    """
    result = UpsertResult()
    records: dict[str, CreativeRecord] = {}
    for item in items:
        try:
            record = parse_creative(item)
        except ParseError as exc:
            result.skipped.append(str(exc))
            continue
        records[record.ad_creative_id] = record
    result.creative_ids = list(records)
    result.seen = len(records)
    if not records:
        return result

    ids = sorted(records)  # a fixed order avoids deadlocks between concurrent upserts
    with transaction.atomic():
        existing = {
            row["ad_creative_id"]: row
            for row in Creative.objects.filter(ad_creative_id__in=ids).values(
                "ad_creative_id", "regions", "platforms", "first_shown", "last_shown", "raw",
                "advertiser_id",
            )
        }
        advertisers = {}
        for record in records.values():
            advertisers[record.advertiser_id] = Advertiser(
                advertiser_id=record.advertiser_id, name=record.advertiser_name
            )
        to_write: list[Creative] = []
        for creative_id in ids:
            record = records[creative_id]
            old = existing.get(creative_id)
            regions = _merged(old["regions"] if old else [], region)
            platforms = _merged(old["platforms"] if old else [], platform)
            first_shown = _min_dt(old["first_shown"], record.first_shown) if old else record.first_shown
            last_shown = _max_dt(old["last_shown"], record.last_shown) if old else record.last_shown
            if old is None:
                result.new += 1
            elif (
                old["raw"] == record.raw
                and old["regions"] == regions
                and old["platforms"] == platforms
                and old["advertiser_id"] == record.advertiser_id
            ):
                continue  # unchanged: a replayed page writes nothing
            else:
                result.updated += 1
            to_write.append(
                Creative(
                    ad_creative_id=creative_id,
                    advertiser_id=record.advertiser_id,
                    format=record.format,
                    image_url=record.image_url,
                    preview_url=record.preview_url,
                    width=record.width,
                    height=record.height,
                    target_domain=record.target_domain,
                    first_shown=first_shown,
                    last_shown=last_shown,
                    total_days_shown=record.total_days_shown,
                    details_link=record.details_link,
                    serpapi_details_link=record.serpapi_details_link,
                    regions=regions,
                    platforms=platforms,
                    raw=record.raw,
                )
            )
        if not to_write:
            return result
        changed_advertisers = sorted({c.advertiser_id for c in to_write})
        Advertiser.objects.bulk_create(
            [advertisers[a] for a in changed_advertisers],
            update_conflicts=True,
            unique_fields=["advertiser_id"],
            update_fields=["name", "updated_at"],
        )
        Creative.objects.bulk_create(
            to_write,
            update_conflicts=True,
            unique_fields=["ad_creative_id"],
            update_fields=_CREATIVE_UPDATE_FIELDS,
        )
        mine = Creative.objects.filter(advertiser_id=OuterRef("pk")).order_by().values("advertiser_id")
        Advertiser.objects.filter(advertiser_id__in=changed_advertisers).update(
            first_seen=Subquery(mine.annotate(v=Min("first_shown")).values("v")[:1]),
            last_seen=Subquery(mine.annotate(v=Max("last_shown")).values("v")[:1]),
        )
    return result


def fetch_run_create(*, owner: Any, query: FetchQuery, enqueue: bool = True) -> FetchRun:
    """Create a pending :class:`FetchRun` for ``query`` and enqueue its task after commit.

    The Celery task id is chosen here and stored on the row before the message is sent, so the
    202 response can name it and ``/api/tasks/{task_id}/`` finds the row at once.
    """
    from .tasks import fetch_creatives_task

    task_id = str(uuid.uuid4())
    run = FetchRun.objects.create(
        owner=owner,
        params=query.as_dict(),
        query_fingerprint=query.fingerprint(),
        celery_task_id=task_id,
        progress_total=query.max_pages,
    )
    if enqueue:
        transaction.on_commit(
            lambda: fetch_creatives_task.apply_async(kwargs={"fetch_run_id": run.pk}, task_id=task_id)
        )
    return run


def fetch_run_for_task(*, task_id: str, raw_params: dict[str, Any]) -> FetchRun:
    """Return the FetchRun of task ``task_id``, creating it from ``raw_params`` if needed.

    This is how the seed's ``fetch_creatives_task.delay(advertiser_ids=…, region=…)`` gets
    its durable row; a redelivered message finds the same row (keyed by task id).

    Raises:
        AdSpark.queries.FetchParamsError: ``raw_params`` are invalid (no row is created).
    """
    existing = FetchRun.objects.filter(celery_task_id=task_id).first()
    if existing is not None:
        return existing
    query = normalize_fetch_params(raw_params)
    run, _ = FetchRun.objects.get_or_create(
        celery_task_id=task_id,
        defaults={
            "params": query.as_dict(),
            "query_fingerprint": query.fingerprint(),
            "progress_total": query.max_pages,
        },
    )
    return run


PageCallback = Callable[[FetchRun], None]


def fetch_run_execute(
    *,
    fetch_run_id: int,
    task_id: str | None = None,
    client: SerpApiClient | None = None,
    on_page: PageCallback | None = None,
) -> FetchRun:
    """Run (or resume) fetch run ``fetch_run_id`` page by page until it ends.

    Claims the row (a finished run is returned untouched), then follows ``next_page_token``
    from the saved checkpoint up to ``max_pages`` pages and ``SERPAPI_MAX_SEARCHES_PER_RUN``
    searches, upserting each page and saving the checkpoint with it. ``on_page`` is called with
    the refreshed row after every page (progress bars, Celery ``update_state``).

    Raises:
        SerpApiTransientError: the run stays ``running`` with its checkpoint; retry it.
        SerpApiPermanentError, FetchParamsError: the run is marked ``failed`` first.
    """
    if not job_claim(FetchRun, pk=fetch_run_id, task_id=task_id):
        return FetchRun.objects.get(pk=fetch_run_id)
    run = FetchRun.objects.get(pk=fetch_run_id)
    try:
        query = normalize_fetch_params(run.params)
    except ValueError as exc:
        job_fail(FetchRun, pk=run.pk, error=f"Invalid parameters: {exc}")
        raise
    client = client or SerpApiClient()
    budget = settings.SERPAPI_MAX_SEARCHES_PER_RUN
    token = run.next_page_token or None
    stop_reason = StopReason.MAX_PAGES
    if run.pages_fetched and not token:
        stop_reason = StopReason.LAST_PAGE  # resumed after the last page was stored
    while token or run.pages_fetched == 0:
        if run.pages_fetched >= query.max_pages:
            stop_reason = StopReason.MAX_PAGES
            break
        if run.searches_used >= budget:
            stop_reason = StopReason.SEARCH_BUDGET
            break
        try:
            page = client.search_page(query, next_page_token=token)
        except SerpApiPermanentError as exc:
            job_fail(FetchRun, pk=run.pk, error=str(exc))
            raise
        token = page.next_page_token
        with transaction.atomic():
            upserted = creative_upsert_page(
                items=page.creatives, region=query.region, platform=query.platform
            )
            planned = query.max_pages
            if page.total_results is not None and not run.total_results:
                planned = min(planned, max(1, math.ceil(page.total_results / query.num)))
            pages_done = run.pages_fetched + 1
            if not token:
                planned = pages_done
            seen_ids = list(dict.fromkeys([*run.creative_ids, *upserted.creative_ids]))
            FetchRun.objects.filter(pk=run.pk).update(
                pages_fetched=F("pages_fetched") + 1,
                progress_done=pages_done,
                progress_total=max(planned, pages_done),
                searches_used=F("searches_used") + 1,
                creatives_seen=len(seen_ids),
                creatives_new=F("creatives_new") + upserted.new,
                creatives_updated=F("creatives_updated") + upserted.updated,
                total_results=page.total_results if page.total_results is not None else run.total_results,
                next_page_token=token or "",
                creative_ids=seen_ids,
            )
        run.refresh_from_db()
        if upserted.skipped:
            logger.warning("fetch run %s skipped %d items: %s", run.pk, len(upserted.skipped), upserted.skipped[:3])
        if on_page is not None:
            on_page(run)
        if page.no_results:
            stop_reason = StopReason.NO_RESULTS
            break
        if not token:
            stop_reason = StopReason.LAST_PAGE
            break
    job_succeed(FetchRun, pk=run.pk, stop_reason=stop_reason, progress_done=run.pages_fetched,
                progress_total=run.pages_fetched or 1)
    run.refresh_from_db()
    logger.info(
        "fetch run %s succeeded: %d pages, %d creatives (%d new, %d updated), stop=%s",
        run.pk, run.pages_fetched, run.creatives_seen, run.creatives_new, run.creatives_updated, stop_reason,
    )
    return run


def fetch_run_fail(*, fetch_run_id: int, error: str) -> bool:
    """Mark fetch run ``fetch_run_id`` failed with ``error``; False if it had already ended."""
    return job_fail(FetchRun, pk=fetch_run_id, error=error)


def fetch_run_note_retry(*, fetch_run_id: int, error: str, countdown: float) -> None:
    """Record on a running fetch run that a transient error will be retried in ``countdown`` s."""
    FetchRun.objects.filter(pk=fetch_run_id).update(
        retries=F("retries") + 1, error=f"Retrying in {countdown:.0f} s after: {error}"[:4000]
    )


def creative_details_fetch(
    *, ad_creative_id: str, region: str | None = None, client: SerpApiClient | None = None
) -> CreativeDetails:
    """Fetch and store the ad-details response for an already stored creative.

    ``region`` defaults to the first region the creative was seen under.

    Raises:
        Creative.DoesNotExist: the creative is not stored.
        SerpApiTransientError, SerpApiPermanentError: as raised by the client.
    """
    creative = Creative.objects.get(pk=ad_creative_id)
    region = region or (creative.regions[0] if creative.regions else None)
    data = (client or SerpApiClient()).ad_details(
        advertiser_id=creative.advertiser_id, creative_id=creative.ad_creative_id, region=region
    )
    fields = parse_details(data)
    details, _ = CreativeDetails.objects.update_or_create(creative=creative, defaults=fields)
    return details


@dataclass
class DryRunResult:
    """What a fetch would store: pages fetched, creatives seen, of which already stored."""

    pages: int = 0
    creatives_seen: int = 0
    already_stored: int = 0
    skipped: int = 0
    searches_used: int = 0
    stop_reason: str = ""


def fetch_dry_run(
    *, query: FetchQuery, client: SerpApiClient | None = None, on_page: Callable[[DryRunResult], None] | None = None
) -> DryRunResult:
    """Fetch the pages of ``query`` and parse them without writing anything.

    Spends SerpApi searches like a real fetch (one per page, within the rate limit).

    Raises:
        SerpApiTransientError, SerpApiPermanentError: as raised by the client.
    """
    client = client or SerpApiClient()
    result = DryRunResult(stop_reason=StopReason.MAX_PAGES)
    seen: set[str] = set()
    token: str | None = None
    while result.pages < query.max_pages:
        page = client.search_page(query, next_page_token=token)
        result.pages += 1
        result.searches_used += 1
        ids = []
        for item in page.creatives:
            try:
                ids.append(parse_creative(item).ad_creative_id)
            except ParseError:
                result.skipped += 1
        seen.update(ids)
        result.creatives_seen = len(seen)
        result.already_stored = Creative.objects.filter(ad_creative_id__in=seen).count()
        if on_page is not None:
            on_page(result)
        token = page.next_page_token
        if page.no_results:
            result.stop_reason = StopReason.NO_RESULTS
            break
        if not token:
            result.stop_reason = StopReason.LAST_PAGE
            break
    return result
