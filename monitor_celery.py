#!/usr/bin/env python3
"""monitor_celery.py — health check, live monitor and interactive console for AdSpark's Celery.

Modes (exactly one; ``--check`` is the default)::

    python monitor_celery.py --check [--json]     # one health check, exit 0/1/2
    python monitor_celery.py --interactive        # menu driven by standard input
    python monitor_celery.py --monitor 30         # live table of task events for 30 s
    python monitor_celery.py --task-id ID         # one task: state, result, AdSpark job row
    python monitor_celery.py --history --since 1h --state failed   # job rows (survive restarts)

``--check`` looks at: Redis (the broker) and the database; that each of the four queues has a
consuming worker; a probe task (``core.tasks.probe_task``, which does nothing) sent to each
queue and its round-trip latency; the age of celery beat's last heartbeat (a Redis key written
by the periodic ``core.tasks.beat_heartbeat_task``, core.heartbeat); queue depths and the
oldest waiting message; job rows stuck in ``running``; orphans: rows ``pending`` whose task
message the broker no longer holds (after a purge or a Redis restart without persistence);
workers sharing one node name (started without ``-n``). It never sends a task that spends
SerpApi searches or AI money.

Exit codes of ``--check``: 0 healthy, 1 degraded (something needs attention, work still
flows), 2 down (broker or database unreachable, or no worker consumes any queue).
``--task-id``: 0 found (succeeded or in progress), 1 failed, 2 unknown to Celery and the database.
Any mode: 2 when the broker (Redis) is unreachable ("broker unreachable", never a traceback; the
menu says so and shows the menu again), 130 after Ctrl-C, 2 when Django settings are invalid.

Configuration comes from the same environment (and ``.env``) as the project: ``DATABASE_URL``,
``CELERY_BROKER_URL``, ``CELERY_RESULT_BACKEND``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

REPO_DIR = Path(__file__).resolve().parent
BACKEND_DIR = REPO_DIR / "backend"

EXIT_HEALTHY = 0
EXIT_DEGRADED = 1
EXIT_DOWN = 2
EXIT_INTERRUPTED = 130

# Grace (seconds) added to a task's hard time limit before a `running` row counts as stuck:
# after the hard limit the worker has killed the task, so nobody will finish the row.
STUCK_GRACE = 60.0
# Age (seconds) before a `pending` row without a message in the broker counts as orphaned: the
# message is sent on commit, milliseconds after the row is written; 60 s leaves room for a slow
# commit and never flags a row whose message is on its way.
ORPHAN_GRACE = 60.0
# Seconds between refreshes of the live view's queue depths and consumers (a broadcast waits
# for replies, so it is not done on every event).
QUEUE_REFRESH = 3.0


class BrokerUnreachable(Exception):
    """The broker's (or the result backend's) Redis did not answer a PING."""


def broker_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the broker or result backend is unreachable" (redis, kombu, sockets)."""
    import kombu.exceptions
    import redis

    return (BrokerUnreachable, redis.RedisError, kombu.exceptions.OperationalError, ConnectionError, OSError)


def database_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the database is unreachable" (any Django database error)."""
    from django.db import DatabaseError

    return (DatabaseError,)


def require_broker(*, result_backend: bool = False) -> None:
    """PING the broker (and the result backend) before talking to it, so nothing waits on retries.

    Raises:
        BrokerUnreachable: with the (password-free) URL and the reason.
    """
    from django.conf import settings
    from kombu.utils.url import maybe_sanitize_url

    from core.health import check_redis

    urls = [settings.CELERY_BROKER_URL]
    if result_backend and str(settings.CELERY_RESULT_BACKEND).startswith(("redis://", "rediss://")):
        urls.append(settings.CELERY_RESULT_BACKEND)
    for url in urls:
        answer = check_redis(url)
        if not answer["ok"]:
            raise BrokerUnreachable(f"{maybe_sanitize_url(url)}: {answer.get('error')}")


def bootstrap_django() -> None:
    """Make ``backend/`` importable and set Django up (idempotent).

    Raises:
        django.core.exceptions.ImproperlyConfigured: the environment is invalid.
    """
    if str(BACKEND_DIR) not in sys.path:
        sys.path.insert(0, str(BACKEND_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django

    django.setup()
    # kombu's and celery's INFO lines ("Connected to redis://…") would land inside the tables.
    for name in ("kombu", "celery", "amqp"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- check: the individual probes ---------------------------------------------------------------


def oldest_waiting(client: Any, queue: str) -> dict[str, Any] | None:
    """Describe the oldest message waiting in ``queue``, or None if the queue is empty.

    Kombu's Redis transport LPUSHes new messages and BRPOPs from the tail, so the oldest
    message is the list's last element. Its JSON envelope is
    ``{"body": base64, "headers": {"id", "task", "eta", "expires", "retries", …}, "properties": …}``.
    Returns ``{"task_id", "task", "eta", "expires", "retries"}`` (ISO times or None).
    """
    from core.health import broker_queue_keys

    for key in broker_queue_keys(queue):
        raw = client.lindex(key, -1)
        if raw is None:
            continue
        try:
            message = json.loads(raw)
        except (ValueError, TypeError):
            return {"task_id": None, "task": None, "eta": None, "expires": None, "retries": None, "raw": True}
        headers = message.get("headers") or {}
        return {
            "task_id": headers.get("id"),
            "task": headers.get("task"),
            "eta": headers.get("eta"),
            "expires": headers.get("expires"),
            "retries": headers.get("retries"),
        }
    return None


def job_row(task_id: str) -> Any | None:
    """Return the AdSpark job row (any :class:`core.models.Job` subclass) run by ``task_id``."""
    from django.db import DatabaseError

    from core.jobs import job_models

    for model in job_models():
        try:
            row = model.objects.filter(celery_task_id=task_id).first()
        except DatabaseError:  # a model whose migration is not applied yet
            continue
        if row is not None:
            return row
    return None


def describe_job(row: Any) -> dict[str, Any]:
    """A job row as plain JSON: model, id, status, progress, error and timestamps (ISO)."""
    return {
        "model": row._meta.label,
        "id": row.pk,
        "status": row.status,
        "progress": f"{row.progress_done}/{row.progress_total}",
        "error": row.error or None,
        "created_at": _iso(row.created_at),
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "updated_at": _iso(row.updated_at),
    }


def queue_report(queues: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Return ``{queue: {"depth": int, "oldest": dict | None}}`` read from the broker's Redis.

    ``oldest`` (see :func:`oldest_waiting`) gains ``waiting_seconds`` when the message belongs
    to a job row (its ``created_at``); Celery's own envelope carries no send time.

    Raises:
        redis.RedisError: the broker is unreachable.
    """
    import redis
    from django.conf import settings

    from core.health import queue_depths

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
    depths = queue_depths()
    report: dict[str, dict[str, Any]] = {}
    for queue in queues:
        oldest = oldest_waiting(client, queue)
        if oldest and oldest.get("task_id"):
            try:
                row = job_row(oldest["task_id"])
            except Exception:  # database down: the depth still matters
                row = None
            if row is not None:
                oldest["job"] = f"{row._meta.label}#{row.pk}"
                oldest["waiting_seconds"] = round((_now() - row.created_at).total_seconds(), 1)
        report[queue] = {"depth": depths.get(queue), "oldest": oldest}
    return report


def send_probes(queues: Iterable[str], *, timeout: float) -> dict[str, dict[str, Any]]:
    """Send ``core.tasks.probe_task`` to each queue and wait up to ``timeout`` s for all.

    The probes expire after ``timeout`` so an unanswered one never lingers in a queue.
    Returns ``{queue: {"ok": bool, "latency_ms"?: float, "hostname"?: str, "error"?: str}}``.
    """
    from core.tasks import probe_task

    sent: dict[str, tuple[Any, float]] = {}
    results: dict[str, dict[str, Any]] = {}
    for queue in queues:
        started = time.perf_counter()
        try:
            result = probe_task.apply_async(kwargs={"sent_at": time.time()}, queue=queue, expires=timeout)
        except Exception as exc:  # broker refused the message
            results[queue] = {"ok": False, "error": f"send failed: {exc}"[:300]}
            continue
        sent[queue] = (result, started)
    deadline = time.monotonic() + timeout
    while sent and time.monotonic() < deadline:
        for queue, (result, started) in list(sent.items()):
            try:
                ready = result.ready()
            except Exception as exc:  # result backend unreachable
                results[queue] = {"ok": False, "error": f"result backend: {exc}"[:300]}
                del sent[queue]
                continue
            if not ready:
                continue
            latency = round((time.perf_counter() - started) * 1000, 1)
            del sent[queue]
            if result.successful():
                answer = result.result or {}
                results[queue] = {"ok": True, "latency_ms": latency, "hostname": answer.get("hostname")}
            else:
                results[queue] = {"ok": False, "latency_ms": latency, "error": f"probe {result.state}"}
            result.forget()
        time.sleep(0.02)
    for queue, (result, _started) in sent.items():
        results[queue] = {"ok": False, "error": f"no answer within {timeout:g} s (workers busy or stuck?)"}
        result.revoke()
    return results


def beat_report(*, max_age: float | None = None) -> dict[str, Any]:
    """How recently celery beat sent its heartbeat tick (core.heartbeat: a Redis key written by
    the periodic ``core.tasks.beat_heartbeat_task``).

    Returns ``{"ok": bool, "state": "idle" | "ok" | "waiting" | "stale" | "never",
    "enabled_tasks": int, "last_tick": ISO | None, "age_seconds": float | None,
    "max_age_seconds": float}``. ``idle``: no enabled periodic task, so beat has nothing to do;
    ``waiting``: no heartbeat yet but the schedule changed less than ``max_age`` ago.
    ``max_age`` defaults to ``core.heartbeat.BEAT_HEARTBEAT_MAX_AGE`` (three intervals).
    """
    from django.db.models import Min
    from django_celery_beat.models import PeriodicTask

    from core.heartbeat import BEAT_HEARTBEAT_MAX_AGE, beat_heartbeat_read

    enabled = PeriodicTask.objects.filter(enabled=True)
    count = enabled.count()
    max_age = BEAT_HEARTBEAT_MAX_AGE if max_age is None else max_age
    report: dict[str, Any] = {
        "ok": True,
        "state": "idle",
        "enabled_tasks": count,
        "last_tick": None,
        "age_seconds": None,
        "max_age_seconds": max_age,
    }
    if count == 0:
        return report
    beat = beat_heartbeat_read()
    if beat is None:
        changed: datetime | None = enabled.aggregate(changed=Min("date_changed"))["changed"]
        young = changed is not None and (_now() - changed).total_seconds() < max_age
        report.update(ok=young, state="waiting" if young else "never")
        return report
    last = datetime.fromtimestamp(beat["sent_at"], UTC)
    age = round(max(0.0, (_now() - last).total_seconds()), 1)
    report.update(
        ok=age <= max_age, state="ok" if age <= max_age else "stale", last_tick=_iso(last), age_seconds=age
    )
    return report


def stuck_runs(*, grace: float = STUCK_GRACE) -> list[dict[str, Any]]:
    """Job rows ``running`` for longer than their task's hard time limit plus ``grace`` seconds.

    The age is taken from ``updated_at`` (set when a delivery claims the row): past the hard
    limit the worker has killed the task, so the row will not finish by itself.
    """
    from django.db import DatabaseError

    from core.jobs import job_models, job_stuck_limit, jobs_stuck

    found: list[dict[str, Any]] = []
    for model in job_models():
        limit = job_stuck_limit(model, margin_seconds=grace)
        try:
            rows = list(jobs_stuck(model, margin_seconds=grace, now=_now())[:50])
        except DatabaseError:  # a model whose migration is not applied yet: nothing can be stuck there
            continue
        found.extend(
            {**describe_job(row), "task_id": row.celery_task_id, "limit_seconds": limit} for row in rows
        )
    return found


def orphaned_runs(*, grace: float = ORPHAN_GRACE) -> list[dict[str, Any]]:
    """Job rows ``pending`` for more than ``grace`` seconds whose task message the broker lost.

    Compares each pending row's ``celery_task_id`` with every id waiting in the four queues and
    held unacked by workers (:func:`core.health.broker_task_ids`).

    Raises:
        redis.RedisError: the broker is unreachable.
    """
    from django.db import DatabaseError

    from core.health import broker_task_ids
    from core.jobs import job_models, jobs_orphaned

    known = broker_task_ids()
    found: list[dict[str, Any]] = []
    for model in job_models():
        try:
            rows = jobs_orphaned(model, known_task_ids=known, older_than_seconds=grace, now=_now())
        except DatabaseError:  # a model whose migration is not applied yet
            continue
        found.extend({**describe_job(row), "task_id": row.celery_task_id} for row in rows[:50])
    return found


# --- check: putting it together -----------------------------------------------------------------


@dataclass
class CheckOptions:
    """Knobs of :func:`run_check` (seconds)."""

    probe_timeout: float = 10.0
    inspect_timeout: float = 2.0
    probes: bool = True
    beat_max_age: float | None = None
    stuck_grace: float = STUCK_GRACE
    orphan_grace: float = ORPHAN_GRACE
    queues: tuple[str, ...] = field(default_factory=tuple)


def run_check(options: CheckOptions) -> dict[str, Any]:
    """Run every check and return the report (see :func:`evaluate` for its verdict).

    Shape: ``{"redis", "database", "queues": {queue: {"consumers", "depth", "oldest", "probe"}},
    "duplicate_nodes": {node name: workers}, "beat", "stuck_runs", "orphaned_runs", "status",
    "exit_code", "problems", "checked_at"}``. ``consumers`` lists a node name once per worker.
    """
    from backend.celery import QUEUES
    from core.health import (
        check_database,
        check_redis,
        consumers_from_replies,
        duplicate_node_names,
        worker_replies,
    )

    queues = options.queues or QUEUES
    report: dict[str, Any] = {"checked_at": _iso(_now())}
    report["redis"] = check_redis()
    report["database"] = check_database()
    report["queues"] = {
        queue: {"consumers": [], "depth": None, "oldest": None, "probe": None} for queue in queues
    }
    report["duplicate_nodes"] = {}
    report["orphaned_runs"] = []
    if report["redis"]["ok"]:
        replies = worker_replies("active_queues", timeout=options.inspect_timeout)
        consumers = consumers_from_replies(replies)
        report["duplicate_nodes"] = duplicate_node_names(replies)
        try:
            depths = queue_report(queues)
        except Exception as exc:
            depths = {queue: {"depth": None, "oldest": None, "error": str(exc)[:200]} for queue in queues}
        for queue in queues:
            report["queues"][queue].update(depths[queue], consumers=consumers.get(queue, []))
        if options.probes:
            served = [queue for queue in queues if report["queues"][queue]["consumers"]]
            for queue, probe in send_probes(served, timeout=options.probe_timeout).items():
                report["queues"][queue]["probe"] = probe
    if report["database"]["ok"]:
        try:
            report["beat"] = beat_report(max_age=options.beat_max_age)
        except Exception as exc:  # e.g. migrations not applied
            report["beat"] = {"ok": False, "state": "error", "error": str(exc)[:300]}
        report["stuck_runs"] = stuck_runs(grace=options.stuck_grace)
        if report["redis"]["ok"]:
            try:
                report["orphaned_runs"] = orphaned_runs(grace=options.orphan_grace)
            except broker_errors() as exc:  # the broker went away between the checks
                report["redis"] = {"ok": False, "error": str(exc)[:300]}
    else:
        report["beat"] = {"ok": False, "state": "unknown", "error": "database unreachable"}
        report["stuck_runs"] = []
    status, problems = evaluate(report)
    report.update(status=status, exit_code=EXIT_CODES[status], problems=problems)
    return report


EXIT_CODES = {"healthy": EXIT_HEALTHY, "degraded": EXIT_DEGRADED, "down": EXIT_DOWN}


def evaluate(report: dict[str, Any]) -> tuple[str, list[str]]:
    """Return ``(status, problems)`` for a :func:`run_check` report.

    ``down``: the broker or the database is unreachable, or no queue has a consumer.
    ``degraded``: a queue without a consumer, a probe unanswered, beat stale, a stuck run, a
    pending run whose message is gone, workers sharing a node name.
    """
    problems: list[str] = []
    down = False
    if not report["redis"]["ok"]:
        problems.append(f"redis unreachable: {report['redis'].get('error')}")
        down = True
    if not report["database"]["ok"]:
        problems.append(f"database unreachable: {report['database'].get('error')}")
        down = True
    queues = report["queues"]
    if not down:
        idle = [queue for queue, info in queues.items() if not info["consumers"]]
        if idle and len(idle) == len(queues):
            problems.append("no worker consumes any queue")
            down = True
        for queue in idle:
            if not down:
                problems.append(f"queue {queue}: no consuming worker ({queues[queue]['depth'] or 0} waiting)")
        for queue, info in queues.items():
            probe = info.get("probe")
            if probe is not None and not probe["ok"]:
                problems.append(f"queue {queue}: probe failed: {probe.get('error')}")
    beat = report.get("beat") or {}
    if not down and not beat.get("ok", True):
        problems.append(
            f"beat {beat.get('state')}: last tick {beat.get('age_seconds')} s ago "
            f"(max {beat.get('max_age_seconds')} s)"
        )
    for name, count in (report.get("duplicate_nodes") or {}).items():
        queues_of = sorted(queue for queue, info in queues.items() if name in info["consumers"])
        problems.append(
            f"{count} workers share the node name {name} (queues {', '.join(queues_of) or '?'}): "
            "revoke, inspect and Flower see them as one; start each with its own name: -n <queue>@%h"
        )
    for run in report.get("stuck_runs") or []:
        problems.append(
            f"{run['model']}#{run['id']} running since {run['updated_at']} (task {run['task_id']})"
        )
    for run in report.get("orphaned_runs") or []:
        problems.append(
            f"{run['model']}#{run['id']} pending since {run['created_at']} but its task "
            f"{run['task_id'] or '(none)'} is in no queue and held by no worker (purged or lost)"
        )
    if down:
        return "down", problems
    return ("degraded" if problems else "healthy"), problems


# --- rendering ------------------------------------------------------------------------------------


def _console(stream: TextIO | None = None) -> Any:
    from rich.console import Console

    stream = stream or sys.stdout
    # Off a terminal (a pipe, a log file) rich assumes 80 columns and cuts ids; keep them whole.
    width = None if os.environ.get("COLUMNS") or stream.isatty() else 200
    return Console(file=stream, highlight=False, soft_wrap=True, width=width)


def _consumers_text(consumers: list[str]) -> str:
    """``a@h, b@h`` with ``×N`` after a name that N workers share."""
    counts: dict[str, int] = {}
    for name in consumers:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(name if count == 1 else f"{name} ×{count}" for name, count in counts.items())


def render_check(report: dict[str, Any], console: Any) -> None:
    """Print a check report as a table plus its verdict."""
    from rich.table import Table

    colour = {"healthy": "green", "degraded": "yellow", "down": "red"}[report["status"]]
    console.print(f"[bold {colour}]{report['status'].upper()}[/] at {report['checked_at']}")
    for name in ("redis", "database"):
        info = report[name]
        detail = f"{info.get('latency_ms')} ms" if info["ok"] else info.get("error")
        console.print(f"  {name:9} {'ok' if info['ok'] else 'DOWN'}  {detail}")
    table = Table("queue", "workers", "depth", "oldest waiting", "probe")
    for queue, info in report["queues"].items():
        oldest = info.get("oldest")
        oldest_text = "-"
        if oldest:
            oldest_text = f"{oldest.get('task')} {oldest.get('task_id')}"
            if oldest.get("waiting_seconds") is not None:
                oldest_text += f" ({oldest['waiting_seconds']} s)"
        probe = info.get("probe")
        probe_text = (
            "-" if probe is None else (f"{probe['latency_ms']} ms" if probe["ok"] else probe.get("error"))
        )
        table.add_row(
            queue,
            _consumers_text(info["consumers"]) or "[red]none[/]",
            str(info.get("depth")),
            oldest_text,
            probe_text,
        )
    console.print(table)
    beat = report.get("beat") or {}
    console.print(
        f"  beat      {beat.get('state')}  last tick {beat.get('last_tick')} "
        f"({beat.get('age_seconds')} s ago, {beat.get('enabled_tasks')} enabled tasks)"
    )
    console.print(f"  stuck     {len(report.get('stuck_runs') or [])} running job rows past their time limit")
    console.print(
        f"  orphaned  {len(report.get('orphaned_runs') or [])} pending job rows whose message is gone"
    )
    for problem in report["problems"]:
        console.print(f"  [{colour}]- {problem}[/]")


# --- task by id -----------------------------------------------------------------------------------


def task_report(task_id: str) -> dict[str, Any]:
    """State, result or traceback of Celery task ``task_id`` and the AdSpark job row it ran.

    Returns ``{"task_id", "state", "name", "queue", "worker", "date_done", "result",
    "traceback", "job": dict | None, "known": bool}``. Celery reports unknown ids as PENDING;
    ``known`` is False when neither the result backend nor the database has heard of it.
    """
    from celery.result import AsyncResult

    from backend.celery import app

    result = AsyncResult(task_id, app=app)
    state = result.state
    value = result.result
    if isinstance(value, BaseException):
        value = f"{type(value).__name__}: {value}"
    meta: dict[str, Any] = {}
    try:
        meta = result.backend.get_task_meta(task_id) or {}
    except Exception:  # backend down: the state above says so
        meta = {}
    row = job_row(task_id)
    report = {
        "task_id": task_id,
        "state": state,
        "name": meta.get("name"),
        "queue": meta.get("queue"),
        "worker": meta.get("worker"),
        "date_done": str(meta.get("date_done")) if meta.get("date_done") else None,
        "result": value,
        "traceback": result.traceback,
        "job": describe_job(row) if row is not None else None,
    }
    report["known"] = state != "PENDING" or row is not None
    return report


def task_exit_code(report: dict[str, Any]) -> int:
    """0 succeeded or in progress, 1 failed (Celery or job row), 2 unknown."""
    if not report["known"]:
        return EXIT_DOWN
    job = report.get("job") or {}
    if report["state"] == "FAILURE" or job.get("status") == "failed":
        return EXIT_DEGRADED
    return EXIT_HEALTHY


def render_task(report: dict[str, Any], console: Any) -> None:
    if not report["known"]:
        console.print(f"task {report['task_id']}: unknown (no result, no job row)")
        return
    console.print(
        f"task {report['task_id']}: [bold]{report['state']}[/]"
        f"  name={report['name']} queue={report['queue']} worker={report['worker']}"
    )
    if report["result"] is not None:
        console.print(f"  result: {json.dumps(report['result'], default=str)}")
    if report["traceback"]:
        console.print(report["traceback"], markup=False)
    job = report["job"]
    if job:
        console.print(
            f"  job: {job['model']}#{job['id']} {job['status']} progress {job['progress']}"
            f" started {job['started_at']} finished {job['finished_at']}"
        )
        if job["error"]:
            console.print(f"  job error: {job['error']}", markup=False)
    else:
        console.print("  job: no AdSpark job row for this task")


# --- live monitor from Celery events --------------------------------------------------------------

EVENT_COLUMNS = ("sent", "received", "started", "succeeded", "failed", "retried")
# Events after which a task has started or will not start (its "not started" count drops).
_STARTED_OR_DONE = {"started", "succeeded", "failed", "revoked", "rejected"}


@dataclass
class TaskStats:
    """Counters and runtimes (seconds) of one (queue, task) pair."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENT_COLUMNS, 0))
    runtimes: list[float] = field(default_factory=list)


class EventTally:
    """Folds Celery task events into per-(queue, task) counters.

    ``task-sent`` events carry the queue; other events carry only the task id (and the name on
    ``task-received``), so the queue is remembered per id, else taken from the routing table.
    ``not_started`` counts tasks heard of as sent or received but not (yet) started.
    """

    def __init__(self, routes: dict[str, str] | None = None) -> None:
        self.routes = routes or {}
        self.started_at = time.monotonic()
        self.tasks: dict[str, tuple[str, str]] = {}
        self.stats: dict[tuple[str, str], TaskStats] = {}
        self.workers: dict[str, float] = {}
        self.not_started: dict[str, tuple[str, str]] = {}

    def _key(self, event: dict[str, Any]) -> tuple[str, str]:
        uuid = event.get("uuid", "")
        name = event.get("name")
        queue = event.get("queue") or event.get("routing_key")
        known = self.tasks.get(uuid)
        if known and not name:
            return known
        name = name or (known[1] if known else "?")
        queue = queue or (known[0] if known else None) or self.routes.get(name, "?")
        self.tasks[uuid] = (queue, name)
        return queue, name

    def feed(self, event: dict[str, Any]) -> None:
        kind = event.get("type", "")
        if kind.startswith("worker-"):
            self.workers[event.get("hostname", "?")] = time.monotonic()
            return
        if not kind.startswith("task-"):
            return
        key = self._key(event)
        column = kind.removeprefix("task-")
        uuid = event.get("uuid", "")
        if column in ("sent", "received"):
            self.not_started[uuid] = key
        elif column in _STARTED_OR_DONE:
            self.not_started.pop(uuid, None)
        if column not in EVENT_COLUMNS:
            return
        stats = self.stats.setdefault(key, TaskStats())
        stats.counts[column] += 1
        if column == "succeeded" and event.get("runtime") is not None:
            stats.runtimes.append(float(event["runtime"]))

    def rows(self) -> list[dict[str, Any]]:
        """One dict per (queue, task): counts, ``not_started``, ``per_minute`` (succeeded), runtimes (s)."""
        elapsed = max(time.monotonic() - self.started_at, 1e-6)
        waiting: dict[tuple[str, str], int] = {}
        for key in self.not_started.values():
            waiting[key] = waiting.get(key, 0) + 1
        rows = []
        for (queue, name), stats in sorted(self.stats.items()):
            runtimes = stats.runtimes
            rows.append(
                {
                    "queue": queue,
                    "task": name,
                    **stats.counts,
                    "not_started": waiting.get((queue, name), 0),
                    "per_minute": round(stats.counts["succeeded"] * 60 / elapsed, 2),
                    "avg_runtime": round(sum(runtimes) / len(runtimes), 4) if runtimes else None,
                    "max_runtime": round(max(runtimes), 4) if runtimes else None,
                }
            )
        return rows


def seconds_left_text(seconds_left: float) -> str:
    """Whole seconds left for the title, never below 0 (no "-0 s left" at the end)."""
    return f"{max(0, math.ceil(seconds_left))} s left"


def tally_table(tally: EventTally, seconds_left: float | None = None) -> Any:
    from rich.table import Table

    title = f"Celery task events — {len(tally.workers)} workers heard"
    if seconds_left is not None:
        title += f" — {seconds_left_text(seconds_left)}"
    table = Table("queue", "task", *EVENT_COLUMNS, "not started", "per min", "avg s", "max s", title=title)
    for row in tally.rows():
        table.add_row(
            row["queue"],
            row["task"],
            *(str(row[c]) for c in EVENT_COLUMNS),
            str(row["not_started"]),
            str(row["per_minute"]),
            str(row["avg_runtime"] or "-"),
            str(row["max_runtime"] or "-"),
        )
    return table


def queue_snapshot(*, timeout: float = 0.5) -> dict[str, dict[str, Any]]:
    """``{queue: {"depth": int | None, "consumers": [node names]}}`` from the broker, now."""
    from core.health import queue_consumers, queue_depths

    depths = queue_depths()
    consumers = queue_consumers(timeout=timeout)
    return {queue: {"depth": depths.get(queue), "consumers": consumers.get(queue, [])} for queue in depths}


def queues_table(snapshot: dict[str, dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table("queue", "waiting", "consumers", title="Queues (broker)")
    for queue, info in snapshot.items():
        table.add_row(
            queue,
            "?" if info["depth"] is None else str(info["depth"]),
            _consumers_text(info["consumers"]) or "[red]none[/]",
        )
    return table


def live_view(tally: EventTally, snapshot: dict[str, dict[str, Any]], seconds_left: float | None) -> Any:
    from rich.console import Group

    return Group(queues_table(snapshot), tally_table(tally, seconds_left))


def run_monitor(
    seconds: float, *, console: Any, as_json: bool = False, on_ready: Callable[[], None] | None = None
) -> EventTally:
    """Collect task events for ``seconds`` and show a live view: queue depths and consumers
    (refreshed every :data:`QUEUE_REFRESH` s) above per-(queue, task) event counts (a final
    view off a terminal).

    Raises:
        BrokerUnreachable, redis.RedisError, kombu.exceptions.OperationalError: no broker.
    """
    from rich.live import Live

    from backend.celery import TASKS, app

    require_broker()
    tally = EventTally({name: options["queue"] for name, options in TASKS.items()})
    deadline = time.monotonic() + seconds
    snapshot = queue_snapshot()
    refreshed = time.monotonic()
    live = (
        Live(live_view(tally, snapshot, seconds), console=console, refresh_per_second=2, auto_refresh=False)
        if console.is_terminal and not as_json
        else None
    )
    with app.connection_for_read() as connection:
        receiver = app.events.Receiver(connection, handlers={"*": tally.feed})
        # The receiver's own connection (a clone) drains the events; ours only configures it.
        with receiver.consumer_context(wakeup=False) as (events_connection, _channel, _consumers):
            if on_ready:
                on_ready()
            if live:
                live.start()
            try:
                while (left := deadline - time.monotonic()) > 0:
                    with contextlib.suppress(TimeoutError):
                        events_connection.drain_events(timeout=min(0.5, left))
                    if time.monotonic() - refreshed >= QUEUE_REFRESH:
                        snapshot, refreshed = queue_snapshot(), time.monotonic()
                    if live:
                        live.update(live_view(tally, snapshot, deadline - time.monotonic()), refresh=True)
            finally:
                if live:
                    live.stop()
    snapshot = queue_snapshot()
    if as_json:
        print(
            json.dumps(
                {
                    "seconds": seconds,
                    "workers": sorted(tally.workers),
                    "queues": snapshot,
                    "tasks": tally.rows(),
                }
            )
        )
    elif not live:
        console.print(live_view(tally, snapshot, None))
    return tally


# --- history from the job rows -------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """``"90"``, ``"90s"``, ``"15m"``, ``"1h"``, ``"2d"``, ``"1w"`` → seconds.

    Raises:
        argparse.ArgumentTypeError: anything else (argparse turns it into exit 2 with a message).
    """
    match = _DURATION.match(text or "")
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 15m, 1h or 2d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _duration_text(text: str) -> str:
    parse_duration(text)  # argparse reports a bad value with exit 2
    return text


def job_history(*, since_seconds: float, state: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Job rows (every :class:`core.models.Job` model) created in the last ``since_seconds``.

    The rows are the durable task history: unlike Flower's in-memory list they survive restarts.
    Newest first, at most ``limit``; ``state`` filters on the row's status. Each item is
    :func:`describe_job` plus ``task_id`` and ``runtime_seconds`` (finished − started, or None).

    Raises:
        django.db.DatabaseError: the database is unreachable.
    """
    from core.jobs import job_models

    cutoff = _now() - timedelta(seconds=since_seconds)
    rows: list[Any] = []
    for model in job_models():
        query = model._default_manager.filter(created_at__gte=cutoff)
        if state:
            query = query.filter(status=state)
        rows.extend(query.order_by("-created_at")[:limit])
    rows.sort(key=lambda row: row.created_at, reverse=True)
    history = []
    for row in rows[:limit]:
        runtime = (
            round((row.finished_at - row.started_at).total_seconds(), 3)
            if row.finished_at and row.started_at
            else None
        )
        history.append({**describe_job(row), "task_id": row.celery_task_id, "runtime_seconds": runtime})
    return history


def render_history(history: list[dict[str, Any]], console: Any, *, since: str, state: str | None) -> None:
    from rich.table import Table

    title = f"Jobs created in the last {since}" + (f", status {state}" if state else "")
    table = Table("created", "job", "status", "task id", "progress", "runtime s", "error", title=title)
    for item in history:
        table.add_row(
            str(item["created_at"])[:19],
            f"{item['model']}#{item['id']}",
            item["status"],
            str(item["task_id"] or "-"),
            item["progress"],
            "-" if item["runtime_seconds"] is None else str(item["runtime_seconds"]),
            (item["error"] or "")[:80],
        )
    console.print(table)
    console.print(f"{len(history)} job(s)")


# --- interactive menu -----------------------------------------------------------------------------

MENU = (
    ("1", "overview (health check)"),
    ("2", "workers"),
    ("3", "active tasks"),
    ("4", "reserved tasks"),
    ("5", "scheduled tasks (eta/countdown)"),
    ("6", "queue depths"),
    ("7", "task status by id"),
    ("8", "revoke a task"),
    ("9", "purge one queue"),
    ("10", "probe every queue"),
    ("11", "live monitor"),
    ("12", "job history (last hour)"),
    ("q", "quit"),
)


class Interactive:
    """The ``--interactive`` menu; reads answers line by line from ``stdin`` (EOF quits)."""

    def __init__(self, console: Any, stdin: TextIO, options: CheckOptions) -> None:
        self.console = console
        self.stdin = stdin
        self.options = options

    def ask(self, prompt: str) -> str | None:
        # markup=False: "[y/N]" is text, not a rich style tag.
        self.console.print(prompt, end="", markup=False)
        line = self.stdin.readline()
        if not line:
            return None
        return line.strip()

    def run(self) -> int:
        actions: dict[str, Callable[[], None]] = {
            "1": self.overview,
            "2": self.workers,
            "3": lambda: self.inspect("active"),
            "4": lambda: self.inspect("reserved"),
            "5": lambda: self.inspect("scheduled"),
            "6": self.depths,
            "7": self.task_status,
            "8": self.revoke,
            "9": self.purge,
            "10": self.probe,
            "11": self.live,
            "12": self.history,
        }
        # Entries that talk to the broker PING it first: a dead Redis is reported at once
        # instead of after kombu's connection retries.
        needs_broker = {"2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}
        while True:
            self.console.print("\n[bold]AdSpark Celery monitor[/]")
            for key, label in MENU:
                self.console.print(f"  {key:>2}  {label}")
            choice = self.ask("choice> ")
            if choice is None or choice.lower() in {"q", "quit", "exit"}:
                self.console.print("bye")
                return EXIT_HEALTHY
            action = actions.get(choice)
            if action is None:
                self.console.print(f"unknown choice {choice!r}")
                continue
            try:
                if choice in needs_broker:
                    require_broker(result_backend=choice == "7")
                action()
            except KeyboardInterrupt:
                self.console.print("\n(interrupted)")
            except broker_errors() as exc:
                self.console.print(f"broker unreachable: {exc}"[:500], markup=False)
            except database_errors() as exc:
                self.console.print(f"database unreachable: {exc}"[:500], markup=False)

    def overview(self) -> None:
        render_check(run_check(self.options), self.console)

    def workers(self) -> None:
        from backend.celery import app

        inspect = app.control.inspect(timeout=self.options.inspect_timeout)
        stats = inspect.stats() or {}
        queues = inspect.active_queues() or {}
        if not stats:
            self.console.print("no worker answered")
        for worker, info in sorted(stats.items()):
            pool = info.get("pool", {})
            names = ",".join(q["name"] for q in queues.get(worker, []))
            self.console.print(
                f"{worker}: queues={names} pool={pool.get('implementation', '?').split(':')[-1]}"
                f" concurrency={pool.get('max-concurrency')} pids={pool.get('processes')}"
                f" tasks={sum((info.get('total') or {}).values())}"
            )

    def inspect(self, what: str) -> None:
        from backend.celery import app

        replies = getattr(app.control.inspect(timeout=self.options.inspect_timeout), what)() or {}
        total = 0
        for worker, tasks in sorted(replies.items()):
            for task in tasks or []:
                request = task.get("request", task)
                total += 1
                eta = f" eta={task['eta']}" if "eta" in task else ""
                self.console.print(
                    f"{worker}: {request.get('name')} {request.get('id')}{eta}"
                    f" args={request.get('args')} kwargs={request.get('kwargs')}",
                    markup=False,
                )
        self.console.print(f"{total} {what} task(s) on {len(replies)} worker(s)")

    def depths(self) -> None:
        from backend.celery import QUEUES

        for queue, info in queue_report(QUEUES).items():
            oldest = info["oldest"]
            self.console.print(
                f"{queue:14} {info['depth']:>6} waiting"
                + (f"  oldest: {oldest['task']} {oldest['task_id']}" if oldest else "")
            )

    def task_status(self) -> None:
        task_id = self.ask("task id> ")
        if task_id:
            render_task(task_report(task_id), self.console)

    def revoke(self) -> None:
        from core.jobs import revoke_job

        task_id = self.ask("task id to revoke> ")
        if not task_id:
            return
        terminate = (self.ask("terminate it if running? [y/N]> ") or "").lower() == "y"
        # One service for the monitor and the API: revoke, and mark the job row cancelled so
        # the repair never re-queues it under a new task id.
        row = revoke_job(task_id, terminate=terminate)
        self.console.print(f"revoked {task_id}{' (terminate)' if terminate else ''}", markup=False)
        if row is None:
            self.console.print("  no AdSpark job row for this task")
        else:
            self.console.print(f"  job {row._meta.label}#{row.pk} is now {row.status}", markup=False)

    def purge(self) -> None:
        from backend.celery import QUEUES

        queue = self.ask(f"queue to purge ({', '.join(QUEUES)})> ")
        if queue not in QUEUES:
            self.console.print(f"no such queue {queue!r}; nothing purged")
            return
        confirm = self.ask(f"type the queue name again to delete every waiting message in {queue}> ")
        if confirm != queue:
            self.console.print("confirmation did not match; nothing purged")
            return
        self.console.print(f"purged {purge_queue(queue)} message(s) from {queue}")

    def probe(self) -> None:
        from backend.celery import QUEUES

        for queue, probe in send_probes(QUEUES, timeout=self.options.probe_timeout).items():
            detail = (
                f"{probe['latency_ms']} ms by {probe.get('hostname')}" if probe["ok"] else probe.get("error")
            )
            self.console.print(f"{queue:14} {'ok' if probe['ok'] else 'FAILED'}  {detail}")

    def history(self) -> None:
        render_history(job_history(since_seconds=3600), self.console, since="1h", state=None)

    def live(self) -> None:
        answer = self.ask("seconds [10]> ") or "10"
        try:
            seconds = float(answer)
        except ValueError:
            self.console.print(f"not a number: {answer!r}")
            return
        run_monitor(seconds, console=self.console)


def purge_queue(queue: str) -> int:
    """Delete every waiting message of ``queue`` (not the ones workers hold); return how many."""
    from backend.celery import app

    with app.connection_for_write() as connection:
        return int(connection.default_channel.queue_purge(queue) or 0)


# --- command line ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor_celery.py",
        description="Health check, live monitor and interactive console for AdSpark's Celery workers.",
        epilog="Exit codes (--check): 0 healthy, 1 degraded, 2 down; 130 after Ctrl-C. "
        "--task-id: 0 found, 1 failed, 2 unknown. Every mode: 2 when the broker is unreachable.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="one health check (the default mode)")
    mode.add_argument("--interactive", action="store_true", help="menu driven by standard input")
    mode.add_argument(
        "--monitor",
        type=float,
        metavar="SECONDS",
        help="live table of task events per queue and task for SECONDS",
    )
    mode.add_argument("--task-id", metavar="ID", help="state, result/traceback and job row of one task")
    mode.add_argument(
        "--history",
        action="store_true",
        help="task history from the AdSpark job rows (kept in the database, unlike Flower's)",
    )
    parser.add_argument(
        "--since",
        type=_duration_text,
        default="1h",
        metavar="DURATION",
        help="--history: jobs created in the last DURATION, e.g. 90s, 15m, 1h, 2d (default 1h)",
    )
    parser.add_argument(
        "--state",
        choices=("pending", "running", "succeeded", "failed", "cancelled"),
        help="--history: only jobs in this status",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=50,
        metavar="N",
        help="--history: at most N jobs, newest first (default 50)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    parser.add_argument(
        "--probe-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to wait for each queue's probe (default 10)",
    )
    parser.add_argument("--no-probe", action="store_true", help="skip the probe tasks")
    parser.add_argument(
        "--inspect-timeout",
        type=float,
        default=2.0,
        metavar="S",
        help="seconds to wait for workers' replies to inspect (default 2)",
    )
    parser.add_argument(
        "--beat-max-age",
        type=float,
        default=None,
        metavar="S",
        help="beat is stale when its last heartbeat is older (default: three heartbeat intervals, 180 s)",
    )
    parser.add_argument(
        "--orphan-grace",
        type=float,
        default=ORPHAN_GRACE,
        metavar="S",
        help="seconds a pending job row may lack a broker message before it counts as orphaned "
        f"(default {ORPHAN_GRACE:.0f})",
    )
    parser.add_argument(
        "--stuck-grace",
        type=float,
        default=STUCK_GRACE,
        metavar="S",
        help="seconds past a task's hard time limit before a running job row "
        f"counts as stuck (default {STUCK_GRACE:.0f})",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = _console()
    try:
        bootstrap_django()
    except Exception as exc:  # ImproperlyConfigured and friends: say which variable
        print(f"monitor_celery.py: configuration error: {exc}", file=sys.stderr)
        return EXIT_DOWN
    options = CheckOptions(
        probe_timeout=args.probe_timeout,
        inspect_timeout=args.inspect_timeout,
        probes=not args.no_probe,
        beat_max_age=args.beat_max_age,
        stuck_grace=args.stuck_grace,
        orphan_grace=args.orphan_grace,
    )
    try:
        if args.interactive:
            return Interactive(console, stdin or sys.stdin, options).run()
        if args.history:
            history = job_history(
                since_seconds=parse_duration(args.since), state=args.state, limit=args.limit
            )
            if args.json:
                print(json.dumps(history, default=str))
            else:
                render_history(history, console, since=args.since, state=args.state)
            return EXIT_HEALTHY
        if args.monitor is not None:
            run_monitor(args.monitor, console=console, as_json=args.json)
            return EXIT_HEALTHY
        if args.task_id:
            require_broker(result_backend=True)
            report = task_report(args.task_id)
            if args.json:
                print(json.dumps(report, default=str))
            else:
                render_task(report, console)
            return task_exit_code(report)
        report = run_check(options)
        if args.json:
            print(json.dumps(report, default=str))
        else:
            render_check(report, console)
        return int(report["exit_code"])
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except broker_errors() as exc:
        return _unreachable("broker", exc, as_json=args.json)
    except database_errors() as exc:
        return _unreachable("database", exc, as_json=args.json)


def _unreachable(what: str, exc: BaseException, *, as_json: bool) -> int:
    """Say ``<what> unreachable: <reason>`` (JSON on stdout with ``--json``); return exit 2."""
    message = f"{what} unreachable: {exc}"[:500]
    if as_json:
        print(json.dumps({"status": "down", "exit_code": EXIT_DOWN, "problems": [message]}))
    print(f"monitor_celery.py: {message}", file=sys.stderr)
    return EXIT_DOWN


if __name__ == "__main__":
    sys.exit(main())
