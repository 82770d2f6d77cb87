"""A watch that keeps failing backs off, then pauses itself with a reason; a bad key pauses at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from AdSpark.models import WatchRun
from AdSpark.watches.dispatch import watch_run_create
from AdSpark.watches.services import (
    WATCH_MAX_CONSECUTIVE_FAILURES,
    backoff_minutes,
    watch_run,
    watch_run_fail,
    watch_update,
)
from core.models import JobStatus

pytestmark = pytest.mark.django_db


def fail_once(watch, error: str = "HTTP 503 from SerpApi") -> WatchRun:  # type: ignore[no-untyped-def]
    run = watch_run_create(watch=watch, enqueue=False)
    watch_run_fail(watch_run_id=run.pk, error=error)
    return run


def test_backoff_doubles_the_interval_up_to_a_day() -> None:
    assert [backoff_minutes(interval_minutes=60, failures=n) for n in (1, 2, 3, 4, 5)] == [
        120,
        240,
        480,
        960,
        1440,
    ]
    assert backoff_minutes(interval_minutes=2880, failures=3) == 2880


def test_a_failing_watch_backs_off_then_pauses_with_a_readable_reason(make_watch, alice) -> None:
    # Given an hourly watch
    watch = make_watch(owner=alice, interval_minutes=60)

    # When its runs fail one after another
    before = timezone.now()
    fail_once(watch)
    watch.refresh_from_db()

    # Then it backs off: the next run is two intervals away
    assert watch.is_active and watch.consecutive_failures == 1
    assert watch.next_run_at >= before + dt.timedelta(minutes=120)

    for _ in range(WATCH_MAX_CONSECUTIVE_FAILURES - 1):
        fail_once(watch, error="HTTP 503 from SerpApi")
    watch.refresh_from_db()

    # And after N failures in a row it is paused, saying why
    assert not watch.is_active
    assert watch.consecutive_failures == WATCH_MAX_CONSECUTIVE_FAILURES
    assert f"Paused after {WATCH_MAX_CONSECUTIVE_FAILURES} failed runs in a row" in watch.paused_reason
    assert "HTTP 503" in watch.paused_reason


def test_failing_a_finished_run_again_changes_nothing(make_watch, alice) -> None:
    watch = make_watch(owner=alice)
    run = fail_once(watch)

    assert watch_run_fail(watch_run_id=run.pk, error="again") is False
    watch.refresh_from_db()
    assert watch.consecutive_failures == 1


def test_an_invalid_api_key_pauses_the_watch_at_once(serpapi, make_watch, alice) -> None:
    # Given SerpApi rejects the key
    serpapi.inject_fault(status=401)
    watch = make_watch(owner=alice)
    run = watch_run_create(watch=watch, enqueue=False)

    # When the watch runs
    run = watch_run(watch_run_id=run.pk, task_id=run.celery_task_id)

    # Then the run failed and the watch is paused after this single failure
    watch.refresh_from_db()
    assert run.status == JobStatus.FAILED
    assert not watch.is_active
    assert watch.paused_reason.startswith("Paused after a permanent error")
    assert "API key" in watch.paused_reason


def test_reactivating_a_paused_watch_clears_the_reason_and_makes_it_due(make_watch, alice) -> None:
    watch = make_watch(
        owner=alice, is_active=False, paused_reason="Paused after 5 failed runs", consecutive_failures=5
    )

    watch = watch_update(watch=watch, is_active=True)

    assert watch.is_active and watch.paused_reason == "" and watch.consecutive_failures == 0
    assert watch.next_run_at <= timezone.now()


def test_a_scheduled_run_of_a_watch_paused_meanwhile_does_not_fetch(serpapi, make_watch, alice) -> None:
    watch = make_watch(owner=alice)
    run = watch_run_create(watch=watch, trigger="schedule", enqueue=False)
    watch_update(watch=watch, is_active=False)

    run = watch_run(watch_run_id=run.pk, task_id=run.celery_task_id)

    assert run.status == JobStatus.FAILED and "paused" in run.error
    assert serpapi.search_count == 0
