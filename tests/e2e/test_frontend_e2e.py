"""The Next.js frontend in a real browser against the real stack.

Starts, against the pytest test database and this run's Redis databases: the Django API
(gunicorn), real Celery workers for ``data_fetch``+``default`` and ``ai_generation``, the local
SerpApi and Dify servers, and the production Next.js build run by its standalone server
(``npm start`` = ``frontend/scripts/start-standalone.mjs``: ``.next/standalone/server.js`` with
``.next/static`` and ``public`` copied in, as in the Docker image; built first when the build is
missing or older than the sources). Then runs ``npx playwright test`` in ``frontend/``
(Debian's Chromium, ``frontend/e2e/*.spec.ts``), prints its output and asserts it passed. The
specs get the local SerpApi server's URL (``E2E_SERPAPI_URL``) to inject faults through its
``/_control/`` endpoints. Each Playwright test saves a screenshot under ``var/e2e-screenshots/``.

The creative archive runs as in production (``ARCHIVE_ENABLED=true``, captures on the
``ai_generation`` worker, files in the test process's ``MEDIA_ROOT`` served by Django at
``/media/``): the SerpApi server serves the recordings' Google image and preview URLs on
:class:`tests.google_standin.GoogleStandIn` (``media_host_base``), which answers every
``/archive/simgad/<id>`` with a generated PNG, so fetched creatives get archived pixels.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from core.toolchain import BROWSER_FIX, find_browser
from local_services.serpapi_server import LocalSerpApiServer
from tests.conftest import BACKEND_DIR, REPO_DIR, WorkerProcess, worker_env
from tests.google_standin import GoogleStandIn

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FRONTEND_DIR = REPO_DIR / "frontend"
SCREENSHOT_DIR = REPO_DIR / "var" / "e2e-screenshots"
LOG_DIR = REPO_DIR / "var" / "test-logs"
# The browser `make setup` chose (core.toolchain), also for the page tests run by Node's Playwright.
_BROWSER = find_browser()
CHROMIUM = _BROWSER.path if _BROWSER else "/usr/bin/chromium"
# Inputs of the production build: when one is newer than .next/BUILD_ID, the build is redone.
BUILD_INPUTS = ["src", "public", "next.config.ts", "package-lock.json", "tsconfig.json"]
STANDALONE_SERVER = FRONTEND_DIR / ".next" / "standalone" / "server.js"
DIFY_KEY = "app-e2e-dify-key"
# Captures share the single-concurrency ai_generation worker with the variant flow
# (adspark.spec.ts): a dozen per fetch run keeps that flow's wait short.
ARCHIVE_PER_RUN_CAP = "12"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _newest_mtime(path: Path) -> float:
    if not path.exists():
        return 0.0
    if path.is_file():
        return path.stat().st_mtime
    return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)


def _run(args: list[str], *, timeout: float) -> None:
    env = {**os.environ, "NEXT_TELEMETRY_DISABLED": "1", "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
    result = subprocess.run(args, cwd=FRONTEND_DIR, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )


def ensure_frontend_build() -> None:
    """``npm ci`` when node_modules is missing or stale, ``npm run build`` when the build is."""
    if shutil.which("npm") is None:
        pytest.fail("npm is required for the frontend end-to-end test (Node 20.19+).")
    installed = FRONTEND_DIR / "node_modules" / ".package-lock.json"
    if _newest_mtime(installed) < _newest_mtime(FRONTEND_DIR / "package-lock.json"):
        _run(["npm", "ci", "--no-audit", "--no-fund"], timeout=900)
    build_id = FRONTEND_DIR / ".next" / "BUILD_ID"
    stale = _newest_mtime(build_id) < max(_newest_mtime(FRONTEND_DIR / name) for name in BUILD_INPUTS)
    if stale or not STANDALONE_SERVER.exists():
        _run(["npm", "run", "build"], timeout=900)


class ServerProcess:
    """A subprocess in its own process group, logged to var/test-logs, stopped with its children."""

    def __init__(self, name: str, args: list[str], *, cwd: Path, env: dict[str, str], ready_url: str):
        self.name, self.args, self.cwd, self.env, self.ready_url = name, args, cwd, env, ready_url
        self.log_path = LOG_DIR / f"e2e-{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self  # it answers: up
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(
            f"{self.name} did not answer {self.ready_url} within {timeout} s; see {self.log_path}"
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def no_session_worker(celery_worker: WorkerProcess) -> Iterator[None]:
    """The session's ``data_fetch,default`` worker (tests/conftest.py), stopped while the stack
    runs and started again after it: it shares the stack's broker and would take the stack's
    tasks with pytest.ini's settings (a 0.2 s retry backoff, the archive off)."""
    celery_worker.stop()
    yield
    celery_worker.start()


@pytest.fixture
def stack(serpapi: LocalSerpApiServer, tmp_path: Path, no_session_worker: None) -> Iterator[dict[str, str]]:
    """The whole stack; yields ``{"frontend": url, "backend": url, "serpapi": url}``."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No browser found: run `make setup` or {BROWSER_FIX}, or set CHROMIUM_PATH.")
    ensure_frontend_build()
    started: list[WorkerProcess | ServerProcess] = []
    dify = None
    google = GoogleStandIn(generate_images=True).start()
    serpapi.media_host_base = google.url
    extra = {
        "AI_PROVIDER": "template",
        "CHROMIUM_PATH": CHROMIUM,
        # The same MEDIA_ROOT as the test process: an ai_generation worker that another test
        # module started for the session may take the variant instead of ours.
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "ADSPARK_ALLOW_LOOPBACK_URLS": "true",
        # pytest.ini's 0.2 s backoff is over before a browser can see it; the fetch-retry flow
        # (app.spec.ts) watches a retry count down and cancels it, so retries wait up to 30 s
        # then 60 s (full jitter: the flow waits for a wait long enough to watch).
        "ADSPARK_RETRY_BACKOFF_BASE": "30",
        "ADSPARK_RETRY_BACKOFF_CAP": "60",
        # The creative archive, on (pytest.ini turns it off for the suites without a worker):
        # images come from the Google stand-in (a loopback URL, allowed above), files go to
        # MEDIA_ROOT and Django serves them at /media/ (proxied by Next's /media route).
        "ARCHIVE_ENABLED": "true",
        "ARCHIVE_PER_RUN_CAP": ARCHIVE_PER_RUN_CAP,
        "MEDIA_SERVE": "true",
    }
    try:
        from local_services.dify_server import LocalDifyServer

        dify = LocalDifyServer(api_key=DIFY_KEY).start()
        extra.update(DIFY_API_KEY=DIFY_KEY, DIFY_BASE_URL=dify.api_base)
    except ImportError:  # the AI app's local server is optional for this test
        pass
    env = worker_env(serpapi.url, **extra)
    try:
        for worker in (
            WorkerProcess(queues="data_fetch,default", env=env, name="e2e-fetch"),
            WorkerProcess(queues="ai_generation", env=env, concurrency=1, name="e2e-ai"),
        ):
            started.append(worker.start())
        backend_port, frontend_port = _free_port(), _free_port()
        backend_url = f"http://127.0.0.1:{backend_port}"
        backend = ServerProcess(
            "backend",
            [
                str(REPO_DIR / ".venv" / "bin" / "gunicorn"),
                "backend.wsgi:application",
                "--bind",
                f"127.0.0.1:{backend_port}",
                "--workers",
                "1",
                "--threads",
                "8",
                "--timeout",
                "60",
                # longer than undici's 4 s keep-alive, so the proxy rarely reuses a closed socket
                "--keep-alive",
                "10",
            ],
            cwd=BACKEND_DIR,
            env=env,
            ready_url=f"{backend_url}/api/health/",
        )
        started.append(backend.start())
        frontend_url = f"http://127.0.0.1:{frontend_port}"
        # The standalone server (`npm start`), not `next start`: that is what production runs.
        frontend = ServerProcess(
            "frontend",
            [
                shutil.which("node") or "node",
                str(FRONTEND_DIR / "scripts" / "start-standalone.mjs"),
                "--hostname",
                "127.0.0.1",
                "--port",
                str(frontend_port),
            ],
            cwd=FRONTEND_DIR,
            env={**os.environ, "BACKEND_URL": backend_url, "NEXT_TELEMETRY_DISABLED": "1"},
            ready_url=f"{frontend_url}/login",
        )
        started.append(frontend.start())
        yield {"frontend": frontend_url, "backend": backend_url, "serpapi": serpapi.url}
    finally:
        for process in reversed(started):
            process.stop()
        if dify is not None:
            dify.stop()
        serpapi.media_host_base = None
        google.stop()


# The build (up to 15 min on a cold machine) and the specs (~10 min) outlast pytest.ini's 300 s.
@pytest.mark.timeout(2400)
@pytest.mark.django_db(transaction=True)
def test_the_marketing_team_uses_adspark_in_a_browser(stack: dict[str, str]) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "E2E_BASE_URL": stack["frontend"],
        "E2E_SERPAPI_URL": stack["serpapi"],
        "E2E_SCREENSHOT_DIR": str(SCREENSHOT_DIR),
        "E2E_OUTPUT_DIR": str(REPO_DIR / "var" / "e2e-results"),
        "E2E_USERNAME": f"marketer{int(time.time())}",
        "CHROMIUM_PATH": CHROMIUM,
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }

    result = subprocess.run(
        [str(FRONTEND_DIR / "node_modules" / ".bin" / "playwright"), "test"],
        cwd=FRONTEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )

    print(result.stdout)
    print(result.stderr)
    assert result.returncode == 0, f"Playwright failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    screenshots = sorted(p.name for p in SCREENSHOT_DIR.glob("*.png"))
    assert len(screenshots) >= 10, screenshots
