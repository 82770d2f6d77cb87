"""Status transitions for job rows (:class:`core.models.Job` subclasses).

Each transition is one conditional ``UPDATE … WHERE status IN (…)`` whose row count says
whether this caller won (the healthchecks way of claiming work), so two deliveries of the same
task cannot both run a job, and a finished job never goes back to ``running``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.celery import hard_time_limit

from .models import ACTIVE_STATUSES, Job, JobStatus


def job_models() -> list[type[Job]]:
    """Return every concrete model that subclasses :class:`Job` (FetchRun, WatchRun, …)."""
    return [model for model in apps.get_models() if issubclass(model, Job) and not model._meta.abstract]


def job_claim(model: type[Job], *, pk: int, task_id: str | None) -> bool:
    """Move job ``pk`` to ``running`` for ``task_id``; return False if it is already finished.

    A ``running`` row is claimable again: with ``acks_late`` a message is only redelivered
    when the worker that held it died, so the new delivery takes over.
    """
    updated = model._default_manager.filter(pk=pk, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.RUNNING,
        celery_task_id=task_id,
        started_at=Coalesce("started_at", timezone.now()),
        error="",
        updated_at=timezone.now(),
    )
    return updated == 1


def job_succeed(model: type[Job], *, pk: int, **fields: object) -> bool:
    """Mark job ``pk`` succeeded (setting ``fields`` too); False if it was not active."""
    now = timezone.now()
    updated = model._default_manager.filter(pk=pk, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.SUCCEEDED, finished_at=now, updated_at=now, error="", **fields
    )
    return updated == 1


def job_fail(model: type[Job], *, pk: int, error: str, **fields: object) -> bool:
    """Mark job ``pk`` failed with a readable ``error``; False if it was not active."""
    now = timezone.now()
    updated = model._default_manager.filter(pk=pk, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.FAILED, finished_at=now, updated_at=now, error=error[:4000], **fields
    )
    return updated == 1


def job_stuck_limit(model: type[Job], *, margin_seconds: float) -> float:
    """Seconds a row of ``model`` may stay ``running`` without progress: the task's hard time
    limit (backend/celery.py) plus ``margin_seconds``."""
    return hard_time_limit(model.TASK_NAME) + margin_seconds


def jobs_stuck(model: type[Job], *, margin_seconds: float, now: dt.datetime | None = None) -> QuerySet[Any]:
    """Rows of ``model`` left ``running`` longer than :func:`job_stuck_limit` (a worker died).

    The age is taken from ``updated_at``, which every claim and every page of progress sets:
    past the hard limit the worker has killed the task, so the row will not finish by itself.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(
        seconds=job_stuck_limit(model, margin_seconds=margin_seconds)
    )
    return model._default_manager.filter(status=JobStatus.RUNNING, updated_at__lt=cutoff).order_by("pk")


def job_for_task(task_id: str, *, user: object) -> Job | None:
    """Return the job row run by Celery task ``task_id`` that ``user`` owns, else None.

    Own jobs only, staff included: the same rule as fetch runs, watches and variants (another
    user's object is a 404 for everyone; staff see all rows in the Django admin). Rows are
    looked up in every job model (see :func:`job_models`).
    """
    for model in job_models():
        query = Q(celery_task_id=task_id) & Q(**{model.OWNER_FIELD: user})
        row = model._default_manager.filter(query).first()
        if row is not None:
            return row
    return None
