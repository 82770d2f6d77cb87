"""celery_scripts/: start, status and stop scripts run for real; the Windows seed command on Linux."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.celery import QUEUES, app
from core.tasks import probe_task
from tests.conftest import BACKEND_DIR, REPO_DIR, wait_for
from tests.ops.ops_support import free_port, kill_tree

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SCRIPTS = REPO_DIR / "celery_scripts"
HOST = socket.gethostname()
WINDOWS_SEED_COMMAND = (
    "celery -A backend.celery worker -P threads -c 4 -l info "
    "-Q default,data_fetch,ai_generation,maintenance --without-gossip --without-mingle --without-heartbeat"
)


def script(
    name: str, *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    # Run from / to prove the scripts find the repository themselves.
    result = subprocess.run(
        [str(SCRIPTS / name), *args], env=env, cwd="/", capture_output=True, text=True, timeout=timeout
    )
    print(f"$ {name} {' '.join(args)} -> exit {result.returncode}\n{result.stdout}{result.stderr}")
    return result


@pytest.fixture
def scripts_env(ops_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    """The test environment with pid/log files in a temporary var dir; stops everything after."""
    env = {**ops_env, "ADSPARK_VAR_DIR": str(tmp_path / "var"), "FLOWER_PORT": str(free_port())}
    env.pop("FLOWER_BASIC_AUTH", None)
    yield env
    subprocess.run(
        [str(SCRIPTS / "stop_celery.sh"), "--timeout", "20", "--force"], env=env, capture_output=True
    )
    for pidfile in (tmp_path / "var" / "run").glob("*.pid"):
        text = pidfile.read_text().strip()
        if text.isdigit():
            kill_tree(int(text))


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_it_starts_checks_and_stops_the_four_workers_beat_and_flower(scripts_env, tmp_path):
    run_dir = tmp_path / "var" / "run"

    # when the workers are started
    started = script("start_celery_workers.sh", env=scripts_env)
    assert started.returncode == 0, started.stderr
    nodes = [f"{queue}@{HOST}" for queue in QUEUES]
    wait_for(
        lambda: len(app.control.ping(destination=nodes, timeout=1.0) or []) == 4,
        timeout=60,
        message="four workers answering ping",
    )

    # then each is sized as the table says and has its pid and log file
    stats = app.control.inspect(destination=nodes, timeout=2).stats() or {}
    sizes = {node.split("@")[0]: stats[node]["pool"]["max-concurrency"] for node in nodes}
    print("worker sizes:", sizes)
    assert sizes == {"default": 2, "data_fetch": 2, "ai_generation": 1, "maintenance": 1}
    for queue in QUEUES:
        assert (run_dir / f"celery-worker-{queue}.pid").read_text().strip().isdigit()
        assert (tmp_path / "var" / "log" / f"celery-worker-{queue}.log").exists()
    again = script("start_celery_workers.sh", env=scripts_env)
    assert again.stdout.count("already running") == 4

    # and beat and Flower start (Flower only with basic auth)
    assert script("start_celery_beat.sh", env=scripts_env).returncode == 0
    refused = script("start_celery_flower.sh", env=scripts_env)
    assert refused.returncode == 2 and "FLOWER_BASIC_AUTH" in refused.stderr
    flower_env = {**scripts_env, "FLOWER_BASIC_AUTH": "ops:secret-for-test"}
    assert script("start_celery_flower.sh", env=flower_env).returncode == 0

    # when the status is asked
    status = script("celery_status.sh", "--json", env=scripts_env)
    report = json.loads(status.stdout)
    assert status.returncode == 0, report["problems"]
    for queue in QUEUES:
        # other tests of the session may have their own workers on these queues too
        assert f"{queue}@{HOST}" in report["queues"][queue]["consumers"]
        assert report["queues"][queue]["depth"] == 0
    human = script("celery_status.sh", env=scripts_env)
    assert "celery-beat running" in human.stdout and "celery-flower running" in human.stdout

    # when everything is stopped
    pids = [int(p.read_text()) for p in run_dir.glob("*.pid")]
    assert len(pids) == 6
    stopped = script("stop_celery.sh", "--timeout", "30", env=scripts_env)

    # then nothing is left
    assert stopped.returncode == 0
    assert list(run_dir.glob("*.pid")) == []
    wait_for(lambda: not any(_alive(pid) for pid in pids), timeout=20, message="all processes gone")
    print(f"stopped {len(pids)} processes: {pids}")


@pytest.mark.parametrize(
    "name",
    [
        "start_celery_workers.sh",
        "start_celery_beat.sh",
        "start_celery_flower.sh",
        "celery_status.sh",
        "stop_celery.sh",
    ],
)
def test_it_explains_each_script_with_help(name, scripts_env):
    result = script(name, "--help", env=scripts_env)
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: ")


def test_it_has_a_powershell_twin_for_each_script_using_the_threads_pool():
    for sh in SCRIPTS.glob("*.sh"):
        assert sh.with_suffix(".ps1").exists(), sh.name
    workers = (SCRIPTS / "start_celery_workers.ps1").read_text()
    assert "'-P', 'threads'" in workers
    common = (SCRIPTS / "_common.ps1").read_text()
    assert "default = 2; data_fetch = 2; ai_generation = 1; maintenance = 1" in common


def test_it_runs_the_seeds_windows_worker_command_on_linux(ops_env):
    # given the seed's command, run as written from backend/
    celery = str(Path(sys.executable).parent / "celery")
    args = [celery, *WINDOWS_SEED_COMMAND.split()[1:]]
    log = open(REPO_DIR / "var" / "test-logs" / "worker-windows-seed.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(args, cwd=BACKEND_DIR, env=ops_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        node = f"celery@{HOST}"
        wait_for(
            lambda: app.control.ping(destination=[node], timeout=0.5), timeout=60, message="seed worker ping"
        )

        # when a probe is sent to each of the four queues
        stats = app.control.inspect(destination=[node], timeout=2).stats()[node]
        results = {queue: probe_task.apply_async(queue=queue) for queue in QUEUES}
        answers = {queue: result.get(timeout=30) for queue, result in results.items()}

        # then the one threads worker answers all of them
        print("pool:", stats["pool"]["implementation"], "concurrency:", stats["pool"]["max-concurrency"])
        assert stats["pool"]["implementation"] == "celery.concurrency.thread:TaskPool"
        assert stats["pool"]["max-concurrency"] == 4
        assert {answer["queue"] for answer in answers.values()} == set(QUEUES)
        print("answers:", answers)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
        log.close()
