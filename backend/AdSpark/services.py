"""Writes for AdSpark: ingestion of SerpApi pages, fetch runs, creative details.

Ingestion is one page at a time: parse the page's ``ad_creatives``, read the existing rows in
one query, and write each table with one bulk upsert (``INSERT … ON CONFLICT DO UPDATE``),
skipping rows whose content did not change, so replaying a page changes nothing. A run's
checkpoint (pages done, ``next_page_token``, counters) is saved in the same transaction as the
page's rows, so a worker killed between pages resumes where it stopped without double counts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.jobs import (
    JobLeaseLost,
    Lease,
    job_cancel,
    job_claim,
    job_fail,
    job_succeed,
    lease_seconds,
    publish_on_commit,
)
from core.models import JobStatus

from .archive import archive_enqueue
from .models import Advertiser, Creative, CreativeDetails, FetchRun, FetchRunCreative, StopReason
from .parsing import CreativeRecord, ParseError, parse_creative, parse_details
from .queries import FetchQuery, normalize_fetch_params
from .serpapi_client import SerpApiClient, SerpApiPage, SerpApiPermanentError, SerpApiTransientError

logger = logging.getLogger(__name__)

# Creative columns written by the upsert (created_at/updated_at are added by it).
_CREATIVE_COLUMNS = [
    "ad_creative_id",
    "advertiser_id",
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
]


@dataclass
class UpsertResult:
    """What one page did: creatives ``seen`` (distinct ids), ``new`` (inserted), ``updated``
    (existing rows whose content changed), their ids in page order, the ids ``new_ids`` that
    were inserted (stored for the first time), and items skipped as unparseable (``skipped``:
    one message each)."""

    seen: int = 0
    new: int = 0
    updated: int = 0
    creative_ids: list[str] = field(default_factory=list)
    new_ids: list[str] = field(default_factory=list)
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


def _advertiser_upsert(*, records: list[CreativeRecord]) -> None:
    """Upsert the advertisers of ``records`` in one statement, widening first/last seen.

    ``first_seen``/``last_seen`` must be the min/max over all of an advertiser's creatives.
    Creatives' own ``first_shown`` only moves earlier and ``last_shown`` only later (see
    :func:`creative_upsert_page`), so widening the stored range with this page's min/max keeps
    the invariant without aggregating over every creative (which made each page O(creatives)).
    The widening happens inside the database (``LEAST``/``GREATEST``) so concurrent pages of
    the same advertiser cannot overwrite each other's range.
    """
    pages: dict[str, list[Any]] = {}
    for record in records:
        name, first, last = pages.get(record.advertiser_id, [record.advertiser_name, None, None])
        pages[record.advertiser_id] = [
            record.advertiser_name or name,
            _min_dt(first, record.first_shown),
            _max_dt(last, record.last_shown),
        ]
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    table = connection.ops.quote_name(Advertiser._meta.db_table)
    now = timezone.now()
    rows = sorted(pages.items())
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list[Any] = []
    for advertiser_id, (name, first, last) in rows:
        params += [advertiser_id, name, first, last, now, now]
    # COALESCE on both sides: LEAST ignores NULLs on PostgreSQL but SQLite's MIN() does not.
    # Only quoted identifiers and SQL function names are interpolated; values are parameters.
    sql = (
        f"INSERT INTO {table} (advertiser_id, name, first_seen, last_seen, created_at, updated_at) "  # noqa: S608
        f"VALUES {placeholders} ON CONFLICT (advertiser_id) DO UPDATE SET "
        f"name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE {table}.name END, "
        f"first_seen = {least}(COALESCE({table}.first_seen, EXCLUDED.first_seen), "
        f"COALESCE(EXCLUDED.first_seen, {table}.first_seen)), "
        f"last_seen = {greatest}(COALESCE({table}.last_seen, EXCLUDED.last_seen), "
        f"COALESCE(EXCLUDED.last_seen, {table}.last_seen)), "
        f"updated_at = EXCLUDED.updated_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


_JSON_COLUMNS = {"regions", "platforms", "raw"}
_DATETIME_COLUMNS = {"first_shown", "last_shown"}


def _creative_upsert(creatives: list[dict[str, Any]]) -> None:
    """Write ``creatives`` (dicts keyed by column name) with one multi-row ``INSERT … ON CONFLICT DO UPDATE``.

    Hand-written rather than ``bulk_create(update_conflicts=True)``: the ORM spent more time
    preparing 16 values for 100 rows than PostgreSQL spent writing them (bench/ingest.py).
    Values go through the backend's own adapters (datetimes, JSON) so SQLite works too.
    """
    ops = connection.ops
    table = ops.quote_name(Creative._meta.db_table)
    now = ops.adapt_datetimefield_value(timezone.now())
    columns = [*_CREATIVE_COLUMNS, "created_at", "updated_at"]
    params: list[Any] = []
    for creative in creatives:
        for column in _CREATIVE_COLUMNS:
            value = creative[column]
            if column in _JSON_COLUMNS:
                value = json.dumps(value, separators=(",", ":"))
            elif column in _DATETIME_COLUMNS:
                value = ops.adapt_datetimefield_value(value)
            params.append(value)
        params += [now, now]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(
        f"{ops.quote_name(c)} = EXCLUDED.{ops.quote_name(c)}" for c in columns[1:] if c != "created_at"
    )
    sql = (
        f"INSERT INTO {table} ({', '.join(ops.quote_name(c) for c in columns)}) "  # noqa: S608 - identifiers only
        f"VALUES {', '.join([row] * len(creatives))} "
        f"ON CONFLICT ({ops.quote_name('ad_creative_id')}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# One statement per page on PostgreSQL: the page travels as ONE JSON document (parsed by the
# server once, like COPY's input); the merge rules of creative_upsert_page run inside
# ON CONFLICT, whose WHERE leaves unchanged rows alone (no new row version: a replay writes
# nothing); RETURNING (xmax = 0) tells inserted rows from updated ones; and the advertisers of
# the written creatives are upserted in a second data-modifying CTE (their creatives' FK is
# DEFERRABLE INITIALLY DEFERRED, as Django creates it, so it is checked at commit). Measured against the
# SELECT + Python merge + multi-row VALUES it replaced and against COPY: bench/ingest.py.
# Only quoted identifiers are interpolated below; every value is a parameter.
_PAGE_CTES = """
page AS (
    SELECT item.* FROM jsonb_to_recordset(%(page)s::jsonb) AS item(
        ad_creative_id text, advertiser_id text, advertiser_name text, format text,
        image_url text, preview_url text, width integer, height integer, target_domain text,
        first_shown double precision, last_shown double precision, total_days_shown integer,
        details_link text, serpapi_details_link text, raw jsonb)
    /*PAGE_FILTER*/
), written AS (
    INSERT INTO "AdSpark_creative" AS c (
        ad_creative_id, advertiser_id, format, image_url, preview_url, width, height, target_domain,
        first_shown, last_shown, total_days_shown, details_link, serpapi_details_link,
        regions, platforms, raw, created_at, updated_at)
    SELECT ad_creative_id, advertiser_id, format, image_url, preview_url, width, height, target_domain,
           to_timestamp(first_shown), to_timestamp(last_shown), total_days_shown, details_link,
           serpapi_details_link, %(regions)s::jsonb, %(platforms)s::jsonb, raw, %(now)s, %(now)s
    FROM page ORDER BY ad_creative_id
    ON CONFLICT (ad_creative_id) DO UPDATE SET
        advertiser_id = EXCLUDED.advertiser_id, format = EXCLUDED.format,
        image_url = EXCLUDED.image_url, preview_url = EXCLUDED.preview_url,
        width = EXCLUDED.width, height = EXCLUDED.height, target_domain = EXCLUDED.target_domain,
        first_shown = LEAST(c.first_shown, EXCLUDED.first_shown),
        last_shown = GREATEST(c.last_shown, EXCLUDED.last_shown),
        total_days_shown = EXCLUDED.total_days_shown, details_link = EXCLUDED.details_link,
        serpapi_details_link = EXCLUDED.serpapi_details_link,
        regions = CASE WHEN c.regions @> EXCLUDED.regions THEN c.regions ELSE (
            SELECT jsonb_agg(to_jsonb(v) ORDER BY v COLLATE "C")
            FROM (SELECT DISTINCT v FROM jsonb_array_elements_text(c.regions || EXCLUDED.regions) AS v) AS merged) END,
        platforms = CASE WHEN c.platforms @> EXCLUDED.platforms THEN c.platforms ELSE (
            SELECT jsonb_agg(to_jsonb(v) ORDER BY v COLLATE "C")
            FROM (SELECT DISTINCT v FROM jsonb_array_elements_text(c.platforms || EXCLUDED.platforms) AS v) AS merged) END,
        raw = EXCLUDED.raw, updated_at = EXCLUDED.updated_at
    WHERE c.raw <> EXCLUDED.raw OR c.advertiser_id <> EXCLUDED.advertiser_id
       OR NOT c.regions @> EXCLUDED.regions OR NOT c.platforms @> EXCLUDED.platforms
    RETURNING ad_creative_id, (xmax = 0) AS inserted
), advertisers AS (
    -- the advertisers of the creatives written (none on a replay), as the portable path does
    INSERT INTO "AdSpark_advertiser" AS a (advertiser_id, name, first_seen, last_seen, created_at, updated_at)
    SELECT page.advertiser_id,
           COALESCE((array_agg(page.advertiser_name ORDER BY page.ad_creative_id DESC)
                     FILTER (WHERE page.advertiser_name <> ''))[1], ''),
           to_timestamp(min(page.first_shown)), to_timestamp(max(page.last_shown)), %(now)s, %(now)s
    FROM page JOIN written USING (ad_creative_id)
    GROUP BY page.advertiser_id ORDER BY page.advertiser_id
    ON CONFLICT (advertiser_id) DO UPDATE SET
        name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE a.name END,
        first_seen = LEAST(a.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(a.last_seen, EXCLUDED.last_seen),
        updated_at = EXCLUDED.updated_at
)"""
_PAGE_UPSERT_SQL = (
    f"WITH {_PAGE_CTES.replace('/*PAGE_FILTER*/', '')}\nSELECT ad_creative_id, inserted FROM written"
)

# A fetch run's page on PostgreSQL: the page upsert above, the page's new ids as checkpoint rows
# and the run's checkpoint, in ONE statement: with BEGIN and COMMIT three round trips a page
# instead of six, and no ORM objects (1.41 s → 0.86 s for 10,000 creatives on an idle machine,
# bench/ingest.py; bulk_create of 100 FetchRunCreative objects had cost more CPU than the
# upsert's own Python side, bench/ingest.py --profile). The lease is checked first (FOR UPDATE
# on the run's row): a delivery that lost it writes nothing, and the result's last row says
# whether the checkpoint was saved. Measured and not kept: unnest() of per-column arrays
# (slower), and COPY of the new rows straight into the table with only the stored ones upserted
# (5 round trips): alone it wrote 10,000 creatives in 0.85 s against this statement's 1.2 s, but
# in a fetch run it was slower (1.79-2.05 s against 1.57-1.73 s, alternating runs of
# bench/ingest.py): every round trip takes the GIL back from the prefetch thread, which parses
# the next page meanwhile, and each wait can last sys.getswitchinterval() (5 ms).
_PAGE_STORE_SQL = f"""
WITH lease AS (
    SELECT id FROM "AdSpark_fetchrun"
    WHERE id = %(run)s AND status = %(running)s AND lease_owner = %(lease_owner)s
    FOR UPDATE
), {_PAGE_CTES.replace("/*PAGE_FILTER*/", "WHERE EXISTS (SELECT 1 FROM lease)")},
seen AS (
    INSERT INTO "AdSpark_fetchruncreative" (fetch_run_id, creative_id, position)
    SELECT lease.id, new.creative_id, %(position)s + new.n - 1
    FROM lease, unnest(%(new_ids)s::text[]) WITH ORDINALITY AS new(creative_id, n)
    ON CONFLICT (fetch_run_id, creative_id) DO NOTHING
), checkpoint AS (
    UPDATE "AdSpark_fetchrun" SET
        pages_fetched = %(pages_done)s, progress_done = %(pages_done)s,
        progress_total = %(progress_total)s, searches_used = %(searches_used)s,
        creatives_seen = %(creatives_seen)s,
        creatives_new = creatives_new + (SELECT count(*) FROM written WHERE inserted),
        creatives_updated = creatives_updated + (SELECT count(*) FROM written WHERE NOT inserted),
        total_results = %(total_results)s, next_page_token = %(token)s,
        lease_expires_at = %(lease_expires_at)s
    WHERE id = (SELECT id FROM lease)
    RETURNING id
)
SELECT ad_creative_id, inserted FROM written
UNION ALL SELECT NULL, EXISTS (SELECT 1 FROM checkpoint)
"""  # noqa: S608 - composed of the constant SQL above; every value is a parameter


def _unix(value: Any) -> float | None:
    return None if value is None else value.timestamp()


def _page_document(records: dict[str, CreativeRecord]) -> str:
    """The JSON document :data:`_PAGE_UPSERT_SQL` reads: one object per record, times in Unix s."""
    return json.dumps(
        [
            {
                "ad_creative_id": r.ad_creative_id,
                "advertiser_id": r.advertiser_id,
                "advertiser_name": r.advertiser_name,
                "format": r.format,
                "image_url": r.image_url,
                "preview_url": r.preview_url,
                "width": r.width,
                "height": r.height,
                "target_domain": r.target_domain,
                "first_shown": _unix(r.first_shown),
                "last_shown": _unix(r.last_shown),
                "total_days_shown": r.total_days_shown,
                "details_link": r.details_link,
                "serpapi_details_link": r.serpapi_details_link,
                "raw": r.raw,
            }
            for r in records.values()
        ],
        separators=(",", ":"),
    )


def _page_upsert_postgresql(
    page: PreparedPage, *, region: str | None, platform: str | None
) -> list[tuple[str, bool]]:
    """PostgreSQL: write ``page`` with :data:`_PAGE_UPSERT_SQL`; return ``(id, inserted)`` written."""
    params: dict[str, Any] = {
        "page": page.document if page.document is not None else _page_document(page.records),
        "regions": json.dumps([region] if region else []),
        "platforms": json.dumps([platform] if platform else []),
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_UPSERT_SQL, params)
        return [(creative_id, bool(inserted)) for creative_id, inserted in cursor.fetchall()]


def _page_upsert_portable(
    page: PreparedPage, *, region: str | None, platform: str | None
) -> list[tuple[str, bool]]:
    """Any database (SQLite is the local default): the same rules as the PostgreSQL statement,
    in Python. Read the existing rows in one query, merge, and write both tables with one
    multi-row upsert each, skipping unchanged rows. Returns ``(id, inserted)`` written."""
    records = page.records
    ids = sorted(records)  # a fixed order avoids deadlocks between concurrent upserts
    existing = {
        row["ad_creative_id"]: row
        for row in Creative.objects.filter(ad_creative_id__in=ids).values(
            "ad_creative_id",
            "regions",
            "platforms",
            "first_shown",
            "last_shown",
            "raw",
            "advertiser_id",
        )
    }
    written: list[tuple[str, bool]] = []
    to_write: list[dict[str, Any]] = []
    for creative_id in ids:
        record = records[creative_id]
        old = existing.get(creative_id)
        regions = _merged(old["regions"] if old else [], region)
        platforms = _merged(old["platforms"] if old else [], platform)
        first_shown = _min_dt(old["first_shown"], record.first_shown) if old else record.first_shown
        last_shown = _max_dt(old["last_shown"], record.last_shown) if old else record.last_shown
        if (
            old is not None
            and old["raw"] == record.raw
            and old["regions"] == regions
            and old["platforms"] == platforms
            and old["advertiser_id"] == record.advertiser_id
        ):
            continue  # unchanged: a replayed page writes nothing
        written.append((creative_id, old is None))
        to_write.append(
            {
                "ad_creative_id": creative_id,
                "advertiser_id": record.advertiser_id,
                "format": record.format,
                "image_url": record.image_url,
                "preview_url": record.preview_url,
                "width": record.width,
                "height": record.height,
                "target_domain": record.target_domain,
                "first_shown": first_shown,
                "last_shown": last_shown,
                "total_days_shown": record.total_days_shown,
                "details_link": record.details_link,
                "serpapi_details_link": record.serpapi_details_link,
                "regions": regions,
                "platforms": platforms,
                "raw": record.raw,
            }
        )
    if to_write:
        _advertiser_upsert(records=[records[row["ad_creative_id"]] for row in to_write])
        _creative_upsert(to_write)
    return written


def _page_writer() -> Callable[..., list[tuple[str, bool]]]:
    """The page upsert for the connected database (tests run both on PostgreSQL)."""
    return _page_upsert_postgresql if connection.vendor == "postgresql" else _page_upsert_portable


@dataclass
class PreparedPage:
    """A parsed page, ready to write: ``records`` by id (the last item of a duplicated id wins),
    ``skipped`` parse errors, and on PostgreSQL the statement's JSON ``document``."""

    records: dict[str, CreativeRecord]
    skipped: list[str]
    document: str | None = None


def creative_page_prepare(items: list[dict[str, Any]], *, vendor: str | None = None) -> PreparedPage:
    """Parse a page of SerpApi ``ad_creatives`` items without touching the database.

    Thread-safe: a fetch run prepares page N+1 on its prefetch thread while page N is written.
    ``vendor`` (``connection.vendor``) decides whether the PostgreSQL document is built.
    """
    records: dict[str, CreativeRecord] = {}
    skipped: list[str] = []
    for item in items:
        try:
            record = parse_creative(item)
        except ParseError as exc:
            skipped.append(str(exc))
            continue
        records[record.ad_creative_id] = record
    document = _page_document(records) if records and vendor == "postgresql" else None
    return PreparedPage(records=records, skipped=skipped, document=document)


def creative_upsert_page(
    *,
    items: list[dict[str, Any]] | None = None,
    region: str | None = None,
    platform: str | None = None,
    prepared: PreparedPage | None = None,
) -> UpsertResult:
    """Upsert one page of SerpApi ``ad_creatives`` items; idempotent.

    Rules: a new creative gets ``regions``/``platforms`` ``[region]``/``[platform]`` (or
    ``[]``); a stored one is rewritten with the page's values only if its ``raw`` item, its
    advertiser, or its regions/platforms (the sorted union with this page's) change, and then
    keeps the earliest ``first_shown`` and latest ``last_shown``. The advertisers of the
    creatives written get ``first_seen``/``last_seen`` widened to cover them, and a non-empty
    name replaces the old. A replayed page writes nothing. Duplicate ids: the last item wins.

    Args:
        items: raw ``ad_creatives`` dicts from a ``google_ads_transparency_center`` page.
        region: the geo code the page was fetched for (added to each creative's ``regions``).
        platform: the platform filter the page was fetched with (added to ``platforms``).
        prepared: the page already parsed by :func:`creative_page_prepare` (instead of ``items``).

    Returns:
        :class:`UpsertResult`. Statements: one on PostgreSQL, at most three elsewhere.
    """
    page = prepared if prepared is not None else creative_page_prepare(items or [], vendor=connection.vendor)
    if not page.records:
        return _upsert_result(page, [])
    # savepoint=False: inside a fetch run's page transaction a savepoint is two more round trips.
    with transaction.atomic(savepoint=False):
        written = _page_writer()(page, region=region, platform=platform)
    return _upsert_result(page, written)


def _upsert_result(page: PreparedPage, written: list[tuple[str, bool]]) -> UpsertResult:
    """The :class:`UpsertResult` of ``page`` whose rows ``written`` were ``(id, inserted)``."""
    inserted = {creative_id for creative_id, was_inserted in written if was_inserted}
    new_ids = [creative_id for creative_id in page.records if creative_id in inserted]  # page order
    return UpsertResult(
        seen=len(page.records),
        new=len(new_ids),
        updated=len(written) - len(new_ids),
        creative_ids=list(page.records),
        new_ids=new_ids,
        skipped=list(page.skipped),
    )


def fetch_run_create(*, owner: Any, query: FetchQuery, enqueue: bool = True) -> FetchRun:
    """Create a pending :class:`FetchRun` for ``query`` and enqueue its task after commit.

    The Celery task id is chosen here and stored on the row before the message is sent, so the
    202 response can name it and ``/api/tasks/{task_id}/`` finds the row at once.
    """
    from backend.celery import app

    task_id = str(uuid.uuid4())
    run = FetchRun.objects.create(
        owner=owner,
        params=query.as_dict(),
        query_fingerprint=query.fingerprint(),
        celery_task_id=task_id,
        progress_total=query.max_pages,
    )
    if enqueue:
        publish_on_commit(
            # by name (a signature), not by importing the tasks module: tasks import services
            lambda: app.signature(FetchRun.TASK_NAME, kwargs={"fetch_run_id": run.pk}).apply_async(
                task_id=task_id
            ),
            what=f"fetch run {run.pk}",
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


def transient_wait_seconds(exc: SerpApiTransientError) -> float:
    """The longest a job waits before retrying after ``exc`` (seconds): the retry backoff's cap,
    or the wait SerpApi or our rate limiter named (``retry_after``) when that is longer. A job
    waiting that long on its countdown is not stuck."""
    return max(float(settings.RETRY_BACKOFF_CAP), float(exc.retry_after or 0.0))


def fetch_run_execute(
    *,
    fetch_run_id: int,
    task_id: str | None = None,
    client: SerpApiClient | None = None,
    on_page: PageCallback | None = None,
) -> FetchRun:
    """Run (or resume) fetch run ``fetch_run_id`` page by page until it ends.

    Claims the row's lease (:func:`core.jobs.job_claim`): a finished run, or one another
    delivery holds, is returned untouched without any SerpApi call. Then follows
    ``next_page_token`` from the saved checkpoint up to ``max_pages`` pages and
    ``SERPAPI_MAX_SEARCHES_PER_RUN`` searches, upserting each page and saving the checkpoint
    with it, renewing the lease between pages (a heartbeat renews it during a page too). A run
    cancelled meanwhile (or taken over after a stall) stops before the next page. ``on_page``
    is called with the refreshed row after every page (progress bars, Celery ``update_state``).

    Raises:
        SerpApiTransientError: the run stays ``running`` with its checkpoint, its lease given up
            until the retry (see :func:`transient_wait_seconds`); retry it.
        SerpApiPermanentError, FetchParamsError: the run is marked ``failed`` first.
    """
    lease = job_claim(FetchRun, pk=fetch_run_id, task_id=task_id)
    if lease is None:
        return FetchRun.objects.get(pk=fetch_run_id)
    run = FetchRun.objects.get(pk=fetch_run_id)
    if run.retry_at is not None:  # the retry it waited for is this delivery
        FetchRun.objects.filter(pk=run.pk).update(retry_at=None)
    try:
        query = normalize_fetch_params(run.params)
    except ValueError as exc:
        job_fail(FetchRun, pk=run.pk, error=f"Invalid parameters: {exc}")
        raise
    client = client or SerpApiClient()
    budget = settings.SERPAPI_MAX_SEARCHES_PER_RUN
    token = run.next_page_token or None
    # Local copies of the checkpoint: the row is written after every page, never re-read.
    pages_done, searches_used, total_results = run.pages_fetched, run.searches_used, run.total_results
    seen_ids: list[str] = _seen_ids(run)
    seen_set = set(seen_ids)
    planned = run.progress_total or query.max_pages
    # New creatives of this run captured at once (the rest wait for the backlog): the cap less
    # those already counted, so a resumed run does not start over.
    archive_budget = [
        max(0, settings.ARCHIVE_PER_RUN_CAP - run.creatives_new) if settings.ARCHIVE_ENABLED else 0
    ]
    stop_reason = StopReason.LAST_PAGE if pages_done and not token else StopReason.MAX_PAGES
    # While a page is written, the next one is already being fetched and parsed (one request
    # ahead, only within max_pages and the budget): HTTP, parsing and the database overlap
    # (bench/ingest.py; the writing thread waits on PostgreSQL with the GIL released).
    prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"fetch-run-{run.pk}")
    vendor = connection.vendor
    ahead: Future[tuple[SerpApiPage, PreparedPage]] | None = None
    try:
        with lease.heartbeat():
            while token or pages_done == 0:
                if pages_done >= query.max_pages:
                    stop_reason = StopReason.MAX_PAGES
                    break
                if searches_used >= budget:
                    stop_reason = StopReason.SEARCH_BUDGET
                    break
                if ahead is None:
                    # stops here if the run was cancelled or taken over, before a search is
                    # spent; a prefetched page's search is spent already, and its checkpoint
                    # UPDATE (lease holder only, in the page's transaction) renews the lease
                    # and refuses a lost one, so no extra round trip and commit per page
                    lease.renew()
                try:
                    page, prepared = (
                        ahead.result() if ahead is not None else _page_fetch(client, query, token, vendor)
                    )
                except SerpApiPermanentError as exc:
                    job_fail(FetchRun, pk=run.pk, error=str(exc))
                    raise
                except SerpApiTransientError as exc:
                    lease.release(wait_seconds=transient_wait_seconds(exc))
                    raise
                ahead = None
                token = page.next_page_token
                if (
                    token
                    and pages_done + 1 < query.max_pages
                    and searches_used + 1 < budget
                    and not page.no_results
                ):
                    ahead = prefetch.submit(_page_fetch, client, query, token, vendor)
                pages_done, searches_used, total_results, planned, upserted = _store_page(
                    run_pk=run.pk,
                    lease=lease,
                    query=query,
                    page=page,
                    prepared=prepared,
                    token=token,
                    pages_done=pages_done,
                    searches_used=searches_used,
                    total_results=total_results,
                    planned=planned,
                    seen_ids=seen_ids,
                    seen_set=seen_set,
                    archive_budget=archive_budget,
                )
                if upserted.skipped:
                    logger.warning(
                        "fetch run %s skipped %d items: %s",
                        run.pk,
                        len(upserted.skipped),
                        upserted.skipped[:3],
                    )
                if on_page is not None:
                    on_page(FetchRun.objects.defer("creative_ids").get(pk=run.pk))
                if page.no_results:
                    stop_reason = StopReason.NO_RESULTS
                    break
                if not token:
                    stop_reason = StopReason.LAST_PAGE
                    break
    except JobLeaseLost as exc:
        logger.warning("fetch run %s stopped before its next page: %s", run.pk, exc)
        return FetchRun.objects.get(pk=run.pk)
    finally:
        prefetch.shutdown(wait=False, cancel_futures=True)
    with transaction.atomic():
        if job_succeed(
            FetchRun,
            pk=run.pk,
            lease=lease,
            stop_reason=stop_reason,
            progress_done=pages_done,
            progress_total=pages_done or 1,
            creative_ids=seen_ids,
        ):
            FetchRunCreative.objects.filter(fetch_run_id=run.pk).delete()
    run.refresh_from_db()
    logger.info(
        "fetch run %s %s: %d pages, %d creatives (%d new, %d updated), stop=%s",
        run.pk,
        run.status,
        run.pages_fetched,
        run.creatives_seen,
        run.creatives_new,
        run.creatives_updated,
        stop_reason,
    )
    return run


def _seen_ids(run: FetchRun) -> list[str]:
    """The creative ids run ``run`` saw so far, in order (its checkpoint rows, else its list)."""
    rows = list(
        FetchRunCreative.objects.filter(fetch_run_id=run.pk)
        .order_by("position")
        .values_list("creative_id", flat=True)
    )
    return rows or list(run.creative_ids)


def _page_fetch(
    client: SerpApiClient, query: FetchQuery, token: str | None, vendor: str
) -> tuple[SerpApiPage, PreparedPage]:
    """Fetch one page and parse it (no database access: runs on the prefetch thread too)."""
    page = client.search_page(query, next_page_token=token)
    return page, creative_page_prepare(page.creatives, vendor=vendor)


def _store_page(
    *,
    run_pk: int,
    lease: Lease,
    query: FetchQuery,
    page: SerpApiPage,
    prepared: PreparedPage,
    token: str | None,
    pages_done: int,
    searches_used: int,
    total_results: int | None,
    planned: int,
    seen_ids: list[str],
    seen_set: set[str],
    archive_budget: list[int],
) -> tuple[int, int, int | None, int, UpsertResult]:
    """Upsert one page and save the run's checkpoint in the same transaction.

    Creatives stored for the first time are queued for the archive (after commit), while
    ``archive_budget[0]`` (what is left of ``ARCHIVE_PER_RUN_CAP``) lasts; it is decreased.

    Returns the new ``(pages_done, searches_used, total_results, planned, upserted)``;
    ``seen_ids``/``seen_set`` are extended in place.
    """
    pages_done += 1
    searches_used += 1
    if page.total_results is not None and total_results is None:
        total_results = page.total_results
        planned = min(query.max_pages, max(1, math.ceil(page.total_results / query.num)))
    if not token:
        planned = pages_done
    new_ids = [creative_id for creative_id in prepared.records if creative_id not in seen_set]
    checkpoint = {
        "pages_done": pages_done,
        "progress_total": max(planned, pages_done),
        "searches_used": searches_used,
        "creatives_seen": len(seen_ids) + len(new_ids),
        "total_results": total_results,
        "token": token or "",
        "lease_expires_at": timezone.now() + dt.timedelta(seconds=lease_seconds()),
    }
    store = _page_store_postgresql if connection.vendor == "postgresql" else _page_store_portable
    with transaction.atomic():
        upserted, saved = store(
            run_pk=run_pk,
            lease=lease,
            query=query,
            prepared=prepared,
            new_ids=new_ids,
            position=len(seen_ids),
            **checkpoint,
        )
        if not saved:
            transaction.set_rollback(True)
        elif archive_budget[0] > 0 and upserted.new_ids:
            archive_budget[0] -= len(archive_enqueue(upserted.new_ids[: archive_budget[0]]))
    if not saved:
        # Only the lease holder writes the checkpoint: a delivery that lost its lease (its row
        # was taken over) wrote nothing of its page instead of counting it twice.
        lease.lost = True
        raise JobLeaseLost(FetchRun, run_pk, "no longer held")
    seen_set.update(new_ids)
    seen_ids.extend(new_ids)
    return pages_done, searches_used, total_results, planned, upserted


def _page_store_postgresql(
    *,
    run_pk: int,
    lease: Lease,
    query: FetchQuery,
    prepared: PreparedPage,
    new_ids: list[str],
    position: int,
    **checkpoint: Any,
) -> tuple[UpsertResult, bool]:
    """PostgreSQL: a fetch run's page and checkpoint with :data:`_PAGE_STORE_SQL`, in the
    caller's transaction, committed asynchronously. ``new_ids`` (the page's ids the run had not seen)
    become checkpoint rows from ``position`` on; ``checkpoint`` holds the run's new counters.
    Returns the page's :class:`UpsertResult` and whether the checkpoint was saved (False: the
    lease was lost, and nothing was written)."""
    params = {
        "page": prepared.document if prepared.document is not None else _page_document(prepared.records),
        "regions": json.dumps([query.region] if query.region else []),
        "platforms": json.dumps([query.platform] if query.platform else []),
        "now": timezone.now(),
        "run": run_pk,
        "running": JobStatus.RUNNING.value,
        "lease_owner": lease.owner,
        "new_ids": new_ids,
        "position": position,
        **checkpoint,
    }
    with connection.cursor() as cursor:
        # Asynchronous commit for page transactions: a crash can lose the last few pages'
        # commits (PostgreSQL bounds it at 3 × wal_writer_delay), never half of one, and as
        # the checkpoint is in the same transaction the run resumes before them and upserts
        # them again (idempotent). It saves a WAL flush per page (bench/ingest.py --profile).
        # The run's end (job_succeed) still commits synchronously. Sent with the statement.
        cursor.execute("SET LOCAL synchronous_commit TO OFF;" + _PAGE_STORE_SQL, params)
        *written, (_, saved) = cursor.fetchall()
    return _upsert_result(
        prepared, [(creative_id, bool(inserted)) for creative_id, inserted in written]
    ), bool(saved)


def _page_store_portable(
    *,
    run_pk: int,
    lease: Lease,
    query: FetchQuery,
    prepared: PreparedPage,
    new_ids: list[str],
    position: int,
    **checkpoint: Any,
) -> tuple[UpsertResult, bool]:
    """Any database: :func:`creative_upsert_page`, the new ids' rows and the checkpoint UPDATE
    (lease holder only), in the caller's transaction (which rolls back when the lease was
    lost). Arguments and result as :func:`_page_store_postgresql`."""
    upserted = creative_upsert_page(prepared=prepared, region=query.region, platform=query.platform)
    FetchRunCreative.objects.bulk_create(
        [
            FetchRunCreative(fetch_run_id=run_pk, creative_id=creative_id, position=position + n)
            for n, creative_id in enumerate(new_ids)
        ],
        ignore_conflicts=True,
    )
    saved = FetchRun.objects.filter(pk=run_pk, status=JobStatus.RUNNING, lease_owner=lease.owner).update(
        pages_fetched=checkpoint["pages_done"],
        progress_done=checkpoint["pages_done"],
        progress_total=checkpoint["progress_total"],
        searches_used=checkpoint["searches_used"],
        creatives_seen=checkpoint["creatives_seen"],
        creatives_new=F("creatives_new") + upserted.new,
        creatives_updated=F("creatives_updated") + upserted.updated,
        total_results=checkpoint["total_results"],
        next_page_token=checkpoint["token"],
        lease_expires_at=checkpoint["lease_expires_at"],
    )
    return upserted, bool(saved)


def fetch_run_fail(*, fetch_run_id: int, error: str) -> bool:
    """Mark fetch run ``fetch_run_id`` failed with ``error``; False if it had already ended."""
    return job_fail(FetchRun, pk=fetch_run_id, error=error)


def fetch_run_cancel(*, fetch_run_id: int) -> bool:
    """Cancel fetch run ``fetch_run_id`` (pending, running or waiting for a retry).

    The row becomes ``cancelled`` at once (a conditional UPDATE, :func:`core.jobs.job_cancel`):
    a delivery that is fetching stops before its next page (its lease renewal fails), and a
    delivery that starts later, such as the retry of a transient error waiting on its countdown
    (an ETA message), finds the row finished and does nothing. After commit the task is also
    revoked (``app.control.revoke``) so workers drop that waiting message instead of waking up for
    it; a broker that cannot be reached only costs that shortcut (logged), never the cancel.

    Returns False if the run had already ended (succeeded, failed or cancelled).
    """
    from backend.celery import app

    run = FetchRun.objects.only("celery_task_id").get(pk=fetch_run_id)
    with transaction.atomic():
        cancelled = job_cancel(FetchRun, pk=fetch_run_id, reason="Cancelled by its owner.", retry_at=None)
    if cancelled and run.celery_task_id:
        task_id = run.celery_task_id
        publish_on_commit(lambda: app.control.revoke(task_id), what=f"the revoke of fetch run {fetch_run_id}")
    return cancelled


def fetch_run_note_retry(*, fetch_run_id: int, error: str, countdown: float) -> None:
    """Record on a running fetch run that a transient error will be retried in ``countdown`` s."""
    FetchRun.objects.filter(pk=fetch_run_id, status=JobStatus.RUNNING).update(
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
    *,
    query: FetchQuery,
    client: SerpApiClient | None = None,
    on_page: Callable[[DryRunResult], None] | None = None,
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
