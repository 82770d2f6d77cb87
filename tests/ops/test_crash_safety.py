"""Crash safety with real processes: SIGKILL and SIGTERM mid-fetch, and a Redis restart.

Each test prints what it injected and what it found (run with ``-s`` to read it).
The fetches run against the local SerpApi server: no real search is spent.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from django.db.models import Count

from AdSpark.models import Creative, FetchRun
from AdSpark.queries import normalize_fetch_params
from AdSpark.services import fetch_run_create
from AdSpark.tasks import fetch_creatives_task
from backend.celery import app
from tests.conftest import TESLA, WorkerProcess, wait_for
from tests.ops.ops_support import RedisServer

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The Tesla recording holds 40 creatives; num=5 makes the local server cut it into 8 pages.
TESLA_CREATIVES = 40
TESLA_PAGES = 8
# Seconds before Redis hands an unacknowledged message to another worker (production: 2 h).
VISIBILITY_TIMEOUT = "5"


def tesla_fetch() -> FetchRun:
    query = normalize_fetch_params({"advertiser_ids": TESLA, "region": "2840", "num": 5, "max_pages": 10})
    return fetch_run_create(owner=None, query=query)


def assert_complete_without_duplicates(run: FetchRun) -> None:
    run.refresh_from_db()
    creatives = Creative.objects.filter(advertiser_id=TESLA)
    duplicates = Creative.objects.values("ad_creative_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    running = FetchRun.objects.filter(status="running").count()
    print(
        f"found: run {run.pk} {run.status}, pages {run.pages_fetched}, creatives_seen {run.creatives_seen}, "
        f"ids recorded {len(run.creative_ids)} ({len(set(run.creative_ids))} distinct), "
        f"creatives in db {creatives.count()}, duplicate rows {duplicates}, runs left running {running}"
    )
    assert run.status == "succeeded", run.error
    assert run.pages_fetched == TESLA_PAGES
    assert run.creatives_seen == TESLA_CREATIVES
    assert len(run.creative_ids) == len(set(run.creative_ids)) == TESLA_CREATIVES
    assert creatives.count() == TESLA_CREATIVES
    assert duplicates == 0
    assert running == 0


def pages_done(run: FetchRun) -> int:
    return FetchRun.objects.values_list("pages_fetched", flat=True).get(pk=run.pk)


@pytest.fixture
def workers(ops_env):
    """Start data_fetch workers with a short visibility timeout; all are stopped afterwards."""
    started: list[WorkerProcess] = []

    def start(name: str, *, env: dict[str, str] | None = None, concurrency: int = 1) -> WorkerProcess:
        worker = WorkerProcess(
            queues="data_fetch",
            env=env or {**ops_env, "CELERY_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT},
            concurrency=concurrency,
            name=name,
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop(timeout=20)
        if worker.process is not None and worker.process.poll() is None:
            worker.kill()


def test_it_completes_a_fetch_exactly_once_after_its_worker_is_killed(serpapi, workers):
    # given slow pages (1.5 s each) and a worker that has stored two of eight pages
    serpapi.inject_fault(delay=1.5, count=TESLA_PAGES + 2)
    first = workers("crash-a")
    run = tesla_fetch()
    wait_for(lambda: pages_done(run) >= 2, timeout=60, message="two pages stored")

    # when the worker is SIGKILLed mid-fetch (main process and its pool child)
    killed_at = pages_done(run)
    first.kill()
    print(f"injected: SIGKILL of worker pid {first.process.pid} after {killed_at}/{TESLA_PAGES} pages")
    assert FetchRun.objects.get(pk=run.pk).status == "running"

    # and a new worker starts once the visibility timeout has passed
    time.sleep(float(VISIBILITY_TIMEOUT) + 1)
    workers("crash-b")

    # then the message is redelivered and the run resumes from its checkpoint
    wait_for(
        lambda: FetchRun.objects.get(pk=run.pk).status != "running" and pages_done(run) == TESLA_PAGES,
        timeout=120,
        message="the run to finish on the new worker",
    )
    assert_complete_without_duplicates(run)
    searches = serpapi.search_count
    print(f"found: {searches} SerpApi searches for {TESLA_PAGES} pages (at most one page fetched twice)")
    assert searches <= TESLA_PAGES + 1


def test_it_loses_nothing_on_a_warm_shutdown_mid_task(serpapi, workers, ops_env):
    # given a worker in the middle of an 8-page fetch
    serpapi.inject_fault(delay=1.0, count=TESLA_PAGES + 2)
    worker = workers("warm-a")
    run = tesla_fetch()
    wait_for(lambda: pages_done(run) >= 2, timeout=60, message="two pages stored")

    # when it gets SIGTERM (warm shutdown: finish running tasks, take no new ones)
    at = pages_done(run)
    worker.stop(timeout=90)
    status = FetchRun.objects.get(pk=run.pk).status
    print(
        f"injected: SIGTERM after {at}/{TESLA_PAGES} pages; worker exited with {worker.process.returncode}; "
        f"run {status} when it had stopped"
    )

    # then the task finished before the worker exited, or it is redelivered to the next worker
    if status != "succeeded":
        time.sleep(float(VISIBILITY_TIMEOUT) + 1)
        workers("warm-b")
        wait_for(
            lambda: FetchRun.objects.get(pk=run.pk).status == "succeeded",
            timeout=120,
            message="the redelivered run to finish",
        )
        print("found: the run was redelivered and finished on a second worker")
    else:
        print("found: the worker finished the task before exiting")
    assert_complete_without_duplicates(run)


def test_it_completes_every_queued_fetch_after_redis_restarts(
    serpapi, workers, ops_env, private_redis, tmp_path: Path
):
    # given a private Redis (append-only file) as broker and result backend, and 200 queued fetches
    broker, results = f"{private_redis.url}/0", f"{private_redis.url}/1"
    query = normalize_fetch_params({"text": "onlinelighting.co.uk", "region": "2826"})
    runs = [fetch_run_create(owner=None, query=query, enqueue=False) for _ in range(200)]
    with app.connection_for_write(broker) as connection:
        for run in runs:
            fetch_creatives_task.apply_async(
                kwargs={"fetch_run_id": run.pk}, task_id=run.celery_task_id, connection=connection
            )
    queued = redis.Redis.from_url(broker).llen("data_fetch")
    print(f"queued: {queued} fetch messages in the private Redis on port {private_redis.port}")
    assert queued == 200

    def succeeded() -> int:
        return FetchRun.objects.filter(pk__in=[r.pk for r in runs], status="succeeded").count()

    # and a worker (2 processes) consuming them from the private Redis
    env = {
        **ops_env,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": results,
        "CELERY_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT,
    }
    worker = WorkerProcess(queues="data_fetch", env=env, concurrency=2, name="redis-restart")
    _start_without_ping(worker)
    try:
        wait_for(lambda: succeeded() >= 20, timeout=120, message="20 fetches done")

        # when Redis is stopped and started again on the same port with its append-only file
        before = succeeded()
        left = redis.Redis.from_url(broker).llen("data_fetch")
        private_redis.stop()
        print(f"injected: redis-server stopped with {before}/200 done and {left} waiting; down for 3 s")
        time.sleep(3)
        # the fixture's finalizer stops the restarted server
        private_redis.process = RedisServer(private_redis.workdir, port=private_redis.port).start().process
        restored = redis.Redis.from_url(broker).llen("data_fetch")
        print(f"found after restart: {restored} messages back from the append-only file")

        # then every fetch completes
        wait_for(lambda: succeeded() == 200, timeout=240, message="all 200 fetches to succeed")
    finally:
        worker.stop(timeout=20)
        if worker.process is not None and worker.process.poll() is None:
            worker.kill()
    running = FetchRun.objects.filter(status="running").count()
    failed = FetchRun.objects.filter(status="failed").count()
    print(f"found: 200/200 succeeded, {running} running, {failed} failed, {serpapi.search_count} searches")
    assert running == 0 and failed == 0


def _start_without_ping(worker: WorkerProcess, timeout: float = 60.0) -> None:
    """Start ``worker`` (on a broker the test app does not use) and wait for its ready line."""
    import subprocess

    from tests.conftest import BACKEND_DIR

    log = open(worker.log_path, "ab")  # noqa: SIM115 - closed with the process
    offset = worker.log_path.stat().st_size
    worker.process = subprocess.Popen(
        worker.args, cwd=BACKEND_DIR, env=worker.env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(worker.log_path, "rb") as handle:
            handle.seek(offset)
            if b" ready." in handle.read():
                return
        if worker.process.poll() is not None:
            raise RuntimeError(f"worker exited; see {worker.log_path}")
        time.sleep(0.2)
    raise RuntimeError(f"worker not ready within {timeout} s; see {worker.log_path}")
