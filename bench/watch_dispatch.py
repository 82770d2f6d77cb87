"""Benchmark: the watch dispatcher against a naive loop, on PostgreSQL and Redis (issue 3 §7).

Creates 10,000 due watches, then measures

1. ``watches_dispatch_due()``: claim in batches, move ``next_run_at``, insert the WatchRuns,
   publish one ``process_watch_task`` message per watch over one broker connection;
2. the naive loop: ``for w in Watch.objects.filter(due): process_watch_task.delay(w.id)``
   with a ``save()`` per watch;

and prints wall time, SQL statements (``CaptureQueriesContext``) and messages queued; then

3. the publishers alone, on ``--publish-messages`` messages each, best of 3 interleaved runs:
   ``publish_watch_runs`` (Celery's internal ``app.amqp`` API, pipelined with kombu's
   ``Producer.batch()``) against the public ``apply_async(producer=…)`` with one reused
   producer, plain and inside the same ``Producer.batch()``.
Targets: all 10,000 in ≤ 2 s, ≤ 10 statements per 1,000 watches, ≥ 10× the naive loop.

Run from the repository root (a PostgreSQL server and Redis on localhost)::

    .venv/bin/python bench/watch_dispatch.py [--watches 10000] [--naive-watches 10000] [--batch-size 1000]

It uses its own database (``BENCH_DATABASE``, default ``adspark_bench_watches``, created if
missing) on ``BENCH_PG`` and Redis db ``BENCH_REDIS_DB`` (default 9, see bench/_setup.py),
which no worker may consume while it runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import setup_django

DATABASE = os.environ.get("BENCH_DATABASE", "adspark_bench_watches")
# Redis db for broker, results and limits; the benchmarks' convention is db 9 (bench/_setup.py).
# It must have no worker consuming it, or messages vanish before they are counted.
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "9"))


def compare_publishers(
    messages: int, *, broker: Any, queue: str, repeat: int = 3
) -> dict[str, tuple[float, float]]:
    """Send ``messages`` process_watch_task messages with each publisher ``repeat`` times.

    Returns ``{name: (best wall s, its CPU s)}``; checks every run queued exactly ``messages``.
    """
    if messages <= 0:
        return {}
    from AdSpark.tasks import process_watch_task
    from AdSpark.watches.dispatch import PUBLISH_PIPELINE_SIZE, publish_watch_runs
    from backend.celery import app

    runs = [(n + 1, n + 1, str(uuid.uuid4())) for n in range(messages)]

    def internal() -> None:
        publish_watch_runs(runs)

    def public() -> None:
        with app.producer_or_acquire() as producer:
            for watch_id, run_id, task_id in runs:
                process_watch_task.apply_async(
                    (watch_id,), {"watch_run_id": run_id}, task_id=task_id, producer=producer
                )

    def public_batched() -> None:
        with app.producer_or_acquire() as producer, producer.batch(max_size=PUBLISH_PIPELINE_SIZE):
            for watch_id, run_id, task_id in runs:
                process_watch_task.apply_async(
                    (watch_id,), {"watch_run_id": run_id}, task_id=task_id, producer=producer
                )

    candidates: dict[str, Callable[[], None]] = {
        "internal amqp (publish_watch_runs)": internal,
        "public apply_async(producer=…)": public,
        "public apply_async(producer=…) in Producer.batch()": public_batched,
    }
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeat):
        for name, publish in candidates.items():  # interleaved: each sees the same machine load
            broker.delete(queue)
            started, cpu = time.perf_counter(), time.process_time()
            publish()
            wall, cpu_s = time.perf_counter() - started, time.process_time() - cpu
            queued = broker.llen(queue)
            assert queued == messages, f"{name} queued {queued} of {messages}"
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu_s)
    broker.delete(queue)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--watches", type=int, default=10_000, help="due watches to create (default 10000)")
    parser.add_argument(
        "--naive-watches",
        type=int,
        default=10_000,
        help="watches the naive loop handles (default 10000; fewer for a quick run, compared per watch)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="dispatcher batch size (default: the code's)"
    )
    parser.add_argument(
        "--publish-messages",
        type=int,
        default=10_000,
        help="messages each publisher sends in the publisher comparison (default 10000; 0 skips it)",
    )
    args = parser.parse_args()

    setup_django(DATABASE, redis_db=REDIS_DB)
    import redis
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from AdSpark.models import Watch, WatchRun
    from AdSpark.queries import normalize_fetch_params
    from AdSpark.tasks import process_watch_task
    from AdSpark.watches.dispatch import DISPATCH_BATCH_SIZE, publish_watch_runs, watches_dispatch_due
    from backend.celery import QUEUE_DATA_FETCH

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    batch_size = args.batch_size or DISPATCH_BATCH_SIZE

    owner, _ = get_user_model().objects.get_or_create(username="bench-watches")
    WatchRun.objects.all().delete()
    Watch.objects.all().delete()
    query = normalize_fetch_params({"advertiser_ids": "AR17828074650563772417", "region": "US"})
    due_at = timezone.now() - dt.timedelta(minutes=1)
    Watch.objects.bulk_create(
        [
            Watch(
                owner=owner,
                name=f"bench {i}",
                advertiser_ids=list(query.advertiser_ids),
                region=query.region or "",
                max_pages=query.max_pages,
                query_fingerprint=query.fingerprint(),
                interval_minutes=60,
                next_run_at=due_at,
            )
            for i in range(args.watches)
        ],
        batch_size=2000,
    )

    def reset() -> None:
        WatchRun.objects.all().delete()
        Watch.objects.update(next_run_at=due_at)
        broker.flushdb()
        connection.close()

    # 1. The dispatcher (its publish step timed separately, to show where the time goes).
    reset()
    publish_s = 0.0

    def timed_publish(runs: list[tuple[int, int, str]]) -> None:
        nonlocal publish_s
        started = time.perf_counter()
        publish_watch_runs(runs)
        publish_s += time.perf_counter() - started

    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        dispatched = watches_dispatch_due(batch_size=batch_size, publish=timed_publish)
        dispatcher_s, dispatcher_cpu = time.perf_counter() - started, time.process_time() - cpu
    dispatcher_queries = len(queries.captured_queries)
    dispatcher_messages = broker.llen(QUEUE_DATA_FETCH)

    # 2. The naive loop: one save and one delay() per watch (on --naive-watches of them).
    reset()
    naive_queries = 0

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal naive_queries
        naive_queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started, cpu = time.perf_counter(), time.process_time()
        now = timezone.now()
        due = Watch.objects.filter(is_active=True, next_run_at__lte=now).order_by("id")[: args.naive_watches]
        for watch in due:
            process_watch_task.delay(watch.id)
            watch.next_run_at = now + dt.timedelta(minutes=watch.interval_minutes)
            watch.save()
        naive_s, naive_cpu = time.perf_counter() - started, time.process_time() - cpu
    naive_messages = broker.llen(QUEUE_DATA_FETCH)
    naive_n = min(args.naive_watches, args.watches)
    reset()

    # 3. The publishers compared on the same messages: publish_watch_runs (Celery's internal
    #    amqp API, pipelined) against the public apply_async(producer=...) with one reused
    #    producer, plain and inside the same kombu Producer.batch() pipeline.
    publishers = compare_publishers(args.publish_messages, broker=broker, queue=QUEUE_DATA_FETCH)
    reset()

    per_1000 = dispatcher_queries / (dispatched / 1000) if dispatched else float("nan")
    print(
        f"watches due:            {args.watches:,} (batch size {batch_size}, PostgreSQL {connection.pg_version})"
    )
    naive_per_watch = naive_s / naive_n
    speedup = naive_per_watch * dispatched / dispatcher_s
    print(
        f"dispatcher:             {dispatcher_s:.3f} s wall ({dispatcher_s - publish_s:.3f} s claim+insert, "
        f"{publish_s:.3f} s publish), {dispatcher_cpu:.3f} s CPU in this process"
    )
    print(
        f"                        {dispatcher_queries} SQL statements ({per_1000:.1f} per 1,000 watches, "
        f"BEGIN/COMMIT included), {dispatched:,} claimed, {dispatcher_messages:,} messages queued"
    )
    print(
        f"naive loop:             {naive_s:.3f} s wall, {naive_cpu:.3f} s CPU for {naive_n:,} watches "
        f"({naive_per_watch * 1000:.2f} ms/watch), {naive_queries} SQL statements, {naive_messages:,} messages"
    )
    print(f"speed-up:               {speedup:.1f}x (per watch, wall clock)")
    for name, (wall, cpu_s) in publishers.items():
        print(
            f"publisher {name:38}: {wall:.3f} s wall, {cpu_s:.3f} s CPU for {args.publish_messages:,} messages "
            f"({wall / args.publish_messages * 1e6:.0f} µs/message)"
        )
    if publishers:
        internal = publishers["internal amqp (publish_watch_runs)"][0]
        for name, (wall, _) in publishers.items():
            if name.startswith("public"):
                print(
                    f"internal vs {name:36}: {wall / internal:.2f}x faster (keep the public API unless ≥ 1.5x)"
                )
    print(f"machine load (1 min):   {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"targets:                <= 2 s: {'met' if dispatcher_s <= 2 else 'MISSED'};  "
        f"<= 10 statements/1,000: {'met' if per_1000 <= 10 else 'MISSED'};  "
        f">= 10x: {'met' if speedup >= 10 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
