"""Fixtures for the creative archive: a local "Google" server, a real ai_generation worker.

The server is :class:`tests.google_standin.GoogleStandIn` (shared with the e2e run); its module
docstring says why the recorded Google URLs are rewritten onto it rather than resolved to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_RESPONSES, WorkerProcess, worker_env
from tests.google_standin import GoogleStandIn


def recorded_creative(recording: str, *, preview: bool) -> dict[str, Any]:
    """The first recorded ``ad_creatives`` item of ``recording`` with an image (``preview``
    False) or with a preview ``link`` and no image (``preview`` True)."""
    items = json.loads((SHARED_RESPONSES / recording).read_text())["ad_creatives"]
    for item in items:
        if preview and item.get("link") and not item.get("image"):
            return item
        if not preview and item.get("image"):
            return item
    raise LookupError(f"no {'preview' if preview else 'image'} creative in {recording}")


@pytest.fixture(scope="session")
def google_server() -> Iterator[GoogleStandIn]:
    server = GoogleStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def google(google_server: GoogleStandIn) -> GoogleStandIn:
    google_server.images.clear()
    google_server.hits.clear()
    return google_server


@pytest.fixture(scope="session")
def archive_worker(
    django_db_setup: None, django_db_blocker: object, serpapi_server: Any, media_root: Path
) -> Iterator[WorkerProcess]:
    """A real worker on ``ai_generation`` (concurrency 1, like production) with loopback URLs
    allowed (the stand-in server is local) and the session's MEDIA_ROOT (``media_root``)."""
    env = worker_env(
        serpapi_server.url,
        MEDIA_ROOT=str(media_root),
        ADSPARK_ALLOW_LOOPBACK_URLS="true",
        ARCHIVE_TIMEOUT="5",
        SCREENSHOT_TIMEOUT="15",
    )
    worker = WorkerProcess(queues="ai_generation", env=env, concurrency=1, name="archive")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def archive_on(settings: Any) -> Any:
    """ARCHIVE_ENABLED for this test (pytest.ini turns it off for the other suites)."""
    settings.ARCHIVE_ENABLED = True
    return settings
