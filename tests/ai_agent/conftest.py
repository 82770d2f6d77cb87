"""Fixtures for ai_agent: local Dify and OpenAI servers, a real ai_generation worker, a browser.

The worker is a real ``celery -A backend worker -Q ai_generation -c 1`` subprocess configured
through its environment (both local provider servers, a short provider timeout so the timeout
fault is quick, and the session's MEDIA_ROOT, ``media_root`` of tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from AdSpark.models import CreativeDetails
from ai_agent.screenshots import ScreenshotService
from local_services.dify_server import LocalDifyServer
from local_services.openai_server import LocalOpenAIServer
from tests.conftest import WorkerProcess, worker_env
from tests.factories import CreativeFactory

DIFY_KEY = "app-test-dify-key"
OPENAI_KEY = "sk-test-openai-key"
# The worker's provider timeout (seconds): a "delay" fault longer than this is a timeout.
WORKER_PROVIDER_TIMEOUT = 2


@pytest.fixture(scope="session")
def dify_server() -> Iterator[LocalDifyServer]:
    server = LocalDifyServer(api_key=DIFY_KEY).start()
    settings.DIFY_API_KEY = DIFY_KEY
    settings.DIFY_BASE_URL = server.api_base
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openai_server() -> Iterator[LocalOpenAIServer]:
    server = LocalOpenAIServer(api_key=OPENAI_KEY).start()
    settings.OPENAI_API_KEY = OPENAI_KEY
    settings.OPENAI_BASE_URL = server.api_base
    yield server
    server.stop()


@pytest.fixture
def dify(dify_server: LocalDifyServer) -> Iterator[LocalDifyServer]:
    dify_server.reset()
    yield dify_server
    dify_server.reset()


@pytest.fixture
def openai(openai_server: LocalOpenAIServer) -> Iterator[LocalOpenAIServer]:
    openai_server.reset()
    yield openai_server
    openai_server.reset()


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    """Throttle counters live in Redis (this run's own db): start every test without history."""
    cache.clear()


@pytest.fixture(scope="session")
def ai_worker(
    django_db_setup: None,
    django_db_blocker: object,
    serpapi_server: object,
    dify_server: LocalDifyServer,
    openai_server: LocalOpenAIServer,
    media_root: Path,
) -> Iterator[WorkerProcess]:
    """A real worker on ``ai_generation`` (concurrency 1, like production) for the session."""
    env = worker_env(
        serpapi_server.url,  # type: ignore[attr-defined]
        AI_PROVIDER="template",
        DIFY_API_KEY=DIFY_KEY,
        DIFY_BASE_URL=dify_server.api_base,
        DIFY_RESPONSE_MODE="streaming",
        DIFY_TIMEOUT=str(WORKER_PROVIDER_TIMEOUT),
        OPENAI_API_KEY=OPENAI_KEY,
        OPENAI_BASE_URL=openai_server.api_base,
        OPENAI_TIMEOUT=str(WORKER_PROVIDER_TIMEOUT),
        MEDIA_ROOT=str(media_root),
        ADSPARK_ALLOW_LOOPBACK_URLS="true",
    )
    worker = WorkerProcess(queues="ai_generation", env=env, concurrency=1, name="ai")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def screenshots() -> Iterator[ScreenshotService]:
    """One browser for the screenshot tests (loopback allowed: the test servers are local)."""
    service = ScreenshotService(allow_loopback=True, timeout=15)
    yield service
    service.close()


class _StaticHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def static_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A local HTTP server over a temporary directory: ``(base_url, directory)``."""
    root = tmp_path_factory.mktemp("site")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_StaticHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", root
    server.shutdown()
    server.server_close()


def text_creative(**kwargs: object) -> object:
    """A text creative with ad details (drawn as an ad card: no network needed)."""
    creative = CreativeFactory(format="text", image_url="", **kwargs)
    CreativeDetails.objects.create(
        creative=creative,
        format="text",
        title="lululemon",
        snippet="Inspiration's Your Guide In Lightweight Travel Gear That Moves With No Restrictions.",
        visible_link="shop.lululemon.com",
        last_shown=dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
    )
    return creative


@pytest.fixture
def make_text_creative() -> object:
    """Factory fixture: ``make_text_creative(**CreativeFactory kwargs)`` -> Creative."""
    return text_creative
