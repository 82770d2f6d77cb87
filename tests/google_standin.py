"""A local HTTP server standing in for Google's ad hosts, for the archive tests and the e2e run.

Recorded creatives (shared/fixtures/serpapi) point at Google hosts: images at
``https://tpc.googlesyndication.com/archive/simgad/…`` and preview scripts at
``https://displayads-formats.googleusercontent.com/ads/preview/content.js?…``. Nothing may
leave the machine, so those URLs (path and recorded query kept) are moved onto
:class:`GoogleStandIn`: by :meth:`GoogleStandIn.localize` in the archive tests, by the local
SerpApi server's ``media_host_base`` in the e2e run. Chromium's ``--host-resolver-rules`` would
not do it: the browser opens no connection itself, every request of a shot is made by
``core.urlsafety.pinned_request`` in the route handler (Python resolves the name and verifies
Google's TLS certificate), so the URLs themselves are rewritten.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
from collections import Counter
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw

from local_services.serpapi_server import GOOGLE_MEDIA_HOSTS

GOOGLE_HOSTS = GOOGLE_MEDIA_HOSTS

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
    """``png_bytes``' picture as a JPEG (quality 90)."""
    out = io.BytesIO()
    Image.open(io.BytesIO(png_bytes(width, height, seed))).save(out, format="JPEG", quality=90)
    return out.getvalue()


def generated_ad_png(name: str, width: int = 300, height: int = 250) -> bytes:
    """A deterministic ad-like PNG for the image ``name`` (a simgad id): a background colour taken
    from the SHA-256 of ``name``, a lighter band, and ``name`` drawn in it. Same name, same bytes;
    different names look different (and hash differently, so they are no look-alikes)."""
    digest = hashlib.sha256(name.encode()).digest()
    background = (digest[0] % 200, digest[1] % 200, digest[2] % 200)
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    # A pattern from the hash too: perceptual hashes of flat images would all be alike.
    for i in range(8):
        x, y = digest[3 + i] * width // 256, digest[11 + i] * height // 256
        draw.rectangle(
            (x, y, x + width // 4, y + height // 5), fill=(255 - background[i % 3], 220, 90 + i * 20)
        )
    draw.rectangle((0, height - 60, width, height), fill=(250, 250, 250))
    draw.text((12, height - 48), "AdSpark stand-in", fill=(40, 40, 40))
    draw.text((12, height - 28), name[:40], fill=(40, 40, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class GoogleStandIn:
    """A local HTTP server for the archive's downloads.

    * ``/archive/simgad/<name>``: ``images[name]`` (bytes, served as image/png or jpeg); with
      ``generate_images`` True, any other ``name`` gets :func:`generated_ad_png` (so recorded
      creatives have real pixels), else 404;
    * ``/ads/preview/content.js``: :data:`CONTENT_JS`;
    * ``/flaky/<name>?fail=N``: HTTP 503 for the first N requests of ``name``, then the image;
    * ``/status/<code>``: that status; ``/redirect?to=<url>``: 302 to ``url``.

    ``hits`` counts requests per path. ``port`` 0 picks a free one.
    """

    def __init__(self, *, generate_images: bool = False, host: str = "127.0.0.1", port: int = 0) -> None:
        self.images: dict[str, bytes] = {}
        self.hits: Counter[str] = Counter()
        self.generate_images = generate_images
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
                elif segments[:2] == ["archive", "simgad"] and len(segments) > 2 and stand_in.generate_images:
                    self._image(generated_ad_png(segments[-1]))
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

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://{host}:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> GoogleStandIn:
        """Serve in a daemon thread; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    def localize(self, url: str) -> str:
        """``url`` with a Google host replaced by this server (path and query kept)."""
        for host in GOOGLE_HOSTS:
            if url.startswith(host):
                return self.url + url[len(host) :]
        return url
