"""Every job runs once (issue 10), proven with real processes: workers, Redis, PostgreSQL and the
local SerpApi server counting requests.

* kill -9 of a data_fetch worker in the middle of a watch's fetch while copies of both
  messages are redelivered and the stuck-run repair re-queues both rows: the pages left are
  requested exactly once, no creative is stored twice, each run ends once;
* the broker loses a committed run's message (Redis flushed): the repair publishes it again;
* 20 watches on one query at the same minute: one fetch, 20 recorded runs, no slot waiting;
* a revoked fetch stops between two pages.

Run with ``-s`` to read what each test injected and measured.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Count

from AdSpark.models import Creative, FetchRun, Watch, WatchCreative, WatchRun
from AdSpark.queries import normalize_fetch_params
from AdSpark.services import fetch_run_create
from AdSpark.watches.dispatch import watch_run_create, watches_dispatch_due
from AdSpark.watches.services import watch_create
from core.jobs import revoke_job
from core.maintenance import stuck_runs_repair
from tests.conftest import TESLA, WorkerProcess, wait_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The Tesla recording holds 40 creatives; pages of 5 make the local server cut it into 8 pages.
TESLA_CREATIVES = 40
TESLA_PAGES = 8
# Short leases so a dead worker's rows lapse in seconds (production: 30 s lease, 10 s beats).
LEASE_SECONDS = 6
HEARTBEAT_SECONDS = 2
JOB_ENV = {
    "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
    "JOB_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
    "SERPAPI_PAGE_SIZE": "5",
    # Redis hands an unacknowledged message to another worker after 5 s: redelivered copies
    # of the killed worker's messages race the repair's copies.
    "CELERY_VISIBILITY_TIMEOUT": "5",
}


@pytest.fixture
def short_leases(settings):  # type: ignore[no-untyped-def]
    """The test process (which runs the repair) uses the workers' lease settings."""
    settings.JOB_LEASE_SECONDS = LEASE_SECONDS
    settings.JOB_HEARTBEAT_SECONDS = HEARTBEAT_SECONDS
    settings.SERPAPI_PAGE_SIZE = 5
    return settings


@pytest.fixture
def workers(ops_env, short_leases):  # type: ignore[no-untyped-def]
    """Start data_fetch workers (prefork) with short leases; all are stopped afterwards."""
    started: list[WorkerProcess] = []

    def start(name: str, *, concurrency: int = 2, queues: str = "data_fetch") -> WorkerProcess:
        worker = WorkerProcess(queues=queues, env={**ops_env, **JOB_ENV}, concurrency=concurrency, name=name)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop(timeout=20)
        if worker.process is not None and worker.process.poll() is None:
            worker.kill()


class LogTail:
    """Lines a worker wrote to its log since this object was made (its log file is appended to)."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def text(self) -> str:
        if not self.path.exists():
            return ""
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            return handle.read().decode("utf-8", "replace")


def tesla_watch(owner, name: str = "Tesla US") -> Watch:  # type: ignore[no-untyped-def]
    query = normalize_fetch_params({"advertiser_ids": TESLA, "region": "2840", "max_pages": 10})
    return watch_create(owner=owner, name=name, query=query)


def duplicate_creatives() -> int:
    return Creative.objects.values("ad_creative_id").annotate(n=Count("pk")).filter(n__gt=1).count()


def page_key(request: dict) -> str:  # type: ignore[type-arg]
    return request["params"].get("next_page_token") or "first page"


def test_a_killed_fetch_is_finished_once_while_redelivery_and_the_repair_both_resend_it(serpapi, workers):
    # Given slow pages (1 s each), alice's Tesla watch and a worker running its run's fetch
    serpapi.inject_fault(delay=1.0, count=4 * TESLA_PAGES)
    alice = UserFactory(username="alice")
    watch = tesla_watch(alice)
    first = workers("once-a")
    with transaction.atomic():
        run = watch_run_create(watch=watch)
    fetch_id = wait_for(
        lambda: WatchRun.objects.filter(pk=run.pk).values_list("fetch_run_id", flat=True).first(),
        timeout=30,
        message="the watch run to make its fetch",
    )
    wait_for(
        lambda: FetchRun.objects.get(pk=fetch_id).pages_fetched >= 2, timeout=60, message="two pages stored"
    )

    # When the worker is SIGKILLed mid-fetch (main process and pool children)
    first.kill()
    killed_at = time.time()
    pages_at_kill = FetchRun.objects.get(pk=fetch_id).pages_fetched
    print(f"injected: SIGKILL of worker {first.name} after {pages_at_kill}/{TESLA_PAGES} pages")

    # and, once their leases lapsed, the repair re-queues both rows (the fetch and the watch run)
    logs = [LogTail(first.log_path)]
    time.sleep(LEASE_SECONDS + 1)
    requeued: Counter[str] = Counter()
    report = stuck_runs_repair()
    for label in ("AdSpark.FetchRun", "AdSpark.WatchRun"):
        requeued[label] += report[label]["requeued"]
    assert requeued == {"AdSpark.FetchRun": 1, "AdSpark.WatchRun": 1}

    # and a second worker gets those copies plus the killed worker's redelivered messages
    # while the repair keeps running (as beat runs it)
    second = workers("once-b")
    logs.append(LogTail(second.log_path))

    def finished() -> bool:
        report = stuck_runs_repair()
        for label in ("AdSpark.FetchRun", "AdSpark.WatchRun"):
            requeued[label] += report[label]["requeued"]
        return WatchRun.objects.get(pk=run.pk).status not in ("pending", "running")

    wait_for(finished, timeout=180, interval=1.0, message="the watch run to end")

    # Then the fetch finished from its checkpoint, every page left was requested exactly once
    fetch = FetchRun.objects.get(pk=fetch_id)
    run.refresh_from_db()
    after = [r for r in serpapi.requests if r["time"] > killed_at]
    before = [r for r in serpapi.requests if r["time"] <= killed_at]
    in_flight = len(before) - pages_at_kill
    repeated_after = [key for key, n in Counter(map(page_key, after)).items() if n > 1]
    text = "".join(log.text() for log in logs)
    fetch_ends = len(re.findall(rf"fetch run {fetch.pk} (succeeded|failed)", text))
    run_ends = len(re.findall(rf"watch {watch.pk} run {run.pk}: ", text))
    print(
        f"found: fetch {fetch.status} with {fetch.pages_fetched} pages; SerpApi requests {len(before)} before the "
        f"kill ({in_flight} in flight, never stored) and {len(after)} after it for the "
        f"{TESLA_PAGES - pages_at_kill} pages left; pages requested twice after the kill: {repeated_after}; "
        f"repair re-queued {dict(requeued)}; watch run {run.status}, {run.new_creatives_count} new; "
        f"duplicate creatives {duplicate_creatives()}; fetch ended {fetch_ends}x, watch run recorded {run_ends}x"
    )
    assert fetch.status == "succeeded" and fetch.pages_fetched == TESLA_PAGES
    assert len(after) == TESLA_PAGES - pages_at_kill
    assert repeated_after == []
    assert 0 <= in_flight <= 2  # the page being fetched and the one prefetched
    assert run.status == "succeeded" and run.new_creatives_count == TESLA_CREATIVES
    assert WatchCreative.objects.filter(watch=watch).count() == TESLA_CREATIVES
    assert len(fetch.creative_ids) == len(set(fetch.creative_ids)) == TESLA_CREATIVES
    assert duplicate_creatives() == 0
    assert run_ends == 1 and fetch_ends == 1
    assert FetchRun.objects.filter(status="running").count() == 0


def test_a_pending_run_whose_message_redis_lost_completes_after_the_repair(serpapi, workers, short_leases):
    # Given a fetch and a watch run committed and published while no worker consumes data_fetch
    alice = UserFactory(username="alice")
    watch = tesla_watch(alice)
    query = normalize_fetch_params({"text": "onlinelighting.co.uk", "region": "2826"})
    with transaction.atomic():
        fetch = fetch_run_create(owner=alice, query=query)
        run = watch_run_create(watch=watch)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queued = broker.llen("data_fetch")

    # When Redis loses the messages (flushed after the commit) and a worker starts
    broker.flushdb()
    print(f"injected: FLUSHDB of the broker after commit ({queued} messages in data_fetch)")
    workers("lost-a")
    time.sleep(2)
    assert FetchRun.objects.get(pk=fetch.pk).status == "pending"
    assert WatchRun.objects.get(pk=run.pk).status == "pending"

    # Then the repair publishes both again once they have waited the bound, and both complete
    short_leases.JOB_PENDING_REPUBLISH_SECONDS = 1
    report = stuck_runs_repair()
    print(
        f"found: repair {report['AdSpark.FetchRun']} (fetch runs), {report['AdSpark.WatchRun']} (watch runs)"
    )
    assert report["AdSpark.FetchRun"]["republished"] == 1 and report["AdSpark.WatchRun"]["republished"] == 1
    wait_for(
        lambda: (
            FetchRun.objects.get(pk=fetch.pk).status == "succeeded"
            and WatchRun.objects.get(pk=run.pk).status == "succeeded"
        ),
        timeout=90,
        message="both runs to succeed",
    )
    assert FetchRun.objects.get(pk=fetch.pk).celery_task_id == fetch.celery_task_id  # same status URL


def test_twenty_watches_on_one_query_make_one_fetch_and_no_slot_waits(serpapi, workers):
    # Given 20 due watches of alice and bob on the same query, slow pages (1 s each)
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    watches = [tesla_watch(alice if i % 2 else bob, name=f"Tesla {i}") for i in range(20)]
    serpapi.inject_fault(delay=1.0, count=4 * TESLA_PAGES)
    worker = workers("shared-a")
    log = LogTail(worker.log_path)

    # When the dispatcher runs them at the same minute on a worker with two slots
    started = time.monotonic()
    dispatched = watches_dispatch_due()
    runs = WatchRun.objects.filter(watch__in=watches)
    wait_for(
        lambda: runs.filter(status="succeeded").count() == 20,
        timeout=180,
        interval=0.5,
        message="20 watch runs to succeed",
    )
    wall = time.monotonic() - started

    # Then one fetch served all 20 runs, and no task held a slot waiting for it
    fetches = set(runs.values_list("fetch_run_id", flat=True))
    fetch = FetchRun.objects.get(pk=next(iter(fetches)))
    times = [
        float(seconds)
        for seconds in re.findall(
            r"Task AdSpark\.tasks\.process_watch_task\[[^\]]+\] succeeded in ([0-9.]+)s", log.text()
        )
    ]
    leader = max(times)
    followers = sorted(times)[:-1]
    print(
        f"found: {dispatched} dispatched, {runs.filter(status='succeeded').count()} runs succeeded on {len(fetches)} "
        f"fetch ({fetch.pages_fetched} pages, {serpapi.search_count} SerpApi requests) in {wall:.1f} s; "
        f"{len(times)} process_watch_task deliveries: the fetching one held its slot {leader:.1f} s, the other "
        f"{len(followers)} held theirs {sum(followers):.2f} s in total (median {statistics.median(followers):.3f} s, "
        f"max {max(followers):.3f} s)"
    )
    assert dispatched == 20 and len(fetches) == 1
    assert serpapi.search_count == fetch.pages_fetched == TESLA_PAGES
    assert all(WatchCreative.objects.filter(watch=w).count() == TESLA_CREATIVES for w in watches)
    # a waiting follower returns at once (the old code polled the database for up to 60 s)
    assert max(followers) < 1.0, followers


def test_a_revoked_fetch_stops_between_two_pages(serpapi, workers):
    # Given an 8-page fetch on a worker, two pages stored
    serpapi.inject_fault(delay=1.0, count=2 * TESLA_PAGES)
    workers("revoke-a")
    query = normalize_fetch_params({"advertiser_ids": TESLA, "region": "2840", "max_pages": 10})
    with transaction.atomic():
        fetch = fetch_run_create(owner=None, query=query)
    wait_for(lambda: FetchRun.objects.get(pk=fetch.pk).pages_fetched >= 2, timeout=60, message="two pages")

    # When it is revoked (without terminate)
    row = revoke_job(str(fetch.celery_task_id))

    # Then the row is cancelled at once and the task stops before its next page
    assert row is not None and row.status == "cancelled"
    time.sleep(4)
    stopped = FetchRun.objects.get(pk=fetch.pk)
    count = serpapi.search_count
    time.sleep(3)
    print(f"found: cancelled after {stopped.pages_fetched}/{TESLA_PAGES} pages, {count} SerpApi requests")
    assert stopped.status == "cancelled" and stopped.pages_fetched < TESLA_PAGES
    assert serpapi.search_count == count  # no request after it stopped
    assert stuck_runs_repair()["AdSpark.FetchRun"] == {"requeued": 0, "republished": 0, "failed": 0}
