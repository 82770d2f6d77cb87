"""gunicorn settings read by ``gunicorn backend.wsgi:application`` run from ``backend/``.

Only what Prometheus multiprocess mode needs (core.metrics.exposition): an empty
``PROMETHEUS_MULTIPROC_DIR`` when the master starts, and each exiting worker marked dead so its
live gauges stop counting. Binding, workers and timeouts stay on the command line.
"""

from __future__ import annotations

from typing import Any


def on_starting(server: Any) -> None:
    from core.metrics.exposition import multiprocess_dir_reset

    multiprocess_dir_reset()


def child_exit(server: Any, worker: Any) -> None:
    from core.metrics.exposition import child_exited

    child_exited(worker.pid)
