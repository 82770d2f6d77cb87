"""monitor_celery.py against real workers: --check exit codes, --task-id, --monitor, --interactive."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

import monitor_celery
from AdSpark.models import FetchRun
from backend.celery import QUEUES
from core.heartbeat import HEARTBEAT_KEY
from core.tasks import probe_task
from tests.conftest import REPO_DIR
from tests.ops.ops_support import PYTHON, run_monitor_cli

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _empty_queues() -> Iterator[None]:
    """Every test starts and ends with empty queues (depths are asserted exactly)."""
    for queue in QUEUES:
        monitor_celery.purge_queue(queue)
    yield
    for queue in QUEUES:
        monitor_celery.purge_queue(queue)


def _drop_startup_repair(timeout: float = 5.0) -> None:
    """A starting worker sends ``repair_stuck_runs_task`` (core.apps); drop it from maintenance."""
    from core.health import queue_depths

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not queue_depths().get("maintenance"):
        time.sleep(0.1)
    monitor_celery.purge_queue("maintenance")


def _check(env: dict[str, str], *extra: str) -> tuple[int, dict]:
    result = run_monitor_cli(["--check", "--json", "--probe-timeout", "15", *extra], env)
    return result.returncode, json.loads(result.stdout)


def test_it_reports_healthy_when_every_queue_has_a_worker_that_answers_its_probe(start_worker, ops_env):
    # given one worker consuming all four queues, and no heartbeat left by an earlier test's beat
    redis.Redis.from_url(settings.REDIS_URL).delete(HEARTBEAT_KEY)
    start_worker(name="ops-all")

    # when
    code, report = _check(ops_env)

    # then
    assert code == 0, report["problems"]
    assert report["status"] == "healthy"
    for queue in QUEUES:
        assert report["queues"][queue]["consumers"], queue
        probe = report["queues"][queue]["probe"]
        assert probe["ok"] and probe["latency_ms"] > 0, (queue, probe)
    assert report["redis"]["ok"] and report["database"]["ok"]
    print("probe latencies (ms):", {q: report["queues"][q]["probe"]["latency_ms"] for q in QUEUES})


def test_it_reports_degraded_when_one_queue_has_no_worker(start_worker, ops_env):
    # given no worker consumes maintenance, and a job row is stuck in running
    start_worker(queues="default,data_fetch,ai_generation", name="ops-three")
    stuck = FetchRun.objects.create(status="running", celery_task_id=str(uuid.uuid4()))
    FetchRun.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(hours=2))

    # when
    code, report = _check(ops_env)

    # then
    assert code == 1
    assert report["status"] == "degraded"
    assert report["queues"]["maintenance"]["consumers"] == []
    assert any("maintenance" in problem for problem in report["problems"])
    assert [run["id"] for run in report["stuck_runs"]] == [stuck.pk]
    assert report["queues"]["default"]["probe"]["ok"]


def test_it_reports_down_when_redis_is_unreachable(ops_env):
    # given the broker URL points at a closed port
    env = {**ops_env, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"}

    # when
    code, report = _check(env)

    # then
    assert code == 2
    assert report["status"] == "down"
    assert not report["redis"]["ok"]
    assert any("redis unreachable" in problem for problem in report["problems"])


def test_it_shows_a_waiting_message_and_its_job_age_as_the_oldest_in_its_queue(ops_env):
    # given a fetch run's message waits in a queue with no worker (it is never executed: the
    # queue is purged afterwards, so no SerpApi search is spent). It is sent to maintenance
    # because the suite's session worker consumes data_fetch and default.
    run = FetchRun.objects.create(params={}, celery_task_id=str(uuid.uuid4()))
    FetchRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(seconds=90))
    from AdSpark.tasks import fetch_creatives_task

    fetch_creatives_task.apply_async(
        kwargs={"fetch_run_id": run.pk}, task_id=run.celery_task_id, queue="maintenance"
    )
    try:
        # when
        _code, report = _check(ops_env, "--no-probe")
    finally:
        monitor_celery.purge_queue("maintenance")

    # then
    oldest = report["queues"]["maintenance"]["oldest"]
    assert report["queues"]["maintenance"]["depth"] == 1
    assert oldest["task"] == "AdSpark.tasks.fetch_creatives_task"
    assert oldest["task_id"] == run.celery_task_id
    assert oldest["job"] == f"AdSpark.FetchRun#{run.pk}"
    assert oldest["waiting_seconds"] >= 90


def test_it_shows_a_task_by_id_with_its_job_row(start_worker, ops_env):
    # given a probe that ran, a fetch run that failed, and an id nobody knows
    start_worker(queues="default", name="ops-default")
    done = probe_task.apply_async(queue="default")
    done.get(timeout=30)
    failed = FetchRun.objects.create(
        status="failed", error="HTTP 401: Invalid API key.", celery_task_id=str(uuid.uuid4())
    )

    # when / then
    found = run_monitor_cli(["--task-id", done.id, "--json"], ops_env)
    assert found.returncode == 0
    report = json.loads(found.stdout)
    assert report["state"] == "SUCCESS"
    assert report["result"]["queue"] == "default"

    found = run_monitor_cli(["--task-id", failed.celery_task_id, "--json"], ops_env)
    assert found.returncode == 1
    assert json.loads(found.stdout)["job"]["error"] == "HTTP 401: Invalid API key."

    human = run_monitor_cli(["--task-id", failed.celery_task_id], ops_env)
    assert f"AdSpark.FetchRun#{failed.pk} failed" in human.stdout

    unknown = run_monitor_cli(["--task-id", str(uuid.uuid4())], ops_env)
    assert unknown.returncode == 2
    assert "unknown" in unknown.stdout


def test_it_counts_task_events_per_queue_and_task_in_monitor_mode(start_worker, ops_env):
    # given a worker on every queue and probes sent while the monitor listens for 6 s
    start_worker(name="ops-events")
    monitor = subprocess.Popen(
        [PYTHON, str(REPO_DIR / "monitor_celery.py"), "--monitor", "6", "--json"],
        env=ops_env,
        cwd=REPO_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stop = threading.Event()

    def send_probes() -> None:
        time.sleep(2.5)  # the monitor process imports Django and binds its event queue first
        while not stop.is_set():
            for queue in ("default", "maintenance"):
                probe_task.apply_async(queue=queue)
            time.sleep(0.5)

    sender = threading.Thread(target=send_probes, daemon=True)
    sender.start()
    try:
        out, err = monitor.communicate(timeout=60)
    finally:
        stop.set()
        sender.join()
        if monitor.poll() is None:
            monitor.kill()
    print(out, err)

    # then
    assert monitor.returncode == 0
    rows = {(row["queue"], row["task"]): row for row in json.loads(out)["tasks"]}
    for queue in ("default", "maintenance"):
        row = rows[(queue, "core.tasks.probe_task")]
        assert row["succeeded"] >= 1 and row["received"] >= 1, row
        assert row["avg_runtime"] is not None


def test_it_drives_the_interactive_menu_from_standard_input(start_worker, ops_env):
    # given no worker on maintenance, where three probes wait
    start_worker(queues="default,data_fetch,ai_generation", name="ops-menu")
    _drop_startup_repair()
    waiting = [probe_task.apply_async(queue="maintenance", expires=120) for _ in range(3)]
    finished = probe_task.apply_async(queue="default")
    finished.get(timeout=30)
    answers = (
        "\n".join(
            [
                "6",  # queue depths
                "2",  # workers
                "7",
                finished.id,  # task status
                "9",
                "maintenance",
                "mantenance",  # purge with a wrong confirmation: nothing happens
                "9",
                "maintenance",
                "maintenance",  # purge confirmed
                "10",  # probe
                "8",
                waiting[0].id,
                "n",  # revoke
                "42",
                "q",
            ]
        )
        + "\n"
    )

    # when
    result = run_monitor_cli(["--interactive", "--probe-timeout", "5"], ops_env, stdin=answers)

    # then
    out = result.stdout
    assert result.returncode == 0
    assert "maintenance         3 waiting" in out
    assert "ops-menu-" in out
    assert f"task {finished.id}: SUCCESS" in out
    assert "confirmation did not match; nothing purged" in out
    assert "purged 3 message(s) from maintenance" in out
    assert "default        ok" in out
    assert "maintenance    FAILED" in out
    assert f"revoked {waiting[0].id}" in out
    assert "unknown choice '42'" in out
    assert out.rstrip().endswith("bye")


def test_it_ends_the_menu_cleanly_at_end_of_input(ops_env):
    result = run_monitor_cli(["--interactive"], ops_env, stdin="")
    assert result.returncode == 0
    assert "bye" in result.stdout


def test_it_explains_every_option_in_its_help():
    result = subprocess.run(
        [PYTHON, str(REPO_DIR / "monitor_celery.py"), "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--check", "--json", "--interactive", "--monitor", "--task-id", "Exit codes"):
        assert option in result.stdout


def test_it_calls_a_check_degraded_or_down_from_the_report_alone():
    def report(**overrides):
        base = {
            "redis": {"ok": True},
            "database": {"ok": True},
            "beat": {"ok": True},
            "stuck_runs": [],
            "queues": {q: {"consumers": ["w@h"], "depth": 0, "probe": {"ok": True}} for q in QUEUES},
        }
        base.update(overrides)
        return base

    assert monitor_celery.evaluate(report()) == ("healthy", [])
    stale = report(beat={"ok": False, "state": "stale", "age_seconds": 900, "max_age_seconds": 300})
    assert monitor_celery.evaluate(stale)[0] == "degraded"
    no_workers = report(queues={q: {"consumers": [], "depth": 0, "probe": None} for q in QUEUES})
    assert monitor_celery.evaluate(no_workers) == ("down", ["no worker consumes any queue"])
    assert monitor_celery.evaluate(report(database={"ok": False, "error": "refused"}))[0] == "down"


def test_it_tallies_events_by_queue_even_when_only_the_sent_event_names_it():
    tally = monitor_celery.EventTally({"core.tasks.probe_task": "default"})
    tally.feed({"type": "task-sent", "uuid": "a", "name": "core.tasks.probe_task", "queue": "maintenance"})
    tally.feed({"type": "task-received", "uuid": "a", "name": "core.tasks.probe_task"})
    tally.feed({"type": "task-succeeded", "uuid": "a", "runtime": 0.25})
    tally.feed({"type": "task-received", "uuid": "b", "name": "core.tasks.probe_task"})
    tally.feed({"type": "task-failed", "uuid": "b"})
    rows = {(row["queue"], row["task"]): row for row in tally.rows()}
    assert rows[("maintenance", "core.tasks.probe_task")]["succeeded"] == 1
    assert rows[("maintenance", "core.tasks.probe_task")]["avg_runtime"] == 0.25
    assert rows[("default", "core.tasks.probe_task")]["failed"] == 1
