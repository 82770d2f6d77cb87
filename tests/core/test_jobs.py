"""Leases on job rows (core.jobs): one delivery runs a job, an expired lease is taken over once,
a waiting job is not stuck, a cancelled job stops and is never re-queued."""

from __future__ import annotations

import datetime as dt
import inspect

import pytest
from django.utils import timezone

from AdSpark.models import FetchRun
from AdSpark.queries import QUERY_FIELDS
from AdSpark.tasks import fetch_creatives_task
from core.jobs import JobLeaseLost, job_cancel, job_claim, job_succeed, jobs_stuck
from core.maintenance import stuck_runs_repair
from tests.factories import FetchRunFactory

pytestmark = pytest.mark.django_db


def test_a_second_delivery_backs_off_while_the_first_holds_a_live_lease() -> None:
    run = FetchRunFactory(celery_task_id="t-1")

    first = job_claim(FetchRun, pk=run.pk, task_id="t-1", hostname="worker-a@host")
    second = job_claim(FetchRun, pk=run.pk, task_id="t-1", hostname="worker-b@host")

    assert first is not None and first.owner.startswith("t-1@worker-a@host#")
    assert second is None
    assert FetchRun.objects.get(pk=run.pk).lease_owner == first.owner


def test_an_expired_lease_is_taken_over_once_and_the_old_holder_loses_it() -> None:
    run = FetchRunFactory()
    dead = job_claim(FetchRun, pk=run.pk, task_id="t-1", hostname="dead@host")
    assert dead is not None
    FetchRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))

    taker = job_claim(FetchRun, pk=run.pk, task_id="t-2", hostname="live@host")
    late = job_claim(FetchRun, pk=run.pk, task_id="t-3", hostname="late@host")

    assert taker is not None and late is None
    with pytest.raises(JobLeaseLost):
        dead.renew()
    assert not job_succeed(FetchRun, pk=run.pk, lease=dead)  # a lost lease cannot finish the row
    assert job_succeed(FetchRun, pk=run.pk, lease=taker)


def test_a_released_lease_waits_out_its_countdown_without_being_stuck() -> None:
    run = FetchRunFactory()
    lease = job_claim(FetchRun, pk=run.pk, task_id="t-1")
    assert lease is not None

    lease.release(wait_seconds=600, error="Retrying in 600 s")

    assert not jobs_stuck(FetchRun).filter(pk=run.pk).exists()
    assert jobs_stuck(FetchRun, now=timezone.now() + dt.timedelta(seconds=700)).filter(pk=run.pk).exists()
    # and any delivery may claim it at once (the retry)
    assert job_claim(FetchRun, pk=run.pk, task_id="t-1") is not None


def test_a_cancelled_job_stops_its_holder_and_is_never_requeued() -> None:
    run = FetchRunFactory()
    lease = job_claim(FetchRun, pk=run.pk, task_id="t-1")
    assert lease is not None

    assert job_cancel(FetchRun, pk=run.pk, reason="Cancelled by alice.")

    with pytest.raises(JobLeaseLost):
        lease.renew()
    row = FetchRun.objects.get(pk=run.pk)
    assert row.status == "cancelled" and row.is_finished and row.lease_owner == ""
    assert job_claim(FetchRun, pk=run.pk, task_id="t-2") is None
    later = timezone.now() + dt.timedelta(days=1)
    assert stuck_runs_repair(now=later)["AdSpark.FetchRun"] == {"requeued": 0, "republished": 0, "failed": 0}


def test_the_fetch_tasks_keyword_arguments_are_the_query_fields() -> None:
    parameters = inspect.signature(fetch_creatives_task.run).parameters
    assert set(QUERY_FIELDS) <= set(parameters)
