"""The dispatcher: claims due watches, schedules their next run, enqueues one run each — once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from AdSpark.models import Watch, WatchRun, WatchTrigger
from AdSpark.watches.dispatch import watches_dispatch_due
from core.models import JobStatus


class Collector:
    """A stand-in for the broker publish step that records what would be enqueued."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, str]] = []
        self.lock = threading.Lock()

    def __call__(self, runs: list[tuple[int, int, str]]) -> None:
        with self.lock:
            self.sent.extend(runs)


@pytest.mark.django_db(transaction=True)
def test_it_claims_only_due_active_watches_and_moves_them_forward(make_watch, alice) -> None:
    # Given a due watch, a watch due later, and a paused due watch
    now = timezone.now()
    due = make_watch(owner=alice, next_run_at=now - dt.timedelta(minutes=5), interval_minutes=30)
    later = make_watch(owner=alice, next_run_at=now + dt.timedelta(minutes=5))
    paused = make_watch(owner=alice, is_active=False, next_run_at=now - dt.timedelta(minutes=5))
    sent = Collector()

    # When the dispatcher runs
    count = watches_dispatch_due(now=now, publish=sent)

    # Then only the due watch got a pending scheduled run, enqueued after commit with its task id
    assert count == 1
    run = WatchRun.objects.get()
    assert (run.watch_id, run.status, run.trigger) == (due.pk, JobStatus.PENDING, WatchTrigger.SCHEDULE)
    assert sent.sent == [(due.pk, run.pk, run.celery_task_id)]
    # And its next run is one interval from now; the others did not move
    due.refresh_from_db()
    assert due.next_run_at == now + dt.timedelta(minutes=30)
    assert Watch.objects.get(pk=later.pk).next_run_at == later.next_run_at
    assert Watch.objects.get(pk=paused.pk).next_run_at == paused.next_run_at

    # And a second tick right after finds nothing due
    assert watches_dispatch_due(now=now, publish=sent) == 0


@pytest.mark.django_db(transaction=True)
def test_it_works_in_batches(make_watch, alice) -> None:
    for _ in range(7):
        make_watch(owner=alice)
    sent = Collector()

    assert watches_dispatch_due(batch_size=3, publish=sent) == 7

    assert sorted(watch_id for watch_id, _, _ in sent.sent) == sorted(
        Watch.objects.values_list("pk", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_several_dispatchers_at_once_run_each_due_watch_exactly_once(make_watch, alice, bob) -> None:
    # Given 300 due watches of alice and bob
    watches = [make_watch(owner=alice if i % 2 else bob) for i in range(300)]
    sent = Collector()
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            start.wait()
            watches_dispatch_due(batch_size=25, publish=sent)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    # When six dispatchers (each its own PostgreSQL connection) run at the same moment
    threads = [threading.Thread(target=dispatcher) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then every due watch got exactly one run and exactly one message
    assert not errors
    runs = Counter(WatchRun.objects.values_list("watch_id", flat=True))
    assert runs == Counter({watch.pk: 1 for watch in watches})
    assert Counter(watch_id for watch_id, _, _ in sent.sent) == runs


@pytest.mark.django_db(transaction=True)
def test_the_portable_claim_path_does_the_same_as_the_postgresql_one(make_watch, alice) -> None:
    # SQLite (the local default) claims with three ORM statements instead of one CTE
    from django.db import transaction

    from AdSpark.watches.dispatch import _claim_batch_orm

    watches = [make_watch(owner=alice) for _ in range(3)]
    with transaction.atomic():
        claimed = _claim_batch_orm(timezone.now(), 2)
    assert len(claimed) == 2
    assert {run.watch_id for run in WatchRun.objects.all()} == {watch_id for watch_id, _, _ in claimed}
    assert Watch.objects.filter(pk__in=[w.pk for w in watches], next_run_at__gt=timezone.now()).count() == 2
