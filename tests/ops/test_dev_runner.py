"""``make dev``'s runner (celery_scripts/run_dev.py), issue 15 #9: the broker check reads ``.env``
and starts Redis on the URL's port; Ctrl-C gives the workers a warm shutdown, so a running task
finishes instead of dying with WorkerLostError. Real processes: honcho, watchfiles, a worker,
redis-server, the local SerpApi server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from AdSpark.models import FetchRun
from AdSpark.queries import normalize_fetch_params
from AdSpark.services import fetch_run_create
from backend.celery import app
from tests.conftest import REPO_DIR, TESLA, wait_for
from tests.ops.ops_support import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RUNNER = REPO_DIR / "celery_scripts" / "run_dev.py"
HOST = socket.gethostname()


def test_it_starts_redis_on_the_port_that_the_env_file_names(tmp_path: Path, ops_env: dict[str, str]):
    # given CELERY_BROKER_URL only in the .env file, naming a port where nothing listens
    port = free_port()
    env_file = tmp_path / ".env"
    env_file.write_text(f"DJANGO_DEBUG=true\nCELERY_BROKER_URL=redis://127.0.0.1:{port}/0\n")
    env = {k: v for k, v in ops_env.items() if k != "CELERY_BROKER_URL"}

    # when the runner checks the broker
    result = subprocess.run(
        [sys.executable, str(RUNNER), "--env-file", str(env_file), "--only-broker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    client = redis.Redis(port=port, socket_connect_timeout=1)
    try:
        # then a redis-server answers on that port, not on 6379
        print(result.stderr)
        assert result.returncode == 0, result.stderr
        assert f"started redis-server on 127.0.0.1:{port}" in result.stderr
        assert client.ping()
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    finally:
        pid = int(client.info("server")["process_id"])
        os.kill(pid, signal.SIGTERM)  # the redis-server this test started


def test_it_refuses_a_remote_broker_that_does_not_answer(tmp_path: Path, ops_env: dict[str, str]):
    env = {**ops_env, "CELERY_BROKER_URL": "redis://192.0.2.1:6379/0"}  # TEST-NET-1: never answers
    result = subprocess.run(
        [sys.executable, str(RUNNER), "--env-file", str(tmp_path / "none.env"), "--only-broker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "does not answer" in result.stderr


def test_it_lets_a_running_task_finish_when_ctrl_c_is_pressed(
    serpapi, tmp_path: Path, ops_env: dict[str, str]
):
    # given a Procfile with one worker line written like Procfile.dev's (watchfiles + celery)
    node = f"devtest-{os.getpid()}@%h"
    dev_line = next(
        line
        for line in (REPO_DIR / "Procfile.dev").read_text().splitlines()
        if line.startswith("worker_data_fetch:")
    )
    line = dev_line.replace("-n data_fetch@%h", f"-n {node}").replace("-Q data_fetch", "-Q data_fetch")
    assert f"-n {node}" in line
    procfile = tmp_path / "Procfile"
    procfile.write_text(line.replace("worker_data_fetch:", "worker:") + "\n")
    log_path = tmp_path / "dev.log"
    with open(log_path, "wb") as log:
        runner = subprocess.Popen(
            [
                sys.executable,
                str(RUNNER),
                "--procfile",
                str(procfile),
                "--env-file",
                str(tmp_path / "none.env"),
            ],
            cwd=REPO_DIR,
            env=ops_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hostname = node.replace("%h", HOST)
    try:
        wait_for(
            lambda: app.control.ping(destination=[hostname], timeout=1.0),
            timeout=120,
            interval=0.5,
            message="the dev worker",
        )
        # and a fetch that takes a while: every SerpApi page answers after 2 s
        serpapi.inject_fault(delay=2.0, count=50)
        query = normalize_fetch_params(
            {"advertiser_ids": TESLA, "region": "2840", "num": 10, "max_pages": 10}
        )
        run = fetch_run_create(owner=None, query=query)
        wait_for(
            lambda: FetchRun.objects.get(pk=run.pk).status == "running",
            timeout=60,
            message="the fetch to run",
        )

        # when Ctrl-C is pressed (SIGINT to the terminal's foreground process group)
        os.killpg(runner.pid, signal.SIGINT)
        runner.wait(timeout=180)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
        serpapi.reset()

    # then the task finished its work before the worker stopped, and nothing was killed
    output = log_path.read_text(errors="replace")
    print(output[-3000:])
    run.refresh_from_db()
    assert run.status == "succeeded", (run.status, run.error)
    assert "WorkerLostError" not in output
    assert f"warm shutdown of {hostname}" in output
    assert runner.returncode == 0
    assert not app.control.ping(destination=[hostname], timeout=1.0)
