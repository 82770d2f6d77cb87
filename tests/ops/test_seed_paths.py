"""The paths the system's own guide names (backend/monitor_celery.py, backend/celery_scripts/*,
setup_local_db.bat) run the top-level tools, with the same arguments and exit codes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from backend.celery import QUEUES, app
from tests.conftest import REPO_DIR, wait_for
from tests.ops.ops_support import ALL_QUEUES, free_port, kill_tree

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SEED_SCRIPTS = REPO_DIR / "backend" / "celery_scripts"
SCRIPT_NAMES = [
    "start_celery_workers",
    "start_celery_beat",
    "start_celery_flower",
    "celery_status",
    "stop_celery",
]


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=timeout)
    print(f"$ {' '.join(args)} -> exit {result.returncode}\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result


def test_importing_monitor_celery_from_backend_gives_the_top_level_module():
    # pytest.ini puts backend/ first on sys.path, so this import finds the seed-path file …
    import monitor_celery

    # … which is the top-level module, not a copy
    assert Path(monitor_celery.__file__) == REPO_DIR / "monitor_celery.py"
    assert callable(monitor_celery.main)


def test_python_backend_monitor_celery_check_reports_like_the_top_level_cli(ops_env, start_worker):
    # Given a worker on every queue (started and answering ping)
    worker = start_worker(queues=ALL_QUEUES, name="seedpath")
    node = worker.name.replace("%h", socket.gethostname())

    # When the check runs through the guide's path and through the top-level file
    seed = _run([sys.executable, "backend/monitor_celery.py", "--check", "--json"], ops_env)
    top = _run([sys.executable, "monitor_celery.py", "--check", "--json"], ops_env)

    # Then both see the worker on every queue, with the same exit code and report shape
    seed_report, top_report = json.loads(seed.stdout), json.loads(top.stdout)
    assert seed.returncode == top.returncode == seed_report["exit_code"]
    assert set(seed_report) == set(top_report)
    for queue in QUEUES:
        assert node in seed_report["queues"][queue]["consumers"]


def test_python_backend_monitor_celery_exits_2_when_the_broker_is_down(ops_env):
    env = {**ops_env, "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
    result = _run([sys.executable, "backend/monitor_celery.py", "--check", "--json", "--no-probe"], env)
    assert result.returncode == 2
    assert json.loads(result.stdout)["exit_code"] == 2


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_each_seed_script_is_the_top_level_script(name, ops_env):
    seed = _run([str(SEED_SCRIPTS / f"{name}.sh"), "--help"], ops_env)
    top = _run([str(REPO_DIR / "celery_scripts" / f"{name}.sh"), "--help"], ops_env)
    assert seed.returncode == 0 and seed.stdout == top.stdout and seed.stdout.startswith("Usage: ")
    # the PowerShell twin forwards to the top-level twin the same way
    ps1 = (SEED_SCRIPTS / f"{name}.ps1").read_text()
    assert "..\\..\\celery_scripts\\$($MyInvocation.MyCommand.Name)" in ps1 and "@args" in ps1
    assert (REPO_DIR / "celery_scripts" / f"{name}.ps1").exists()


def test_the_seed_scripts_start_report_and_stop_a_worker(ops_env, tmp_path):
    env = {**ops_env, "ADSPARK_VAR_DIR": str(tmp_path / "var")}
    node = f"maintenance@{socket.gethostname()}"
    try:
        # When a worker is started through ./backend/celery_scripts/ from another directory
        started = _run([str(SEED_SCRIPTS / "start_celery_workers.sh"), "maintenance"], env)
        assert started.returncode == 0, started.stderr
        wait_for(lambda: app.control.ping(destination=[node], timeout=0.5), timeout=60, message="worker ping")
        pid = int((tmp_path / "var" / "run" / "celery-worker-maintenance.pid").read_text())

        # Then the status script sees it, and the stop script stops it (exit codes passed through)
        status = _run([str(SEED_SCRIPTS / "celery_status.sh"), "--json"], env)
        assert node in json.loads(status.stdout)["queues"]["maintenance"]["consumers"]
        assert status.returncode in (0, 1)  # 1: the other queues have no worker in this test
        unknown = _run([str(SEED_SCRIPTS / "celery_status.sh"), "--no-such-option"], env)
        assert unknown.returncode == 2
        stopped = _run([str(SEED_SCRIPTS / "stop_celery.sh"), "--timeout", "30"], env)
        assert stopped.returncode == 0
        wait_for(
            lambda: (
                not Path(f"/proc/{pid}").exists()
                or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
            ),
            timeout=30,
            message="worker gone",
        )
    finally:
        subprocess.run(
            [str(REPO_DIR / "celery_scripts" / "stop_celery.sh"), "--force"], env=env, capture_output=True
        )
        for pidfile in (tmp_path / "var" / "run").glob("*.pid"):
            text = pidfile.read_text().strip()
            if text.isdigit():
                kill_tree(int(text))


def test_setup_local_db_bat_runs_the_powershell_script_with_the_same_arguments():
    # cmd.exe is not available here: the batch file is checked as text (it has one command).
    bat = (REPO_DIR / "setup_local_db.bat").read_bytes()
    assert b"\r\n" in bat and b"\n" not in bat.replace(b"\r\n", b"")  # CRLF: cmd.exe's line ends
    lines = [
        line for line in bat.decode().splitlines() if line and not line.lower().startswith(("rem", "@echo"))
    ]
    assert lines == [
        'powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0setup_local_db.ps1" %*',
        "exit /b %ERRORLEVEL%",
    ]
    assert (REPO_DIR / "setup_local_db.ps1").exists()
