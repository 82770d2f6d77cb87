"""Fixtures of the operations tests: real workers, private Redis servers.

Every process started here is stopped by a finalizer, also when the test fails.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import WorkerProcess, worker_env
from tests.ops.ops_support import ALL_QUEUES, RedisServer


@pytest.fixture
def ops_env(django_db_setup: None, serpapi_server: object) -> dict[str, str]:
    """Environment for subprocesses: the test database and Redis dbs, the local SerpApi."""
    return worker_env(serpapi_server.url)  # type: ignore[attr-defined]


@pytest.fixture
def start_worker(ops_env: dict[str, str]) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real workers (``start_worker(queues=…, name=…)``); all are stopped afterwards."""
    started: list[WorkerProcess] = []

    def start(
        *,
        queues: str = ALL_QUEUES,
        name: str = "ops",
        concurrency: int = 1,
        pool: str = "solo",
        env: dict[str, str] | None = None,
    ) -> WorkerProcess:
        worker = WorkerProcess(
            queues=queues, env=env or ops_env, concurrency=concurrency, pool=pool, name=name
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop(timeout=15)
        if worker.process is not None and worker.process.poll() is None:
            worker.kill()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server (AOF on) on a free port; stopped after the test."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server (.ci/run does it)")
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()
