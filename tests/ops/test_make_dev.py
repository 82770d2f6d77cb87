"""`make dev`'s Procfile under honcho: web, four workers, beat and Flower; reload; Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from backend.celery import QUEUES, app
from tests.conftest import BACKEND_DIR, REPO_DIR, wait_for
from tests.ops.ops_support import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = socket.gethostname()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_it_runs_every_process_in_one_terminal_reloads_workers_and_stops_on_ctrl_c(ops_env, tmp_path: Path):
    # on free ports
    web_port, flower_port = free_port(), free_port()
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    env = {
        **ops_env,
        "ADSPARK_DEV_PORT": str(web_port),
        "FLOWER_PORT": str(flower_port),
        "FLOWER_BASIC_AUTH": "dev:dev-test-password",
    }
    # given the Procfile started the way `make dev` starts it (celery_scripts/run_dev.py: honcho)
    log_path = tmp_path / "honcho.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(REPO_DIR / "celery_scripts" / "run_dev.py"),
                "--env-file",
                str(empty_env_file),
            ],
            cwd=REPO_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    probe_file = BACKEND_DIR / "core" / "_ops_reload_probe.py"
    try:
        nodes = [f"{queue}@{HOST}" for queue in QUEUES]
        wait_for(
            lambda: len(app.control.ping(destination=nodes, timeout=1.0) or []) == 4,
            timeout=120,
            message="four dev workers",
        )

        def answers(url: str) -> bool:
            try:
                return requests.get(url, timeout=2).status_code in (200, 401, 503)
            except requests.ConnectionError:
                return False

        wait_for(lambda: answers(f"http://127.0.0.1:{web_port}/api/health/"), timeout=60, message="runserver")
        wait_for(lambda: answers(f"http://127.0.0.1:{flower_port}/healthcheck"), timeout=60, message="flower")
        pids_before = {
            node: info["pid"]
            for node, info in (app.control.inspect(destination=nodes, timeout=2).stats() or {}).items()
        }

        # when a Python file changes
        probe_file.write_text("# written by tests/ops/test_make_dev.py; deleted at once\n")
        time.sleep(1)
        probe_file.unlink()

        # then the workers are restarted with new processes
        def restarted() -> bool:
            stats = app.control.inspect(destination=nodes, timeout=2).stats() or {}
            return len(stats) == 4 and all(stats[node]["pid"] != pids_before.get(node) for node in stats)

        wait_for(restarted, timeout=120, interval=1, message="the workers to restart")
        output = log_path.read_text(errors="replace")
        prefixes = {line.split("|")[0].split()[-1] for line in output.splitlines() if "|" in line}
        print("process prefixes:", sorted(prefixes))
        assert {
            "web.1",
            "worker_default.1",
            "worker_data_fetch.1",
            "worker_ai_generation.1",
            "worker_maintenance.1",
            "beat.1",
        } <= prefixes  # Flower may print nothing at this log level; it answered /healthcheck above
    finally:
        probe_file.unlink(missing_ok=True)
        # when Ctrl-C is pressed (SIGINT to the foreground process group)
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    # then every process of the group is gone
    wait_for(lambda: not _group_alive(process.pid), timeout=30, message="every dev process to exit")
    print("after Ctrl-C: honcho exited with", process.returncode, "and no process of its group is left")
