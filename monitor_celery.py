#!/usr/bin/env python3
"""monitor_celery.py — health check, live monitor and interactive console for AdSpark's Celery.

Modes (exactly one; ``--check`` is the default)::

    python monitor_celery.py --check [--json]     # one health check, exit 0/1/2
    python monitor_celery.py --interactive        # menu driven by standard input
    python monitor_celery.py --monitor 30         # live table of task events for 30 s
    python monitor_celery.py --task-id ID         # one task: state, result, AdSpark job row

``--check`` looks at: Redis (the broker) and the database; that each of the four queues has a
consuming worker; a probe task (``core.tasks.probe_task``, which does nothing) sent to each
queue and its round-trip latency; the age of celery beat's last heartbeat (a Redis key written
by the periodic ``core.tasks.beat_heartbeat_task``, core.heartbeat); queue depths and the
oldest waiting message; job rows stuck in
``running``. It never sends a task that spends SerpApi searches or AI money.

Exit codes of ``--check``: 0 healthy, 1 degraded (something needs attention, work still
flows), 2 down (broker or database unreachable, or no worker consumes any queue).
``--task-id``: 0 found (succeeded or in progress), 1 failed, 2 unknown to Celery and the database.
Any mode: 130 after Ctrl-C, 2 when Django settings are invalid.

Configuration comes from the same environment (and ``.env``) as the project: ``DATABASE_URL``,
``CELERY_BROKER_URL``, ``CELERY_RESULT_BACKEND``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    report.update(ok=age <= max_age, state="ok" if age <= max_age else "stale", last_tick=_iso(last), age_seconds=age)
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


# --- check: putting it together -----------------------------------------------------------------


@dataclass
class CheckOptions:
    """Knobs of :func:`run_check` (seconds)."""

    probe_timeout: float = 10.0
    inspect_timeout: float = 2.0
    probes: bool = True
    beat_max_age: float | None = None
    stuck_grace: float = STUCK_GRACE
    queues: tuple[str, ...] = field(default_factory=tuple)


def run_check(options: CheckOptions) -> dict[str, Any]:
    """Run every check and return the report (see :func:`evaluate` for its verdict).

    Shape: ``{"redis", "database", "queues": {queue: {"consumers", "depth", "oldest", "probe"}},
    "beat", "stuck_runs", "status", "exit_code", "problems", "checked_at"}``.
    """
    from backend.celery import QUEUES
    from core.health import check_database, check_redis, queue_consumers

    queues = options.queues or QUEUES
    report: dict[str, Any] = {"checked_at": _iso(_now())}
    report["redis"] = check_redis()
    report["database"] = check_database()
    report["queues"] = {
        queue: {"consumers": [], "depth": None, "oldest": None, "probe": None} for queue in queues
    }
    if report["redis"]["ok"]:
        consumers = queue_consumers(timeout=options.inspect_timeout)
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
    ``degraded``: a queue without a consumer, a probe unanswered, beat stale, a stuck run.
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
    for run in report.get("stuck_runs") or []:
        problems.append(
            f"{run['model']}#{run['id']} running since {run['updated_at']} (task {run['task_id']})"
        )
    if down:
        return "down", problems
    return ("degraded" if problems else "healthy"), problems


# --- rendering ------------------------------------------------------------------------------------


def _console(stream: TextIO | None = None) -> Any:
    from rich.console import Console

    return Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)


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
            ", ".join(info["consumers"]) or "[red]none[/]",
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

EVENT_COLUMNS = ("received", "started", "succeeded", "failed", "retried")


@dataclass
class TaskStats:
    """Counters and runtimes (seconds) of one (queue, task) pair."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENT_COLUMNS, 0))
    runtimes: list[float] = field(default_factory=list)


class EventTally:
    """Folds Celery task events into per-(queue, task) counters.

    ``task-sent`` events carry the queue; other events carry only the task id (and the name on
    ``task-received``), so the queue is remembered per id, else taken from the routing table.
    """

    def __init__(self, routes: dict[str, str] | None = None) -> None:
        self.routes = routes or {}
        self.started_at = time.monotonic()
        self.tasks: dict[str, tuple[str, str]] = {}
        self.stats: dict[tuple[str, str], TaskStats] = {}
        self.workers: dict[str, float] = {}

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
        if column not in EVENT_COLUMNS:
            return
        stats = self.stats.setdefault(key, TaskStats())
        stats.counts[column] += 1
        if column == "succeeded" and event.get("runtime") is not None:
            stats.runtimes.append(float(event["runtime"]))

    def rows(self) -> list[dict[str, Any]]:
        """One dict per (queue, task): counts, ``per_minute`` (succeeded), runtimes (s)."""
        elapsed = max(time.monotonic() - self.started_at, 1e-6)
        rows = []
        for (queue, name), stats in sorted(self.stats.items()):
            runtimes = stats.runtimes
            rows.append(
                {
                    "queue": queue,
                    "task": name,
                    **stats.counts,
                    "per_minute": round(stats.counts["succeeded"] * 60 / elapsed, 2),
                    "avg_runtime": round(sum(runtimes) / len(runtimes), 4) if runtimes else None,
                    "max_runtime": round(max(runtimes), 4) if runtimes else None,
                }
            )
        return rows


def tally_table(tally: EventTally, seconds_left: float | None = None) -> Any:
    from rich.table import Table

    title = f"Celery task events — {len(tally.workers)} workers heard"
    if seconds_left is not None:
        title += f" — {seconds_left:.0f} s left"
    table = Table("queue", "task", *EVENT_COLUMNS, "per min", "avg s", "max s", title=title)
    for row in tally.rows():
        table.add_row(
            row["queue"],
            row["task"],
            *(str(row[c]) for c in EVENT_COLUMNS),
            str(row["per_minute"]),
            str(row["avg_runtime"] or "-"),
            str(row["max_runtime"] or "-"),
        )
    return table


def run_monitor(
    seconds: float, *, console: Any, as_json: bool = False, on_ready: Callable[[], None] | None = None
) -> EventTally:
    """Collect task events for ``seconds`` and show a live table (a final one off a terminal)."""
    from rich.live import Live

    from backend.celery import TASKS, app

    tally = EventTally({name: options["queue"] for name, options in TASKS.items()})
    deadline = time.monotonic() + seconds
    live = (
        Live(tally_table(tally, seconds), console=console, refresh_per_second=2, auto_refresh=False)
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
                    if live:
                        live.update(tally_table(tally, deadline - time.monotonic()), refresh=True)
            finally:
                if live:
                    live.stop()
    if as_json:
        print(json.dumps({"seconds": seconds, "workers": sorted(tally.workers), "tasks": tally.rows()}))
    elif not live:
        console.print(tally_table(tally))
    return tally


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
    ("q", "quit"),
)


class Interactive:
    """The ``--interactive`` menu; reads answers line by line from ``stdin`` (EOF quits)."""

    def __init__(self, console: Any, stdin: TextIO, options: CheckOptions) -> None:
        self.console = console
        self.stdin = stdin
        self.options = options

    def ask(self, prompt: str) -> str | None:
        self.console.print(prompt, end="")
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
        }
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
                action()
            except KeyboardInterrupt:
                self.console.print("\n(interrupted)")

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
        from backend.celery import app

        task_id = self.ask("task id to revoke> ")
        if not task_id:
            return
        terminate = (self.ask("terminate it if running? [y/N]> ") or "").lower() == "y"
        app.control.revoke(task_id, terminate=terminate)
        self.console.print(f"revoked {task_id}{' (terminate)' if terminate else ''}")

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
        "--task-id: 0 found, 1 failed, 2 unknown.",
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
        help="beat is stale when its last heartbeat is older (default: three heartbeat "
        "intervals, 180 s)",
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
    )
    try:
        if args.interactive:
            return Interactive(console, stdin or sys.stdin, options).run()
        if args.monitor is not None:
            run_monitor(args.monitor, console=console, as_json=args.json)
            return EXIT_HEALTHY
        if args.task_id:
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


if __name__ == "__main__":
    sys.exit(main())
