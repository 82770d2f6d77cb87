"""The durable job record shared by every long job (fetch run, watch run, variant).

Celery results are only a cache; these rows are the truth. Status moves
``pending → running → succeeded | failed | cancelled`` and only through the conditional updates
in :mod:`core.jobs`, so a redelivered or retried task cannot run a finished job again. A
``running`` row is held by a lease (``lease_owner`` until ``lease_expires_at``) that the task
renews while it works; see :mod:`core.jobs`.
"""

from __future__ import annotations

from django.db import models

from .redaction import RedactedTextField


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    # Stopped on purpose (core.jobs.job_cancel / revoke_job): finished, never re-queued.
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING)
FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    """Abstract job row.

    Fields: ``status``; ``celery_task_id`` (the task that runs it, unique when set);
    ``progress_done`` / ``progress_total`` (units depend on the job: pages for a fetch run);
    ``error`` (readable text, empty on success); ``created_at`` / ``started_at`` /
    ``finished_at`` (timezone-aware UTC).

    Lease (see :mod:`core.jobs`): ``lease_owner`` is ``"<task id>@<worker hostname>#<nonce>"``
    of the delivery that holds a ``running`` row ("" when no delivery holds it, e.g. while it
    waits on a retry countdown or a shared fetch); ``lease_expires_at`` is when the row counts as
    stuck unless renewed (the heartbeat renews it every ``JOB_HEARTBEAT_SECONDS``).

    Concrete models set ``OWNER_FIELD``: the lookup path from the row to its owning user,
    used to scope ``/api/tasks/{task_id}/`` and the stuck-run repair's task name in
    ``TASK_NAME``.
    """

    OWNER_FIELD = "owner"
    TASK_NAME = ""

    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    celery_task_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = RedactedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    lease_owner = models.CharField(max_length=255, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def progress_percent(self) -> float:
        """Progress in percent (0-100); 100 for a finished job whatever its counters say."""
        if self.status in FINISHED_STATUSES:
            return 100.0
        if not self.progress_total:
            return 0.0
        return round(min(100.0, 100.0 * self.progress_done / self.progress_total), 1)
