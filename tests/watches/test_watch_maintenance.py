"""The maintenance queue: stuck-run repair, pruning, creative cleanup and the default beat schedule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from AdSpark.cleanup import _referenced_elsewhere, creatives_cleanup_old
from AdSpark.models import Creative, CreativeArchive, CreativeDetails, FetchRun, WatchRun
from core.maintenance import DEFAULT_PERIODIC_TASKS, MAX_REQUEUES, old_runs_prune, stuck_runs_repair
from core.models import JobStatus
from tests.conftest import wait_for
from tests.factories import CreativeFactory, FetchRunFactory

LONG_AGO = timezone.now() - dt.timedelta(hours=6)


def left_running(model, *, pk: int, **fields):  # type: ignore[no-untyped-def]
    """A row a dead worker left ``running``, last claimed six hours ago (unless ``fields`` say)."""
    fields = {"status": JobStatus.RUNNING, "started_at": LONG_AGO, "updated_at": LONG_AGO, **fields}
    model.objects.filter(pk=pk).update(**fields)
    return model.objects.get(pk=pk)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_fetch_left_running_by_a_dead_worker_is_requeued_and_finishes(serpapi, celery_worker) -> None:
    # Given a fetch run a worker died on six hours ago (the hard limit is 20 min)
    run = left_running(FetchRun, pk=FetchRunFactory(celery_task_id="dead-worker-task").pk)
    fresh = left_running(FetchRun, pk=FetchRunFactory().pk, updated_at=timezone.now())

    # When the repair runs
    with transaction.atomic():
        report = stuck_runs_repair()

    # Then it is re-queued under a new task id (fetches are idempotent) and the real worker finishes it
    assert report["AdSpark.FetchRun"] == {"requeued": 1, "republished": 0, "failed": 0}
    run.refresh_from_db()
    # under its own task id (its status URL names it); the lease makes a late copy harmless
    assert run.celery_task_id == "dead-worker-task" and run.retries == 1
    wait_for(
        lambda: FetchRun.objects.get(pk=run.pk).status == JobStatus.SUCCEEDED,
        timeout=60,
        message="the re-queued fetch",
    )
    assert FetchRun.objects.get(pk=run.pk).creatives_seen == 40
    # And a run that is still within its time limit is left alone
    assert FetchRun.objects.get(pk=fresh.pk).status == JobStatus.RUNNING


@pytest.mark.django_db
def test_a_run_requeued_too_often_is_marked_failed_with_the_reason(make_watch, alice) -> None:
    fetch = left_running(FetchRun, pk=FetchRunFactory().pk, retries=MAX_REQUEUES)
    watch = make_watch(owner=alice)
    watch_run = left_running(WatchRun, pk=WatchRun.objects.create(watch=watch).pk, requeues=MAX_REQUEUES)

    report = stuck_runs_repair()

    assert report["AdSpark.FetchRun"] == {"requeued": 0, "republished": 0, "failed": 1}
    assert report["AdSpark.WatchRun"] == {"requeued": 0, "republished": 0, "failed": 1}
    fetch.refresh_from_db()
    assert fetch.status == JobStatus.FAILED
    assert "worker running this job stopped" in fetch.error and "lease of 30 s" in fetch.error
    # And the watch counts the failure (it backs off like any failed run)
    watch.refresh_from_db()
    assert WatchRun.objects.get(pk=watch_run.pk).status == JobStatus.FAILED
    assert watch.consecutive_failures == 1


@pytest.mark.django_db
def test_pruning_deletes_old_finished_runs_only() -> None:
    now = timezone.now()
    old = FetchRunFactory(status=JobStatus.SUCCEEDED)
    recent = FetchRunFactory(status=JobStatus.FAILED)
    running = FetchRunFactory(status=JobStatus.RUNNING)
    FetchRun.objects.filter(pk=old.pk).update(finished_at=now - dt.timedelta(days=40))
    FetchRun.objects.filter(pk=recent.pk).update(finished_at=now - dt.timedelta(days=2))

    report = old_runs_prune(days=30)

    assert report["AdSpark.FetchRun"] == 1
    assert set(FetchRun.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}


@pytest.mark.django_db
def test_cleanup_deletes_old_creatives_in_batches_but_keeps_what_is_referenced(make_watch, alice) -> None:
    # Given creatives not shown nor seen for 100 days, one new-to-a-watch in a recent run, and a fresh one
    now = timezone.now()
    old = [CreativeFactory() for _ in range(5)]
    alerted = CreativeFactory()
    fresh = CreativeFactory(last_shown=now)
    CreativeDetails.objects.create(creative=old[0], title="gone with its creative")
    Creative.objects.filter(pk__in=[c.pk for c in [*old, alerted]]).update(
        updated_at=now - dt.timedelta(days=100), last_shown=now - dt.timedelta(days=100)
    )
    WatchRun.objects.create(
        watch=make_watch(owner=alice),
        status=JobStatus.SUCCEEDED,
        new_creative_ids=[alerted.pk],
        new_creatives_count=1,
    )

    # When the cleanup runs with batches of 2
    report = creatives_cleanup_old(days_old=90, batch_size=2)

    # Then the old ones (and their details) are gone; the referenced and the fresh ones stay
    assert report == {"deleted": 5, "protected": 1}
    assert set(Creative.objects.values_list("pk", flat=True)) == {alerted.pk, fresh.pk}
    assert not CreativeDetails.objects.exists()


def test_cleanup_keeps_creatives_that_any_other_model_points_at() -> None:
    # Every foreign key to Creative except CreativeDetails' and CreativeArchive's (parts of the
    # creative) protects it (AI variants, saved creatives…)
    sql = str(_referenced_elsewhere(Creative.objects.all()).query)
    for relation in Creative._meta.related_objects:
        if relation.related_model in (CreativeDetails, CreativeArchive):
            assert relation.related_model._meta.db_table not in sql
        elif not relation.many_to_many:
            assert relation.related_model._meta.db_table in sql


@pytest.mark.django_db
def test_migrate_created_the_default_schedule_and_the_command_is_idempotent() -> None:
    # Given migrate ran (post_migrate created the entries) and an admin made the dispatcher daily-ish
    assert set(
        PeriodicTask.objects.filter(name__in=DEFAULT_PERIODIC_TASKS).values_list("name", flat=True)
    ) == set(DEFAULT_PERIODIC_TASKS)
    dispatcher = PeriodicTask.objects.get(name="Dispatch due watches")
    assert (dispatcher.interval.every, dispatcher.interval.period, dispatcher.expire_seconds) == (
        1,
        "minutes",
        55,
    )
    PeriodicTask.objects.filter(pk=dispatcher.pk).update(expire_seconds=30)

    # When the command runs twice
    call_command("setup_periodic_tasks")
    call_command("setup_periodic_tasks")

    # Then there are no duplicates and the admin's edit is kept; --reset restores the default
    assert PeriodicTask.objects.filter(name__in=DEFAULT_PERIODIC_TASKS).count() == len(DEFAULT_PERIODIC_TASKS)
    assert PeriodicTask.objects.get(name="Dispatch due watches").expire_seconds == 30
    call_command("setup_periodic_tasks", "--reset")
    assert PeriodicTask.objects.get(name="Dispatch due watches").expire_seconds == 55
    cleanup = PeriodicTask.objects.get(name="Clean up old creatives")
    assert (cleanup.crontab.hour, cleanup.crontab.minute, cleanup.kwargs) == ("3", "30", '{"days_old": 90}')
