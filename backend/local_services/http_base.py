"""The one HTTP server base of the local fake services (SerpApi, Dify, OpenAI-compatible).

Standard library only, so ``python -m local_services.serpapi_server`` starts instantly without
Django. A subclass of :class:`LocalHTTPServer` implements ``handle(method, target, headers,
body) -> Reply``; the base runs a threading HTTP/1.1 server on a daemon thread, sends the
reply (with a length, or streamed as Server-Sent Events and then closed), tracks open
keep-alive connections so ``stop()`` really stops answering, and logs one line per request
(``api_key`` redacted) when ``verbose``.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

# An idle keep-alive connection is closed after this many seconds, so threads do not pile up.
IDLE_CONNECTION_TIMEOUT = 60


@dataclass(frozen=True)
class Reply:
    """An HTTP answer; ``stream`` (chunks sent as they come, connection closed) replaces ``body``."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    stream: Iterator[bytes] | None = None


class LocalHTTPServer:
    """Lifecycle and transport of a local fake service; subclasses implement :meth:`handle`.

    ``port`` 0 picks a free port (read ``port``/``url`` after ``start()``).
    """

    NAME = "local-http"
    SERVER_VERSION = "Local/1.0"

    def __init__(self, *, host: str, port: int, verbose: bool = False) -> None:
        self.host = host
        self.port = port
        self.verbose = verbose
        # Set by stop(): wakes injected delays so a stopping server does not hang.
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        """Answer one request: ``target`` is path + query, ``headers`` a ``Message``."""
        raise NotImplementedError

    def internal_error(self, exc: Exception) -> Reply:
        """The answer when :meth:`handle` raised: a bug in the fake, said so on stderr."""
        traceback.print_exc()
        return Reply(500, b'{"error": "Internal server error."}')

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a daemon thread; return self.

        Raises:
            RuntimeError: already started. OSError: the address cannot be bound.
        """
        if self._httpd is not None:
            raise RuntimeError("server already started")
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            # stop() waits up to one poll interval; 50 ms keeps test teardown fast and idle cheap.
            kwargs={"poll_interval": 0.05},
            name=f"{self.NAME}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open keep-alive connections and release the port. Idempotent."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        # Without this, a client's pooled keep-alive connection would still be answered.
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``"http://127.0.0.1:54321"``.

        Raises:
            RuntimeError: the server is not started.
        """
        if self._httpd is None:
            raise RuntimeError("server not started")
        return f"http://{self.host}:{self.port}"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: LocalHTTPServer) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, as requests.Session and httpx expect; every reply that
    # is not a stream has a length.
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_TIMEOUT
    server: _HTTPServer

    def version_string(self) -> str:
        return self.server.app.SERVER_VERSION

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        started = time.monotonic()
        app = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            reply = app.handle(method, self.path, self.headers, body)
        except Exception as exc:
            reply = app.internal_error(exc)
        sent = 0
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers:
                self.send_header(name, value)
            if reply.stream is None:
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
                sent = len(reply.body)
            else:
                # Server-Sent Events: no length; the end of the stream is the end of the connection.
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for chunk in reply.stream:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired)
        if app.verbose:
            elapsed_ms = (time.monotonic() - started) * 1000
            print(
                f"{self.client_address[0]} {method} {_redact(self.path)} {reply.status} {sent}B {elapsed_ms:.1f}ms",
                file=sys.stderr,
                flush=True,
            )

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _dispatch logs one richer line when verbose

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.app.verbose:
            super().log_message(format, *args)


def _redact(target: str) -> str:
    split = urlsplit(target)
    if not split.query:
        return target
    params = [(k, "***" if k == "api_key" else v) for k, v in parse_qsl(split.query, True)]
    return f"{split.path}?{urlencode(params, safe='*')}"
