"""monitor_celery.py tells the truth (issue 15, points 1-4 and 6): workers sharing a node name,
a broker outage in every mode, queue depths in the live view, history from job rows, orphans.

Real processes: seed-style workers started without ``-n``, the test Redis and PostgreSQL; the
broker outage is a URL pointing at a closed port (no Redis is stopped).
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

import monitor_celery
from AdSpark.models import FetchRun
from backend.celery import QUEUES, app
from core.tasks import probe_task
from tests.conftest import BACKEND_DIR, REPO_DIR, wait_for
from tests.ops.ops_support import PYTHON, free_port, run_monitor_cli

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOST = socket.gethostname()


@pytest.fixture(autouse=True)
def _empty_queues_afterwards() -> Iterator[None]:
    """Leave no message behind (a starting worker may queue a repair on maintenance)."""
    yield
    for queue in QUEUES:
        monitor_celery.purge_queue(queue)


@pytest.fixture
def seed_workers(ops_env: dict[str, str]) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    """Start workers exactly as the seed does: ``celery -A backend worker -Q <queues>``, no ``-n``."""
    started: list[subprocess.Popen[bytes]] = []

    def start(queues: str) -> subprocess.Popen[bytes]:
        log_path = REPO_DIR / "var" / "test-logs" / f"seed-worker-{queues.replace(',', '-')}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "backend",
                    "worker",
                    "-Q",
                    queues,
                    "-P",
                    "solo",
                    "-l",
                    "info",
                ],
                cwd=BACKEND_DIR,
                env=ops_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_it_counts_every_queue_and_names_the_duplicate_when_seed_workers_share_a_node_name(
    seed_workers, ops_env
):
    # given the seed's commands: workers without -n, so every one is celery@<host>
    seed_workers("default,data_fetch")
    seed_workers("ai_generation,maintenance")
    wait_for(
        lambda: len(app.control.broadcast("ping", reply=True, timeout=0.5) or []) >= 2,
        timeout=90,
        interval=0.5,
        message="both seed workers to answer",
    )

    # when
    result = run_monitor_cli(["--check", "--json", "--probe-timeout", "20"], ops_env)
    human = run_monitor_cli(["--check", "--no-probe"], ops_env)
    report = json.loads(result.stdout)

    # then every queue is consumed, and the shared name is the one problem, with its fix
    name = f"celery@{HOST}"
    for queue in QUEUES:
        assert report["queues"][queue]["consumers"] == [name], queue
        assert report["queues"][queue]["probe"]["ok"], report["queues"][queue]["probe"]
    assert report["duplicate_nodes"] == {name: 2}
    assert not any("no consuming worker" in problem for problem in report["problems"])
    assert any("share the node name" in p and "-n <queue>@%h" in p for p in report["problems"])
    assert result.returncode == 1 and report["status"] == "degraded"
    assert "share the node name" in human.stdout and "no consuming worker" not in human.stdout


def test_it_says_broker_unreachable_in_every_mode_without_a_traceback(ops_env):
    # given broker and result backend URLs that point at a closed port
    closed = free_port()
    env = {
        **ops_env,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{closed}/0",
        "CELERY_RESULT_BACKEND": f"redis://127.0.0.1:{closed}/1",
    }
    menu = "".join(f"{n}\n" for n in range(1, 13)) + "q\n"

    # when every mode runs
    runs = {
        "check": run_monitor_cli(["--check", "--probe-timeout", "2"], env),
        "check-json": run_monitor_cli(["--check", "--json"], env),
        "task-id": run_monitor_cli(["--task-id", str(uuid.uuid4())], env),
        "task-id-json": run_monitor_cli(["--task-id", str(uuid.uuid4()), "--json"], env),
        "monitor": run_monitor_cli(["--monitor", "2"], env),
        "monitor-json": run_monitor_cli(["--monitor", "2", "--json"], env),
        "history": run_monitor_cli(["--history"], env),
        "interactive": run_monitor_cli(["--interactive"], env, stdin=menu),
    }

    # then nothing ends in a traceback; broker modes exit 2 and say why; the menu carries on
    for mode, result in runs.items():
        assert "Traceback" not in result.stdout + result.stderr, mode
    for mode in ("check", "check-json", "task-id", "task-id-json", "monitor", "monitor-json"):
        assert runs[mode].returncode == 2, mode
        assert "unreachable" in (runs[mode].stdout + runs[mode].stderr).lower(), mode
    assert json.loads(runs["task-id-json"].stdout)["status"] == "down"
    assert runs["history"].returncode == 0  # the job rows live in PostgreSQL
    interactive = runs["interactive"]
    assert interactive.returncode == 0 and interactive.stdout.rstrip().endswith("bye")
    assert interactive.stdout.count("broker unreachable") == 10  # entries 2-11
    assert interactive.stdout.count("choice> ") == 13  # the menu came back after every entry


def test_it_shows_queue_depths_and_tasks_sent_but_not_started_in_the_live_view(ops_env):
    # given three probes waiting on maintenance, which no worker consumes here
    for _ in range(3):
        probe_task.apply_async(queue="maintenance", expires=120)
    monitor = subprocess.Popen(
        [PYTHON, str(REPO_DIR / "monitor_celery.py"), "--monitor", "6", "--json"],
        env=ops_env,
        cwd=REPO_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def send_two_more() -> None:
        time.sleep(3)  # the monitor imports Django and binds its event queue first
        for _ in range(2):
            probe_task.apply_async(queue="maintenance", expires=120)

    sender = threading.Thread(target=send_two_more, daemon=True)
    sender.start()
    try:
        out, err = monitor.communicate(timeout=90)
    finally:
        sender.join()
        monitor_celery.purge_queue("maintenance")
    print(out, err)

    # then
    assert monitor.returncode == 0
    report = json.loads(out)
    assert report["queues"]["maintenance"]["depth"] == 5
    assert report["queues"]["maintenance"]["consumers"] == []
    row = next(r for r in report["tasks"] if r["task"] == "core.tasks.probe_task")
    assert row["queue"] == "maintenance" and row["sent"] == 2 and row["not_started"] == 2
    assert "Connected to" not in out + err


def test_it_lists_job_history_from_the_rows_filtered_by_age_and_state(ops_env):
    # given three fetch runs: failed 10 min ago, succeeded 5 min ago, failed 2 h ago
    now = timezone.now()
    recent_failure = FetchRun.objects.create(
        status="failed", error="SerpApi said 401", celery_task_id="t-recent"
    )
    succeeded = FetchRun.objects.create(status="succeeded", celery_task_id="t-ok")
    old_failure = FetchRun.objects.create(status="failed", error="old", celery_task_id="t-old")
    for run, age in ((recent_failure, 600), (succeeded, 300), (old_failure, 7200)):
        FetchRun.objects.filter(pk=run.pk).update(created_at=now - timedelta(seconds=age))

    # when
    failed = run_monitor_cli(["--history", "--since", "1h", "--state", "failed", "--json"], ops_env)
    every = run_monitor_cli(["--history", "--since", "3h", "--json"], ops_env)
    table = run_monitor_cli(["--history", "--since", "1h"], ops_env)
    bad = run_monitor_cli(["--history", "--since", "soon"], ops_env)

    # then
    assert failed.returncode == 0
    assert [(j["id"], j["task_id"], j["error"]) for j in json.loads(failed.stdout)] == [
        (recent_failure.pk, "t-recent", "SerpApi said 401")
    ]
    assert [j["id"] for j in json.loads(every.stdout)] == [succeeded.pk, recent_failure.pk, old_failure.pk]
    assert f"AdSpark.FetchRun#{recent_failure.pk}" in table.stdout and "t-old" not in table.stdout
    assert bad.returncode == 2 and "not a duration" in bad.stderr


def test_it_reports_pending_runs_whose_message_is_gone_and_not_those_still_queued_or_held(
    start_worker, ops_env
):
    # given three pending fetch runs, five minutes old:
    # one whose message was purged, one whose message waits in a queue, one held by a worker
    # (its message carries a countdown, so the worker keeps it unacked until then)
    start_worker(queues="default", name="ops-orphans")
    purged, queued, held = (FetchRun.objects.create(celery_task_id=str(uuid.uuid4())) for _ in range(3))
    five_minutes_ago = timezone.now() - timedelta(minutes=5)
    FetchRun.objects.filter(pk__in=[purged.pk, queued.pk, held.pk]).update(
        created_at=five_minutes_ago, updated_at=five_minutes_ago
    )
    probe_task.apply_async(queue="maintenance", task_id=purged.celery_task_id, expires=300)
    monitor_celery.purge_queue("maintenance")
    probe_task.apply_async(queue="maintenance", task_id=queued.celery_task_id, expires=300)
    probe_task.apply_async(queue="default", task_id=held.celery_task_id, countdown=120, expires=300)
    wait_for(
        lambda: any(
            task["request"]["id"] == held.celery_task_id
            for tasks in (app.control.inspect(timeout=1).scheduled() or {}).values()
            for task in tasks
        ),
        timeout=30,
        message="the worker to hold the countdown task",
    )
    try:
        # when
        result = run_monitor_cli(["--check", "--json", "--no-probe"], ops_env)
        human = run_monitor_cli(["--check", "--no-probe"], ops_env)
    finally:
        monitor_celery.purge_queue("maintenance")
        app.control.revoke(held.celery_task_id)

    # then only the purged one is an orphan, and the check says so
    report = json.loads(result.stdout)
    assert [run["id"] for run in report["orphaned_runs"]] == [purged.pk]
    assert any(f"FetchRun#{purged.pk} pending" in problem for problem in report["problems"])
    assert result.returncode == 1
    assert "1 pending job rows whose message is gone" in human.stdout


def test_it_keeps_the_revoke_prompts_choice_and_never_counts_below_zero():
    # given the menu on a console that writes to a buffer
    out = io.StringIO()
    console = monitor_celery._console(out)
    menu = monitor_celery.Interactive(console, io.StringIO("y\n"), monitor_celery.CheckOptions())

    # when
    answer = menu.ask("terminate it if running? [y/N]> ")

    # then
    assert answer == "y"
    assert "[y/N]" in out.getvalue()
    assert monitor_celery.seconds_left_text(-0.4) == "0 s left"
    assert monitor_celery.seconds_left_text(2.2) == "3 s left"


def test_it_cancels_the_job_row_when_the_menu_revokes_its_running_task(serpapi, start_worker, ops_env):
    # given a fetch running on a worker (every SerpApi page answers after 2 s)
    from AdSpark.queries import normalize_fetch_params
    from AdSpark.services import fetch_run_create
    from core.maintenance import stuck_runs_repair
    from tests.conftest import TESLA

    start_worker(queues="data_fetch", name="ops-revoke", pool="prefork")
    serpapi.inject_fault(delay=2.0, count=50)
    query = normalize_fetch_params({"advertiser_ids": TESLA, "region": "2840", "num": 5, "max_pages": 10})
    run = fetch_run_create(owner=None, query=query)
    wait_for(
        lambda: FetchRun.objects.get(pk=run.pk).status == "running", timeout=60, message="the fetch to run"
    )

    # when menu entry 8 revokes its task with terminate
    result = run_monitor_cli(["--interactive"], ops_env, stdin=f"8\n{run.celery_task_id}\ny\nq\n")

    # then the row is cancelled, and the repair leaves it alone (no new task id, still cancelled)
    run.refresh_from_db()
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr
    assert f"job AdSpark.FetchRun#{run.pk} is now cancelled" in result.stdout
    assert run.status == "cancelled"
    task_id = run.celery_task_id
    stuck_runs_repair(now=timezone.now() + timedelta(hours=3))
    time.sleep(3)
    run.refresh_from_db()
    assert (run.status, run.celery_task_id) == ("cancelled", task_id)
