"""Job rows (:class:`core.models.Job` subclasses): claims with leases, transitions, the registry.

Every transition is one conditional ``UPDATE … WHERE …`` whose row count says whether this
caller won (the healthchecks way of claiming work), so two deliveries of the same task cannot
both run a job, and a finished job never goes back to ``running``.

Leases. :func:`job_claim` hands a row to one delivery: a ``pending`` row, or a ``running`` row
whose lease nobody holds (``lease_owner == ""``: it waits on a countdown or a shared fetch) or
whose lease expired (its worker died). An expired lease is taken over with a compare-and-set on
the previous owner and expiry, so of two deliveries racing for it exactly one wins; a delivery
that finds a live lease backs off without doing any work. While the job runs,
:meth:`Lease.heartbeat` renews the lease every ``JOB_HEARTBEAT_SECONDS`` and the job's own code
calls :meth:`Lease.renew` between steps (pages), which raises :class:`JobLeaseLost` when the row
was cancelled or taken over, so the job stops there.

Stuck (one definition, :func:`jobs_stuck`): ``running`` and the lease expired. A job waiting on
a known countdown sets its lease to expire after the countdown (:meth:`Lease.release`), so it is
not stuck while it waits.

Registry. Apps register their job models with :func:`job_register` (in ``AppConfig.ready``):
the task that runs a row and its kwargs (for the stuck-run repair to re-send it), how to fail a
row (apps may have more to do, e.g. a watch's backoff) and what to do after a row finished
(e.g. resume the watch runs waiting on a fetch). ``core`` names no app.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.celery import app, hard_time_limit

from .models import ACTIVE_STATUSES, Job, JobStatus

logger = logging.getLogger(__name__)


class JobLeaseLost(Exception):
    """The delivery no longer holds its row: it was cancelled, finished or taken over."""

    def __init__(self, model: type[Job], pk: int, status: str):
        super().__init__(f"{model._meta.label} {pk} is no longer held by this delivery (status {status}).")
        self.model, self.pk, self.status = model, pk, status


# --- registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobKind:
    """How ``core`` treats one job model (registered by its app with :func:`job_register`).

    ``task_name``: the Celery task that runs a row; ``task_kwargs(row)`` its keyword arguments
    (the repair re-sends ``task_name`` with them); ``requeue_counter``: the model field counting
    re-sends of rows whose worker died; ``fail(pk, error)``: mark a row failed (default
    :func:`job_fail`), returning False if it had already ended; ``on_finish(pk)``: called after
    commit whenever a row of this model ends (succeeded, failed or cancelled).
    """

    model: type[Job]
    task_name: str
    task_kwargs: Callable[[Any], dict[str, Any]]
    requeue_counter: str | None = None
    fail: Callable[[int, str], bool] | None = None
    on_finish: Callable[[int], object] | None = None


_REGISTRY: dict[str, JobKind] = {}


def job_register(kind: JobKind) -> None:
    """Register a job model (idempotent: the last registration of a model wins)."""
    _REGISTRY[kind.model._meta.label] = kind


def job_kind(model: type[Job]) -> JobKind | None:
    """Return the registration of ``model``, or None if its app registered none."""
    return _REGISTRY.get(model._meta.label)


def job_models() -> list[type[Job]]:
    """Return every concrete model that subclasses :class:`Job` (FetchRun, WatchRun, …)."""
    return [model for model in apps.get_models() if issubclass(model, Job) and not model._meta.abstract]


def _after_finish(model: type[Job], pk: int) -> None:
    kind = job_kind(model)
    if kind is not None and kind.on_finish is not None:
        on_finish = kind.on_finish
        transaction.on_commit(lambda: on_finish(pk))


# --- leases ----------------------------------------------------------------------------------


def lease_seconds() -> int:
    """Seconds a claim or a renewal holds a row (setting ``JOB_LEASE_SECONDS``)."""
    return int(settings.JOB_LEASE_SECONDS)


def _worker_hostname() -> str:
    from celery import current_task

    request = getattr(current_task, "request", None)
    return str(getattr(request, "hostname", None) or socket.gethostname())


def lease_owner_for(task_id: str | None, hostname: str | None = None) -> str:
    """``"<task id>@<worker hostname>#<nonce>"``: who holds a row (the nonce tells two deliveries
    of one task on one host apart, e.g. before and after a worker restart)."""
    return f"{task_id or '-'}@{hostname or _worker_hostname()}#{secrets.token_hex(4)}"


@dataclass
class Lease:
    """A delivery's hold on one job row; see the module docstring."""

    model: type[Job]
    pk: int
    owner: str
    lost: bool = field(default=False, compare=False)

    def _mine(self) -> QuerySet[Any]:
        return self.model._default_manager.filter(
            pk=self.pk, status=JobStatus.RUNNING, lease_owner=self.owner
        )

    def renew(self, *, seconds: float | None = None) -> None:
        """Extend the lease by ``seconds`` (default ``JOB_LEASE_SECONDS``) from now.

        Raises:
            JobLeaseLost: the row was cancelled, finished or taken over by another delivery.
        """
        until = timezone.now() + dt.timedelta(seconds=seconds or lease_seconds())
        if self.lost or not self._mine().update(lease_expires_at=until):
            self.lost = True
            status = self.model._default_manager.filter(pk=self.pk).values_list("status", flat=True).first()
            raise JobLeaseLost(self.model, self.pk, str(status or "deleted"))

    def release(self, *, wait_seconds: float, error: str | None = None) -> bool:
        """Give the row up while it waits (a retry countdown, a shared fetch) for ``wait_seconds``.

        The row stays ``running`` with no owner, so any later delivery may claim it at once,
        and it only counts as stuck once ``wait_seconds`` plus one lease have passed. ``error``
        (if given) is stored as the readable note of why it waits. Returns False if the lease
        was already lost.
        """
        fields: dict[str, Any] = {
            "lease_owner": "",
            "lease_expires_at": timezone.now() + dt.timedelta(seconds=wait_seconds + lease_seconds()),
        }
        if error is not None:
            fields["error"] = error[:4000]
        released = bool(self._mine().update(**fields))
        self.lost = True
        return released

    @contextmanager
    def heartbeat(self, *, every: float | None = None) -> Iterator[Lease]:
        """Renew the lease from a background thread every ``every`` seconds (default
        ``JOB_HEARTBEAT_SECONDS``) while the block runs; a lost lease sets :attr:`lost`
        (the job notices at its next :meth:`renew`)."""
        interval = float(every or settings.JOB_HEARTBEAT_SECONDS)
        stop = threading.Event()

        def beat() -> None:
            try:
                while not stop.wait(interval):
                    try:
                        self.renew()
                    except JobLeaseLost:
                        return
                    except Exception as exc:  # a database blip: the next beat tries again
                        logger.warning(
                            "lease heartbeat of %s %s failed: %s", self.model._meta.label, self.pk, exc
                        )
                        close_old_connections()
            finally:
                connection.close()  # this thread's own connection

        thread = threading.Thread(
            target=beat, name=f"lease-{self.model._meta.model_name}-{self.pk}", daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=interval + 5)


def job_claim(model: type[Job], *, pk: int, task_id: str | None, hostname: str | None = None) -> Lease | None:
    """Hand job ``pk`` to the delivery of ``task_id``; return its :class:`Lease`, or None.

    Claimable: ``pending``; ``running`` with no owner (waiting) or an expired lease (taken over
    with a compare-and-set on the previous owner and expiry). None when the row is finished,
    held by a live lease (this delivery is a duplicate: it must back off without working) or
    gone. The row's ``celery_task_id`` is only set when it has none, so a job's status URL
    never changes.
    """
    manager = model._default_manager
    row = manager.filter(pk=pk).values("status", "lease_owner", "lease_expires_at").first()
    if row is None or row["status"] not in ACTIVE_STATUSES:
        return None
    now = timezone.now()
    if row["status"] == JobStatus.RUNNING:
        expired = row["lease_expires_at"] is None or row["lease_expires_at"] <= now
        if row["lease_owner"] and not expired:
            logger.info(
                "%s %s is held by %s; this delivery backs off", model._meta.label, pk, row["lease_owner"]
            )
            return None
        candidates = manager.filter(
            pk=pk,
            status=JobStatus.RUNNING,
            lease_owner=row["lease_owner"],
            lease_expires_at=row["lease_expires_at"],
        )
        if row["lease_owner"]:
            logger.warning(
                "%s %s: taking over the expired lease of %s", model._meta.label, pk, row["lease_owner"]
            )
    else:
        candidates = manager.filter(pk=pk, status=JobStatus.PENDING)
    owner = lease_owner_for(task_id, hostname)
    fields: dict[str, Any] = {}
    if task_id:
        fields["celery_task_id"] = Coalesce("celery_task_id", Value(task_id))
    updated = candidates.update(
        **fields,
        status=JobStatus.RUNNING,
        started_at=Coalesce("started_at", Value(now)),
        error="",
        lease_owner=owner,
        lease_expires_at=now + dt.timedelta(seconds=lease_seconds()),
        updated_at=now,
    )
    return Lease(model, pk, owner) if updated == 1 else None


def _finish(
    model: type[Job], *, pk: int, status: str, lease: Lease | None, error: str, fields: dict[str, Any]
) -> bool:
    now = timezone.now()
    rows = model._default_manager.filter(pk=pk, status__in=ACTIVE_STATUSES)
    if lease is not None:
        rows = rows.filter(lease_owner=lease.owner)
    updated = rows.update(
        status=status,
        finished_at=now,
        updated_at=now,
        error=error[:4000],
        lease_owner="",
        lease_expires_at=None,
        **fields,
    )
    if updated:
        if lease is not None:
            lease.lost = True
        _after_finish(model, pk)
    return updated == 1


def job_succeed(model: type[Job], *, pk: int, lease: Lease | None = None, **fields: object) -> bool:
    """Mark job ``pk`` succeeded (setting ``fields`` too); False if it was not active (or, with
    ``lease``, no longer held by it)."""
    return _finish(model, pk=pk, status=JobStatus.SUCCEEDED, lease=lease, error="", fields=fields)


def job_fail(model: type[Job], *, pk: int, error: str, lease: Lease | None = None, **fields: object) -> bool:
    """Mark job ``pk`` failed with a readable ``error``; False if it was not active."""
    return _finish(model, pk=pk, status=JobStatus.FAILED, lease=lease, error=error, fields=fields)


def job_cancel(model: type[Job], *, pk: int, reason: str = "Cancelled.", **fields: object) -> bool:
    """Mark job ``pk`` cancelled (finished; the repair never re-queues it), setting ``fields``
    too; False if it had ended.

    A delivery running it notices at its next :meth:`Lease.renew` (between pages) and stops.
    """
    return _finish(model, pk=pk, status=JobStatus.CANCELLED, lease=None, error=reason, fields=fields)


def job_fail_registered(model: type[Job], *, pk: int, error: str) -> bool:
    """Fail job ``pk`` the way its app says (:attr:`JobKind.fail`), else with :func:`job_fail`."""
    kind = job_kind(model)
    if kind is not None and kind.fail is not None:
        return kind.fail(pk, error)
    return job_fail(model, pk=pk, error=error)


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


def revoke_job(task_id: str, *, terminate: bool = False) -> Job | None:
    """Revoke Celery task ``task_id`` and mark its job row ``cancelled``; return the row (or None).

    The revoke (``app.control.revoke``, broadcast to every worker) drops queued copies of the
    message; with ``terminate`` the worker running it also kills it (SIGTERM). Without
    ``terminate`` a running job stops between two pages, when it sees its row cancelled. Rows
    that had already finished are returned unchanged.
    """
    app.control.revoke(task_id, terminate=terminate)
    for model in job_models():
        row = model._default_manager.filter(celery_task_id=task_id).first()
        if row is not None:
            with transaction.atomic():
                job_cancel(model, pk=row.pk, reason=f"Cancelled: task {task_id} was revoked.")
            row.refresh_from_db()
            return row
    return None


# --- publishing ------------------------------------------------------------------------------


def publish_on_commit(send: Callable[[], object], *, what: str) -> None:
    """Call ``send`` (which publishes a job's message) after the current transaction commits.

    If the broker cannot be reached the error is logged, not raised: the job row is committed
    and ``pending``, so the request that created it still succeeds (202) and the stuck-run
    repair publishes it again once it has waited ``JOB_PENDING_REPUBLISH_SECONDS``
    (:func:`jobs_unpublished`). ``what`` names the job in the log line.
    """

    def publish() -> None:
        try:
            send()
        except Exception as exc:  # kombu OperationalError, redis ConnectionError, OSError …
            logger.warning("%s not published (%s); the stuck-run repair will publish it again", what, exc)

    transaction.on_commit(publish)


# --- stuck and lost jobs ----------------------------------------------------------------------


def job_stuck_limit(model: type[Job], *, margin_seconds: float = 0.0) -> float:
    """Seconds a ``running`` row may go without a lease renewal before it is stuck: one lease
    (``JOB_LEASE_SECONDS``) plus ``margin_seconds``."""
    return lease_seconds() + margin_seconds


def jobs_stuck(
    model: type[Job], *, now: dt.datetime | None = None, margin_seconds: float = 0.0
) -> QuerySet[Any]:
    """Rows of ``model`` that are ``running`` with a lease that expired (``margin_seconds`` ago).

    This is the one definition of "stuck": a live worker renews its lease every
    ``JOB_HEARTBEAT_SECONDS``; a row waiting on a countdown or a shared fetch has a lease that
    expires after the wait. Rows without any lease (claimed before leases existed) count as
    stuck once their task's hard time limit has passed since ``updated_at``.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=margin_seconds)
    legacy = now - dt.timedelta(seconds=hard_time_limit(model.TASK_NAME) + margin_seconds)
    return model._default_manager.filter(
        Q(lease_expires_at__lt=cutoff) | Q(lease_expires_at__isnull=True, updated_at__lt=legacy),
        status=JobStatus.RUNNING,
    ).order_by("pk")


def jobs_unpublished(
    model: type[Job], *, now: dt.datetime | None = None, older_than: float | None = None
) -> QuerySet[Any]:
    """Rows of ``model`` still ``pending`` ``older_than`` seconds (default
    ``JOB_PENDING_REPUBLISH_SECONDS``) after they were created or last published: their message
    may have been lost."""
    now = now or timezone.now()
    bound = settings.JOB_PENDING_REPUBLISH_SECONDS if older_than is None else older_than
    return model._default_manager.filter(
        status=JobStatus.PENDING, updated_at__lt=now - dt.timedelta(seconds=bound)
    ).order_by("pk")


def jobs_orphaned(
    model: type[Job], *, known_task_ids: set[str], older_than_seconds: float, now: dt.datetime | None = None
) -> list[Any]:
    """Rows of :func:`jobs_unpublished` (pending ``older_than_seconds``) whose task message the
    broker no longer holds.

    ``known_task_ids`` are the ids the broker holds, waiting or unacked
    (:func:`core.health.broker_task_ids`). Such a row will never start by itself: its message was
    purged, lost in a Redis restart without persistence, or never sent. A row whose message is
    still queued or held by a worker (an ETA or countdown) is not an orphan, however old.
    """
    rows = jobs_unpublished(model, now=now, older_than=older_than_seconds)
    return [row for row in rows if not row.celery_task_id or row.celery_task_id not in known_task_ids]


def leases_release_of_worker(hostname: str) -> int:
    """Expire the leases held by a previous life of worker ``hostname`` (called when it starts).

    A worker that has just started holds no lease, so any lease naming its hostname belonged
    to the process that died before the restart: making it expire now lets the repair hand its
    jobs over at once instead of after ``JOB_LEASE_SECONDS``. Returns the rows changed.
    """
    now = timezone.now()
    changed = 0
    for model in job_models():
        changed += model._default_manager.filter(
            status=JobStatus.RUNNING, lease_owner__contains=f"@{hostname}#", lease_expires_at__gt=now
        ).update(lease_expires_at=now)
    return changed
