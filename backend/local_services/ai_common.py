"""What the local Dify and OpenAI-compatible servers share.

On top of :class:`local_services.http_base.LocalHTTPServer`: a request log, faults queued for the next requests
(``inject_fault``), signed image URLs that expire like the real providers' (the worker must
store a copy), generated PNGs, and control endpoints for a server running as its own process:
``POST /_control/faults`` ``{"kind", "count", "delay", "endpoint"}``, ``POST /_control/reset``,
``GET /_control/requests``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ai_agent.images import png_encode
from local_services.http_base import LocalHTTPServer, Reply

JSON_TYPE = "application/json"
MALFORMED_BODY = b'{"data": {"status": "succeeded", "outputs": {"headline": '
# A generated image stays downloadable this long (seconds); Dify's signed file URLs and
# OpenAI's image URLs expire too (after minutes to an hour).
IMAGE_TTL_SECONDS = 600
IMAGE_SIZE = 256


def json_reply(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers=headers)


@dataclass
class Fault:
    """A fault for the next ``remaining`` requests to ``endpoint`` (or any API endpoint)."""

    kind: str
    remaining: int
    delay: float
    endpoint: str | None


def png_gradient(width: int, height: int, seed: int) -> bytes:
    """A small RGB PNG whose colours depend on ``seed`` (never blank)."""
    r0, g0, b0 = seed & 0xFF, (seed >> 8) & 0xFF, (seed >> 16) & 0xFF
    return png_encode(width, height, lambda x, y: ((r0 + x) & 0xFF, (g0 + y) & 0xFF, (b0 + x + y) & 0xFF))


class LocalAIServer(LocalHTTPServer):
    """Base of the local provider servers; subclasses implement :meth:`route` and set ``FAULTS``."""

    FAULTS: tuple[str, ...] = ()
    ENDPOINTS: tuple[str, ...] = ()
    NAME = "local-ai"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
        image_ttl: float = IMAGE_TTL_SECONDS,
    ) -> None:
        """``api_key`` None accepts any non-empty Bearer key; ``port`` 0 picks a free port."""
        super().__init__(host=host, port=port, verbose=verbose)
        self.api_key = api_key
        self.image_ttl = image_ttl
        self._secret = secrets.token_bytes(16)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._log: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._images: dict[str, bytes] = {}

    @property
    def api_base(self) -> str:
        """The base URL to configure (``DIFY_BASE_URL`` / ``OPENAI_BASE_URL``)."""
        return f"{self.url}/v1"

    # -- faults and log ----------------------------------------------------------------------

    def inject_fault(
        self, kind: str, *, count: int = 1, delay: float = 0.0, endpoint: str | None = None
    ) -> None:
        """Make the next ``count`` requests (to ``endpoint`` only, if given) misbehave as ``kind``.

        ``kind`` is one of ``FAULTS``; ``"delay"`` sleeps ``delay`` seconds and then answers
        normally (other kinds sleep ``delay`` first too). Faults queue in injection order.

        Raises:
            ValueError: unknown kind or endpoint, or count < 1.
        """
        if kind not in self.FAULTS:
            raise ValueError(f"kind must be one of {self.FAULTS}, not {kind!r}")
        if endpoint is not None and endpoint not in self.ENDPOINTS:
            raise ValueError(f"endpoint must be one of {self.ENDPOINTS}, not {endpoint!r}")
        if count < 1 or delay < 0:
            raise ValueError("count must be >= 1 and delay >= 0")
        with self._lock:
            self._faults.append(Fault(kind=kind, remaining=count, delay=float(delay), endpoint=endpoint))

    def take_fault(self, endpoint: str) -> Fault | None:
        """Consume and return the first fault that applies to ``endpoint`` (and sleep its delay)."""
        with self._lock:
            fault = next((f for f in self._faults if f.endpoint in (None, endpoint)), None)
            if fault is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
        if fault is not None and fault.delay:
            self._stopping.wait(fault.delay)
        return fault

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Requests answered, oldest first: ``{"method", "path", "endpoint", "status", "time"}``."""
        with self._lock:
            return [dict(entry) for entry in self._log]

    def count(self, endpoint: str) -> int:
        """How many requests to ``endpoint`` were answered (any status)."""
        with self._lock:
            return sum(1 for entry in self._log if entry["endpoint"] == endpoint)

    def reset(self) -> None:
        """Forget faults, the request log and stored images."""
        with self._lock:
            self._faults.clear()
            self._log.clear()
            self._images.clear()
        self.reset_state()

    def reset_state(self) -> None:
        """Subclasses forget their own state (runs, uploads)."""

    def log(self, method: str, path: str, endpoint: str, status: int) -> None:
        with self._lock:
            self._log.append(
                {"method": method, "path": path, "endpoint": endpoint, "status": status, "time": time.time()}
            )

    # -- images ------------------------------------------------------------------------------

    def store_image(self, prefix: str, *, host: str) -> tuple[str, bytes]:
        """Make a PNG, keep it, and return ``(signed URL on this server, bytes)``."""
        name = secrets.token_hex(12)
        png = png_gradient(IMAGE_SIZE, IMAGE_SIZE, int(name[:6], 16))
        with self._lock:
            self._images[name] = png
        expires = int(time.time() + self.image_ttl)
        sign = hmac.new(self._secret, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]
        return (
            f"http://{host}{prefix}/{name}.png?timestamp={expires}&nonce={secrets.token_hex(4)}&sign={sign}",
            png,
        )

    def serve_image(self, path: str, params: dict[str, str]) -> Reply:
        """Serve a stored image if its signature is valid and it has not expired (else 403/404)."""
        name = path.rsplit("/", 1)[-1].removesuffix(".png")
        try:
            expires = int(params.get("timestamp", "0"))
        except ValueError:
            expires = 0
        expected = hmac.new(self._secret, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(expected, params.get("sign", "")) or expires < time.time():
            return Reply(
                403,
                b"<Error><Code>AuthenticationFailed</Code><Message>Signature expired or invalid</Message></Error>",
                content_type="application/xml",
            )
        with self._lock:
            png = self._images.get(name)
        if png is None:
            return Reply(404, b"not found", content_type="text/plain")
        return Reply(200, png, content_type="image/png")

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        host = headers.get("Host") or f"{self.host}:{self.port}"
        if path.startswith("/_control/"):
            return self._control(method, path, body)
        return self.route(method, path, params, headers, body, host)

    def route(
        self, method: str, path: str, params: dict[str, str], headers: Any, body: bytes, host: str
    ) -> Reply:
        raise NotImplementedError

    def bearer_ok(self, headers: Any) -> bool:
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return False
        return self.api_key is None or hmac.compare_digest(auth[7:].strip(), self.api_key)

    def internal_error(self, exc: Exception) -> Reply:
        # a bug in the fake must not look like a hung provider
        return json_reply(
            500, {"code": "internal_server_error", "message": f"local server bug: {exc}", "status": 500}
        )

    def _control(self, method: str, path: str, body: bytes) -> Reply:
        if path == "/_control/requests" and method == "GET":
            return json_reply(200, {"requests": self.requests})
        if method != "POST":
            return json_reply(405, {"error": "POST only"})
        if path == "/_control/reset":
            self.reset()
            return json_reply(200, {"ok": True})
        if path == "/_control/faults":
            try:
                spec = json.loads(body or b"{}")
                self.inject_fault(
                    spec["kind"],
                    count=int(spec.get("count", 1)),
                    delay=float(spec.get("delay", 0)),
                    endpoint=spec.get("endpoint"),
                )
            except (ValueError, KeyError, TypeError) as exc:
                return json_reply(400, {"error": str(exc)})
            return json_reply(200, {"ok": True, "pending": self.pending_faults})
        return json_reply(404, {"error": "unknown control endpoint"})
