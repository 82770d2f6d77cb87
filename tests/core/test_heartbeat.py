"""celery beat's heartbeat (core.heartbeat) and ``monitor_celery.py --check``'s beat verdict.

Real Redis and PostgreSQL (django-celery-beat's tables); the heartbeat task runs in process.
"""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings

import monitor_celery
from core.heartbeat import (
    BEAT_HEARTBEAT_INTERVAL,
    BEAT_HEARTBEAT_MAX_AGE,
    HEARTBEAT_KEY,
    beat_heartbeat_write,
)
from core.maintenance import DEFAULT_PERIODIC_TASKS, periodic_tasks_ensure
from core.tasks import beat_heartbeat_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_heartbeat() -> None:
    redis.Redis.from_url(settings.REDIS_URL).delete(HEARTBEAT_KEY)


def test_it_schedules_the_heartbeat_every_interval_with_expiry() -> None:
    from django_celery_beat.models import PeriodicTask

    periodic_tasks_ensure()
    entry = PeriodicTask.objects.get(name="Beat heartbeat")
    assert entry.task == "core.tasks.beat_heartbeat_task" and entry.enabled
    assert entry.interval.every == BEAT_HEARTBEAT_INTERVAL and entry.interval.period == "seconds"
    assert entry.expire_seconds < BEAT_HEARTBEAT_INTERVAL
    assert "Beat heartbeat" in DEFAULT_PERIODIC_TASKS


def test_it_records_the_run_time_when_the_tick_has_no_publish_time() -> None:
    beat = beat_heartbeat_task.apply().get()
    assert beat["sent_at"] == beat["ran_at"] and beat["ran_at"] <= time.time()


def test_it_says_ok_after_a_heartbeat_and_stale_when_beat_stops() -> None:
    periodic_tasks_ensure()
    # Given beat sent a heartbeat tick two seconds ago and a worker ran it
    beat_heartbeat_write(sent_at=time.time() - 2, hostname="default@w1")
    report = monitor_celery.beat_report()
    assert (report["ok"], report["state"]) == (True, "ok")
    assert 2 <= report["age_seconds"] < 10
    assert report["max_age_seconds"] == BEAT_HEARTBEAT_MAX_AGE
    # When beat's last tick was sent longer ago than three intervals
    beat_heartbeat_write(sent_at=time.time() - BEAT_HEARTBEAT_MAX_AGE - 5, hostname="w1")
    # Then the verdict is stale, and --check's problems say so
    report = monitor_celery.beat_report()
    assert (report["ok"], report["state"]) == (False, "stale")
    assert monitor_celery.beat_report(max_age=BEAT_HEARTBEAT_MAX_AGE + 60)["state"] == "ok"


def test_it_waits_for_a_first_heartbeat_only_while_the_schedule_is_new() -> None:
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask

    periodic_tasks_ensure()
    assert monitor_celery.beat_report()["state"] == "waiting"
    PeriodicTask.objects.update(date_changed=timezone.now() - timezone.timedelta(hours=1))
    report = monitor_celery.beat_report()
    assert (report["ok"], report["state"]) == (False, "never")


def test_it_is_idle_without_enabled_periodic_tasks() -> None:
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.update(enabled=False)
    assert monitor_celery.beat_report()["state"] == "idle"
