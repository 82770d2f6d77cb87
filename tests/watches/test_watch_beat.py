"""End to end: a real celery beat (DatabaseScheduler) dispatches due watches to a real worker."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from AdSpark.models import FetchRun, WatchRun
from core.models import JobStatus
from tests.conftest import wait_for, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_beat_dispatches_due_watches_to_the_worker_and_the_runs_appear(
    serpapi, celery_worker, beat_process, make_watch, alice, bob
) -> None:
    # Given three due watches of alice and bob on the same query, and a one-second dispatcher entry
    watches = [make_watch(owner=alice), make_watch(owner=alice), make_watch(owner=bob)]
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="test: dispatch every second",
        task="AdSpark.tasks.process_all_active_watches_task",
        interval=every_second,
        expire_seconds=5,
    )

    # When a real beat process runs next to the real worker
    beat_process(worker_env(serpapi.url))

    # Then each watch gets a run that succeeds, its baseline of 40 Tesla creatives
    def all_succeeded() -> bool:
        return WatchRun.objects.filter(status=JobStatus.SUCCEEDED).count() == len(watches)

    wait_for(all_succeeded, timeout=90, message="the three watch runs to succeed")
    time.sleep(3)  # several more beat ticks: nothing is due any more
    runs = list(WatchRun.objects.all())
    assert Counter(run.watch_id for run in runs) == Counter({watch.pk: 1 for watch in watches})
    assert all(
        run.trigger == "schedule" and run.is_baseline and run.new_creatives_count == 40 for run in runs
    )
    # And the identical queries shared one SerpApi fetch
    assert FetchRun.objects.count() == 1
    assert serpapi.search_count == 1
