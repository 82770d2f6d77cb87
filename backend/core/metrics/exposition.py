"""Rendering metrics, multiprocess mode, and the small HTTP server of a Celery worker.

Multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) is what makes counters right under gunicorn
and Celery's prefork pool: every child writes its values to its own files in that directory and
a scrape sums the files of all children, live and dead, so a recycled child
(``--max-tasks-per-child``, gunicorn's ``max_requests``) loses nothing. The variable must be set
before ``prometheus_client`` is imported (it picks its value class then), the directory must be
emptied when the parent starts (:func:`multiprocess_dir_reset`: gunicorn's ``on_starting``, the
worker's ``worker_init``), and a child that exits is marked dead (:func:`child_exited`) so its
live gauges stop counting. One directory per parent process: gunicorn and each worker node
have their own.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST, ThreadingWSGIServer

from . import CLUSTER_REGISTRY
from .auth import MetricsAccess, metrics_access

logger = logging.getLogger(__name__)


def multiprocess_dir() -> Path | None:
    """The ``PROMETHEUS_MULTIPROC_DIR`` of this process, or None when not in multiprocess mode."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(path) if path else None


def multiprocess_dir_reset() -> None:
    """Create the multiprocess directory if needed and delete old value files (parent start-up).

    Files left by a previous run would otherwise be summed in, and counters would start high.
    """
    path = multiprocess_dir()
    if path is None:
        return
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def child_exited(pid: int) -> None:
    """Mark process ``pid`` dead: its ``livesum``/``liveall`` gauge files are removed."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)


def process_registry() -> CollectorRegistry:
    """The registry holding this process group's counters: the multiprocess files summed when
    ``PROMETHEUS_MULTIPROC_DIR`` is set, else the default in-process registry."""
    path = multiprocess_dir()
    if path is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(path))
    return registry


def render_metrics(*, cluster: bool) -> bytes:
    """Prometheus text exposition (format 0.0.4) of the process metrics, plus the cluster
    metrics (queues, jobs, beat, budget) when ``cluster``."""
    body = generate_latest(process_registry())
    if cluster:
        body += generate_latest(CLUSTER_REGISTRY)
    return body


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def metrics_wsgi_app(*, cluster: bool = False) -> WSGIApp:
    """A WSGI app answering every GET with :func:`render_metrics`, under the rules of
    :mod:`core.metrics.auth` (401 with a Basic challenge, or 404 when switched off)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        access = metrics_access(environ.get("HTTP_AUTHORIZATION"))
        if access is MetricsAccess.DISABLED:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"metrics are off: set METRICS_TOKEN or METRICS_BASIC_AUTH\n"]
        if access is MetricsAccess.UNAUTHORIZED:
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Basic realm="metrics"')],
            )
            return [b"unauthorized\n"]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [render_metrics(cluster=cluster)]

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would flood the worker log."""


def metrics_server_start(*, port: int, addr: str = "0.0.0.0") -> ThreadingWSGIServer:  # noqa: S104 - pod/container network
    """Serve :func:`metrics_wsgi_app` on ``addr:port`` from a daemon thread; return the server.

    Raises:
        OSError: the port is taken.
    """
    server = make_server(
        addr, port, metrics_wsgi_app(cluster=False), ThreadingWSGIServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True).start()
    logger.info("metrics on http://%s:%s/metrics", addr, server.server_port)
    return server
