"""celery_scripts tell the truth (issue 15 #7): a started worker has a real pid and answers ping,
a start that fails says so, and a worker that exits (removing its pid file) shows as STOPPED."""

from __future__ import annotations

import os
import re
import signal
import socket

import pytest

from backend.celery import app
from tests.conftest import wait_for
from tests.ops.test_celery_scripts import script, scripts_env  # noqa: F401 - the fixture

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOST = socket.gethostname()


def test_it_reports_a_real_pid_and_shows_a_worker_that_exited_as_stopped(scripts_env, tmp_path):  # noqa: F811
    # when one worker is started by the script
    started = script("start_celery_workers.sh", "maintenance", env=scripts_env)

    # then it names a live pid, and the worker answers ping
    assert started.returncode == 0, started.stderr
    pid = int(re.search(r"worker maintenance started: -c 1, pid (\d+),", started.stdout).group(1))
    assert f"ready: maintenance@{HOST}" in started.stdout
    assert app.control.ping(destination=[f"maintenance@{HOST}"], timeout=2)

    # when the worker exits by itself (here: a warm shutdown), removing its pid file
    os.kill(pid, signal.SIGTERM)
    wait_for(
        lambda: not (tmp_path / "var" / "run" / "celery-worker-maintenance.pid").exists(),
        timeout=60,
        message="the worker to exit and remove its pid file",
    )

    # then the status still lists it, as STOPPED
    status = script("celery_status.sh", env=scripts_env)
    assert "celery-worker-maintenance STOPPED (exited; see" in status.stdout


def test_it_says_a_worker_is_not_ready_when_it_never_answers(scripts_env):  # noqa: F811
    # given a broker URL where nothing listens: the detached worker lives on, retrying, and
    # never answers ping (a live pid alone would have been reported as started)
    from tests.ops.ops_support import free_port

    env = {
        **scripts_env,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
        "ADSPARK_READY_TIMEOUT": "8",
    }

    # when
    started = script("start_celery_workers.sh", "maintenance", env=env)

    # then
    assert started.returncode == 1
    assert f"not ready within 8 s (no answer to ping): maintenance@{HOST}" in started.stderr
    assert "ready: " not in started.stdout
    assert re.search(r"pid \d+,", started.stdout)  # the pid it names is a real one, never "pid ,"
