"""Flower needs a login (issue 14 #18, issue 15 #12): backend/flowerconfig.py, read by every start.

Real Flower processes, started the ways the project starts them (Procfile.dev's line, the seed's
plain ``celery -A backend flower --port=…``), against the test Redis.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.conftest import BACKEND_DIR, REPO_DIR, wait_for
from tests.ops.ops_support import free_port, kill_tree

pytestmark = [pytest.mark.integration]

CREDENTIALS = ("ops", "flower-test-password")
PAGES = ("/", "/workers", "/tasks", "/tasks/datatable", "/broker", "/metrics", "/api/workers", "/task/abc")


def procfile_flower_argv(port: int) -> list[str]:
    """Procfile.dev's ``flower:`` line, with this interpreter and ``port``."""
    line = next(
        line for line in (REPO_DIR / "Procfile.dev").read_text().splitlines() if line.startswith("flower:")
    )
    command = line.split("exec ", 1)[1].replace("${FLOWER_PORT:-5555}", str(port))
    argv = shlex.split(command)
    assert argv[0].endswith("celery"), argv
    return [sys.executable, "-m", "celery", *argv[1:]]


@pytest.fixture
def flower_env() -> dict[str, str]:
    import os

    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWER_")}
    env.update(CELERY_BROKER_URL=settings.CELERY_BROKER_URL, PYTHONPATH=str(BACKEND_DIR))
    return env


@pytest.fixture
def start_flower() -> Iterator[Callable[..., tuple[subprocess.Popen[str], str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(argv: list[str], env: dict[str, str], port: int) -> tuple[subprocess.Popen[str], str]:
        process = subprocess.Popen(
            argv, cwd=BACKEND_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        started.append(process)
        return process, f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_tree(process.pid)


def _wait_up(process: subprocess.Popen[str], url: str) -> None:
    def up() -> bool:
        if process.poll() is not None:
            pytest.fail(
                f"flower exited with {process.returncode}: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            return requests.get(f"{url}/healthcheck", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    wait_for(up, timeout=60, interval=0.3, message="flower to listen")


def _listening_addresses(port: int) -> set[str]:
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if line.strip()}


@pytest.mark.parametrize("value", [None, "", ":", "admin:", ":secret", "admin:replace-me-flower"])
def test_it_refuses_to_start_without_a_user_and_a_password(value, flower_env, start_flower):
    # given Flower started as Procfile.dev starts it, FLOWER_BASIC_AUTH unset, empty or half empty
    env = dict(flower_env)
    if value is not None:
        env["FLOWER_BASIC_AUTH"] = value
    elif "FLOWER_BASIC_AUTH=" in ((REPO_DIR / ".env").read_text() if (REPO_DIR / ".env").exists() else ""):
        env["FLOWER_BASIC_AUTH"] = ""  # this checkout's .env has a login (make dev): blank it
    port = free_port()

    # when
    process, _url = start_flower(procfile_flower_argv(port), env, port)
    output, _ = process.communicate(timeout=60)

    # then it exits at once, says why, and never listened
    assert process.returncode == 2, output
    assert "FLOWER_BASIC_AUTH" in output
    assert "Traceback" not in output
    assert not _listening_addresses(port)


def test_it_refuses_an_empty_login_given_on_the_command_line(flower_env, start_flower):
    port = free_port()
    env = {**flower_env, "FLOWER_BASIC_AUTH": ":".join(CREDENTIALS)}
    process, _url = start_flower([*procfile_flower_argv(port), "--basic_auth=admin:"], env, port)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2 and "non-empty user and password" in output, output


def test_it_asks_for_the_login_on_every_page_and_metrics_and_listens_on_localhost(flower_env, start_flower):
    # given the seed's plain command (no --address), with a login
    port = free_port()
    env = {**flower_env, "FLOWER_BASIC_AUTH": ":".join(CREDENTIALS)}
    process, url = start_flower(
        [sys.executable, "-m", "celery", "-A", "backend", "flower", f"--port={port}"], env, port
    )
    _wait_up(process, url)

    # when every page is read without, with wrong, and with the right credentials
    anonymous = {path: requests.get(f"{url}{path}", timeout=10, allow_redirects=False) for path in PAGES}
    wrong = {path: requests.get(f"{url}{path}", auth=("ops", "nope"), timeout=10) for path in PAGES}
    right = {path: requests.get(f"{url}{path}", auth=CREDENTIALS, timeout=10) for path in PAGES}

    # then
    for path in PAGES:
        assert anonymous[path].status_code == 401, path
        if not path.startswith("/api/"):  # Flower's API answers a bare 401
            assert anonymous[path].headers.get("WWW-Authenticate", "").startswith("Basic"), path
        assert wrong[path].status_code == 401, path
    for path in ("/", "/workers", "/tasks", "/metrics", "/api/workers"):
        assert right[path].status_code == 200, path
    assert "flower_events_total" in right["/metrics"].text or "# HELP" in right["/metrics"].text
    assert requests.get(f"{url}/healthcheck", timeout=10).text == "OK"
    assert _listening_addresses(port) == {"127.0.0.1"}
