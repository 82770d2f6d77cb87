"""Flower behind basic auth (FLOWER_BASIC_AUTH), against the real broker and a real worker."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from backend.celery import QUEUES
from tests.conftest import BACKEND_DIR, REPO_DIR, wait_for
from tests.ops.ops_support import free_port, kill_tree

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CREDENTIALS = ("ops", "flower-test-password")


@pytest.fixture
def flower(ops_env: dict[str, str]) -> Iterator[str]:
    """``celery -A backend flower`` on a free port with basic auth; yields its base URL."""
    port = free_port()
    env = {**ops_env, "FLOWER_BASIC_AUTH": ":".join(CREDENTIALS)}
    env.pop("FLOWER_UNAUTHENTICATED_API", None)
    log_path = REPO_DIR / "var" / "test-logs" / "flower.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "backend",
                "flower",
                "--address=127.0.0.1",
                f"--port={port}",
            ],
            cwd=BACKEND_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            pytest.fail(f"flower exited with {process.returncode}; see {log_path}")
        try:
            return requests.get(f"{url}/healthcheck", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(up, timeout=60, interval=0.3, message="flower to listen")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)


def test_it_serves_workers_and_queue_lengths_only_with_credentials(start_worker, flower):
    # given a worker on every queue
    start_worker(name="ops-flower")

    # when the API is read with and without credentials
    def workers() -> dict:
        reply = requests.get(f"{flower}/api/workers", params={"refresh": "1"}, auth=CREDENTIALS, timeout=10)
        assert reply.status_code == 200
        return {name: info for name, info in reply.json().items() if name.startswith("ops-flower-")}

    seen = wait_for(workers, timeout=30, interval=0.5, message="flower to list the worker")
    lengths = requests.get(f"{flower}/api/queues/length", auth=CREDENTIALS, timeout=10)
    anonymous = [
        requests.get(f"{flower}{path}", timeout=10) for path in ("/api/workers", "/api/queues/length")
    ]
    wrong = requests.get(f"{flower}/api/workers", auth=("ops", "wrong"), timeout=10)

    # then
    print("workers:", list(seen), "queues:", lengths.json(), "anonymous:", [r.status_code for r in anonymous])
    assert lengths.status_code == 200
    assert {queue["name"] for queue in lengths.json()["active_queues"]} == set(QUEUES)
    assert all(queue["messages"] == 0 for queue in lengths.json()["active_queues"])
    assert [reply.status_code for reply in anonymous] == [401, 401]
    assert wrong.status_code == 401
