"""Fixtures for the creative archive: a local "Google" server, a real ai_generation worker.

Recorded creatives (shared/fixtures/serpapi) point at Google hosts: images at
``https://tpc.googlesyndication.com/archive/simgad/…`` and preview scripts at
``https://displayads-formats.googleusercontent.com/ads/preview/content.js?…``. Nothing may
leave the machine, so :func:`localize` moves those URLs (path and recorded query kept) onto
:class:`GoogleStandIn`, a local HTTP server. Chromium's ``--host-resolver-rules`` would not do
it: the browser opens no connection itself, every request of a shot is made by
``core.urlsafety.pinned_request`` in the route handler (Python resolves the name and verifies
Google's TLS certificate), so the URLs themselves are rewritten.
"""

from __future__ import annotations

import http.server
import io
import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from PIL import Image

from tests.conftest import SHARED_RESPONSES, WorkerProcess, worker_env

GOOGLE_HOSTS = ("https://tpc.googlesyndication.com", "https://displayads-formats.googleusercontent.com")

# A stand-in for content.js: like the real script it reads htmlParentId / responseCallback from
# its own URL, draws the ad into that element and then calls the callback. What it draws depends
# on the recorded creativeId (its background's red is the id's last 3 digits mod 200).
CONTENT_JS = """(function () {
  var q = new URL(document.currentScript.src).searchParams;
  var parent = document.getElementById(q.get('htmlParentId'));
  var id = q.get('creativeId') || '0';
  var ad = document.createElement('div');
  var red = parseInt(id.slice(-3), 10) % 200;
  ad.style.cssText = 'width:320px;height:100px;font:20px sans-serif;color:#fff;padding:12px;'
    + 'box-sizing:border-box;background:rgb(' + red + ',90,160)';
  ad.textContent = 'Preview ' + id;
  parent.appendChild(ad);
  window[q.get('responseCallback')]({renderedAd: true});
})();"""


def png_bytes(width: int, height: int, seed: int = 0) -> bytes:
    """A PNG with a pattern that depends on ``seed`` (different seeds look different)."""
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            (((x * (3 + seed)) ^ (y * (5 + seed))) % 256, (x + y * seed) % 256, (x * y + seed * 40) % 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(width: int, height: int, seed: int = 0) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(png_bytes(width, height, seed))).save(out, format="JPEG", quality=90)
    return out.getvalue()


class GoogleStandIn:
    """A local HTTP server for the archive's downloads.

    * ``/archive/simgad/<name>``: ``images[name]`` (bytes, served as image/png or jpeg);
    * ``/ads/preview/content.js``: :data:`CONTENT_JS`;
    * ``/flaky/<name>?fail=N``: HTTP 503 for the first N requests of ``name``, then the image;
    * ``/status/<code>``: that status; ``/redirect?to=<url>``: 302 to ``url``.

    ``hits`` counts requests per path.
    """

    def __init__(self) -> None:
        self.images: dict[str, bytes] = {}
        self.hits: Counter[str] = Counter()
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                stand_in.hits[parts.path] += 1
                segments = parts.path.strip("/").split("/")
                if parts.path == "/ads/preview/content.js":
                    self._send(200, CONTENT_JS.encode(), "text/javascript")
                elif segments[:2] == ["archive", "simgad"] and segments[-1] in stand_in.images:
                    self._image(stand_in.images[segments[-1]])
                elif segments[0] == "flaky" and segments[-1] in stand_in.images:
                    if stand_in.hits[parts.path] <= int(query.get("fail", ["1"])[0]):
                        self._send(503, b"busy", "text/plain")
                    else:
                        self._image(stand_in.images[segments[-1]])
                elif segments[0] == "status":
                    self._send(int(segments[1]), b"status", "text/plain")
                elif parts.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", query["to"][0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._send(404, b"not found", "text/plain")

            def _image(self, body: bytes) -> None:
                mime = "image/png" if body.startswith(b"\x89PNG") else "image/jpeg"
                self._send(200, body, mime)

            def _send(self, status: int, body: bytes, mime: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> GoogleStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def localize(self, url: str) -> str:
        """``url`` with a Google host replaced by this server (path and query kept)."""
        for host in GOOGLE_HOSTS:
            if url.startswith(host):
                return self.url + url[len(host) :]
        return url


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
def archive_media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One MEDIA_ROOT for the test process and the worker, so stored files can be checked."""
    root = tmp_path_factory.mktemp("archive-media")
    settings.MEDIA_ROOT = str(root)
    return root


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
    django_db_setup: None, django_db_blocker: object, serpapi_server: Any, archive_media_root: Path
) -> Iterator[WorkerProcess]:
    """A real worker on ``ai_generation`` (concurrency 1, like production) with loopback URLs
    allowed (the stand-in server is local) and the shared MEDIA_ROOT."""
    env = worker_env(
        serpapi_server.url,
        MEDIA_ROOT=str(archive_media_root),
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
