"""Small operational tasks (routes: backend/celery.py) and :class:`JobTask`, the base class of
every task that runs a job row."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import time
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, QuerySet

from .jobs import job_fail_registered
from .models import ACTIVE_STATUSES, Job, JobStatus

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="core.tasks.probe_task")
def probe_task(self: Any, sent_at: float | None = None) -> dict[str, Any]:
    """Answer a health probe: ``{"queue", "hostname", "sent_at", "answered_at"}`` (Unix seconds).

    monitor_celery.py sends one to each queue (``apply_async(queue=…)``) to prove a worker
    consumes it; it spends no SerpApi searches and no AI money.
    """
    delivery = self.request.delivery_info or {}
    return {
        "queue": delivery.get("routing_key") or delivery.get("queue"),
        "hostname": self.request.hostname or socket.gethostname(),
        "sent_at": sent_at,
        "answered_at": time.time(),
    }


@shared_task(name="core.tasks.repair_stuck_runs_task")
def repair_stuck_runs_task() -> dict[str, dict[str, int]]:
    """Re-queue or fail job rows left ``running`` by a dead worker (queue ``maintenance``).

    Returns ``{model label: {"requeued": n, "failed": n}}``; see core.maintenance.
    """
    from .maintenance import stuck_runs_repair

    return stuck_runs_repair()


@shared_task(name="core.tasks.prune_old_runs_task")
def prune_old_runs_task(days: int = 30) -> dict[str, int]:
    """Delete finished job rows older than ``days`` days and expired results (queue ``maintenance``).

    Returns ``{model label: rows deleted, "celery_results": 0|1}``; see core.maintenance.
    """
    from .maintenance import old_runs_prune

    return old_runs_prune(days=days)


# --- the base class of job tasks -------------------------------------------------------------


class JobTask(Task):  # type: ignore[misc]  # celery-types' Task is generic
    """Base class of tasks that run a job row (fetch run, watch run, variant): one retry path.

    * Retries: Celery's own ``autoretry_for`` with ``retry_backoff`` (``RETRY_BACKOFF_BASE``
      seconds, doubling), ``retry_backoff_max`` (``RETRY_BACKOFF_CAP``) and full
      ``retry_jitter``; ``max_retries`` comes from the routing table (backend/celery.py). A
      countdown is never shorter than the error's ``retry_after`` (SerpApi's or our rate
      limiter's Retry-After), and :meth:`note_retry` records the wait on the row.
    * Give-up: when the task fails for good (retries exhausted, time limit, an unexpected
      error), :meth:`on_failure` fails its job row (found by ``celery_task_id``) with a
      readable reason through the row's app (:func:`core.jobs.job_fail_registered`).
    * A row another delivery holds: :meth:`defer_while_leased` (the task backs off).
    * A row deleted meanwhile (``ObjectDoesNotExist``) ends the task with one log line.
    * :meth:`progress` writes ``PROGRESS`` state to the result backend and never fails the task.

    Subclasses set ``job_model`` (``"app_label.Model"``), ``job_id_kwarg`` (the keyword argument
    naming the row's id, when the task gets one) and ``autoretry_for``.
    """

    abstract = True
    job_model: str = ""
    job_id_kwarg: str = ""
    retry_backoff = max(1, round(float(settings.RETRY_BACKOFF_BASE)))
    retry_backoff_max = max(1, round(float(settings.RETRY_BACKOFF_CAP)))
    retry_jitter = True
    _progress_failed = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._progress_failed = False
        try:
            return super().__call__(*args, **kwargs)
        except ObjectDoesNotExist as exc:
            logger.info("%s %s: its row is gone (%s); nothing to do", self.name, self.request.id, exc)
            return {"status": "gone", "error": str(exc)}

    def backoff(self, retries: int | None = None) -> float:
        """The countdown (seconds) before retry ``retries + 1``: what ``retry_backoff`` gives."""
        from celery.utils.time import get_exponential_backoff_interval

        return float(
            get_exponential_backoff_interval(
                factor=self.retry_backoff,
                retries=self.request.retries if retries is None else retries,
                maximum=self.retry_backoff_max,
                full_jitter=self.retry_jitter,
            )
        )

    def retry(  # type: ignore[override]  # same parameters as Celery's Task.retry
        self,
        args: Any = None,
        kwargs: Any = None,
        exc: Exception | None = None,
        throw: bool = True,
        eta: Any = None,
        countdown: float | None = None,
        max_retries: int | None = None,
        **options: Any,
    ) -> Any:
        """Celery's ``retry`` with the countdown raised to ``exc.retry_after`` when the error
        names one (Retry-After), defaulting to :meth:`backoff`, and the wait noted on the row."""
        retry_after = getattr(exc, "retry_after", None)
        if countdown is None and eta is None:
            countdown = self.backoff()
        if retry_after is not None and countdown is not None:
            countdown = max(float(countdown), float(retry_after))
        limit = self.max_retries if max_retries is None else max_retries
        if exc is not None and countdown is not None and (limit is None or self.request.retries < limit):
            self.note_retry(exc, countdown)
            logger.info("%s %s: %s; retrying in %.1f s", self.name, self.request.id, exc, countdown)
        return super().retry(
            args=args,
            kwargs=kwargs,
            exc=exc,
            throw=throw,
            eta=eta,
            countdown=countdown,
            max_retries=max_retries,
            **options,
        )

    def defer_while_leased(self, row: Job) -> bool:
        """If ``row`` is held by another delivery's live lease, send this task again for just
        after that lease expires and return True (this delivery backs off, having done nothing).

        The holder is alive, or it died moments ago: if it is alive the later copy finds the job
        finished and ends; if it died the copy takes the job over as soon as the lease lapses,
        without waiting for the stuck-run repair. The copy keeps the task id and arguments.
        """
        from django.utils import timezone

        now = timezone.now()
        if row.status != JobStatus.RUNNING or not row.lease_owner or row.lease_expires_at is None:
            return False
        if row.lease_expires_at <= now:
            return False
        countdown = (row.lease_expires_at - now).total_seconds() + 1.0
        logger.info(
            "%s %s: %s %s is held by %s; trying again in %.0f s",
            self.name,
            self.request.id,
            type(row).__name__,
            row.pk,
            row.lease_owner,
            countdown,
        )
        self.apply_async(
            args=tuple(self.request.args or ()),
            kwargs=dict(self.request.kwargs or {}),
            task_id=self.request.id,
            countdown=countdown,
        )
        return True

    def note_retry(self, exc: BaseException, countdown: float) -> None:
        """Record on the job row that ``exc`` will be retried in ``countdown`` seconds (and count
        the retry in its ``retries`` field and set its ``retry_at`` datetime, if it has them)."""
        model = self._model()
        if model is None:
            return
        from django.utils import timezone

        fields: dict[str, Any] = {"error": f"Retrying in {countdown:.0f} s after: {exc}"[:4000]}
        names = {field.name for field in model._meta.concrete_fields}
        if "retries" in names:
            fields["retries"] = F("retries") + 1  # the API shows how often a job was retried
        if "retry_at" in names:  # when the retry is due: what the web app counts down to
            fields["retry_at"] = timezone.now() + dt.timedelta(seconds=countdown)
        self._rows(model, task_id=self.request.id, kwargs=self.request.kwargs).filter(
            status=JobStatus.RUNNING
        ).update(**fields)

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        model = self._model()
        if model is None:
            return
        if isinstance(exc, SoftTimeLimitExceeded):
            reason = "Time limit exceeded; the run was stopped."
        elif isinstance(exc, tuple(getattr(self, "autoretry_for", ()) or ())):
            reason = f"Gave up after {self.request.retries + 1} attempts: {exc}"
        else:
            reason = f"Unexpected error: {type(exc).__name__}: {exc}"
        rows = self._rows(model, task_id=task_id, kwargs=kwargs).filter(status__in=ACTIVE_STATUSES)
        for pk in rows.values_list("pk", flat=True)[:1]:
            job_fail_registered(model, pk=pk, error=reason)

    def progress(self, meta: dict[str, Any]) -> None:
        """Store ``meta`` as the task's ``PROGRESS`` state; a result backend that is down only
        costs the progress (one warning per task), never the job."""
        try:
            self.update_state(state="PROGRESS", meta=meta)
        except Exception as exc:  # Redis down or full: the job row holds the real progress
            if not self._progress_failed:
                logger.warning("%s %s: progress not stored: %s", self.name, self.request.id, exc)
            self._progress_failed = True

    def _rows(self, model: type[Job], *, task_id: str | None, kwargs: Any) -> QuerySet[Any]:
        """The task's job row: by the id in ``kwargs[job_id_kwarg]``, else by ``celery_task_id``."""
        pk = (kwargs or {}).get(self.job_id_kwarg) if self.job_id_kwarg else None
        if pk is not None:
            return model._default_manager.filter(pk=pk)
        return model._default_manager.filter(celery_task_id=task_id)

    def _model(self) -> type[Job] | None:
        from django.apps import apps

        return apps.get_model(self.job_model) if self.job_model else None  # type: ignore[return-value]


@shared_task(bind=True, name="core.tasks.beat_heartbeat_task")
def beat_heartbeat_task(self: Any) -> dict[str, Any]:
    """Record celery beat's heartbeat in Redis (periodic, queue ``default``; core.heartbeat).

    Returns ``{"sent_at", "ran_at", "hostname"}`` (Unix seconds): ``sent_at`` is when beat
    published this tick (the ``adspark_sent_at`` message header).
    """
    from .heartbeat import beat_heartbeat_write
    from .metrics import SENT_AT_HEADER

    sent_at = self.request.get(SENT_AT_HEADER)
    return beat_heartbeat_write(
        sent_at=float(sent_at) if sent_at is not None else None,
        hostname=self.request.hostname or socket.gethostname(),
    )
