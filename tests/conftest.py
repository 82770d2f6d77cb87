"""Shared fixtures: the local SerpApi server, users, API clients, and a real Celery worker.

Integration fixtures start real processes: ``celery_worker`` runs ``celery -A backend worker``
against the test PostgreSQL database and the test Redis databases (see pytest.ini).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from local_services.serpapi_server import LocalSerpApiServer
from tests.factories import UserFactory

REPO_DIR = Path(__file__).resolve().parent.parent
BACKEND_DIR = REPO_DIR / "backend"
SHARED_RESPONSES = REPO_DIR.parent / "shared" / "fixtures" / "serpapi" / "responses"
SERPAPI_TEST_KEY = "test-serpapi-key"
TESLA = "AR17828074650563772417"


@pytest.fixture(scope="session", autouse=True)
def _clean_redis() -> None:
    """Start every session with empty test Redis databases (queues, results, limits)."""
    for url in (settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND, settings.REDIS_URL):
        redis.Redis.from_url(url).flushdb()


@pytest.fixture(scope="session")
def serpapi_server() -> Iterator[LocalSerpApiServer]:
    """The local SerpApi-compatible server, serving shared/fixtures/serpapi/responses."""
    server = LocalSerpApiServer(responses_dir=SHARED_RESPONSES, api_key=SERPAPI_TEST_KEY, port=0)
    server.start()
    settings.SERPAPI_BASE_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def serpapi(serpapi_server: LocalSerpApiServer) -> Iterator[LocalSerpApiServer]:
    """The local SerpApi server, reset (no faults, empty log) and with the rate limit cleared."""
    serpapi_server.reset()
    serpapi_server.use_responses(SHARED_RESPONSES)
    redis.Redis.from_url(settings.REDIS_URL).delete("adspark:ratelimit:serpapi")
    yield serpapi_server
    serpapi_server.reset()


@pytest.fixture(scope="session")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One MEDIA_ROOT for the session's test process and its workers (AI variants, the creative
    archive), so stored files can be checked. One for all suites: the default storage caches its
    location on first use, so a second root set later would not be seen by this process."""
    root = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def alice(db: None) -> object:
    return UserFactory(username="alice")


@pytest.fixture
def bob(db: None) -> object:
    return UserFactory(username="bob")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def alice_client(alice: object) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def worker_env(serpapi_url: str, **extra: str) -> dict[str, str]:
    """Environment for a worker subprocess: the test database, test Redis, the local SerpApi."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        DATABASE_CONN_MAX_AGE="0",
        SERPAPI_BASE_URL=serpapi_url,
        PYTHONPATH=str(BACKEND_DIR),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class WorkerProcess:
    """A real ``celery -A backend worker`` subprocess consuming ``queues``."""

    def __init__(
        self,
        *,
        queues: str,
        env: dict[str, str],
        concurrency: int = 2,
        pool: str = "prefork",
        name: str = "test",
        log_path: Path | None = None,
    ):
        self.name = f"{name}-{os.getpid()}@%h"
        self.log_path = log_path or (REPO_DIR / "var" / "test-logs" / f"worker-{name}.log")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "backend",
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-P",
            pool,
            "-n",
            self.name,
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
        ]
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> WorkerProcess:
        from backend.celery import app

        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            self.args, cwd=BACKEND_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        hostname = self.name.replace("%h", __import__("socket").gethostname())
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}; see {self.log_path}")
            replies = app.control.ping(destination=[hostname], timeout=0.5) or []
            if replies:
                return self
        raise RuntimeError(f"worker did not answer ping within {timeout} s; see {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and its pool children)."""
        if self.process is None:
            return
        subprocess.run(["pkill", "-KILL", "-P", str(self.process.pid)], check=False)
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None, django_db_blocker: object, serpapi_server: LocalSerpApiServer
) -> Iterator[WorkerProcess]:
    """A real worker consuming ``data_fetch`` and ``default`` for the whole session."""
    worker = WorkerProcess(queues="data_fetch,default", env=worker_env(serpapi_server.url), name="session")
    worker.start()
    yield worker
    worker.stop()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate()`` until it returns a truthy value; return it or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {message}")
