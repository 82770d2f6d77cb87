"""Prometheus metrics for AdSpark (``prometheus-client``; ``django-prometheus`` for HTTP).

Two kinds of figures, kept in two registries:

* **Process metrics** — counters and histograms that a process increments as work happens:
  Celery task outcomes and runtimes (:mod:`core.metrics.celery`, from worker signals), SerpApi
  searches made (AdSpark.metrics), provider generations and failures (ai_agent.metrics), HTTP
  requests (django-prometheus). Under gunicorn and Celery's prefork pool each child process
  counts in its own files under ``PROMETHEUS_MULTIPROC_DIR`` and a scrape sums them
  (:func:`core.metrics.exposition.process_registry`).
* **Cluster metrics** — read from Redis and PostgreSQL at scrape time, the same whichever
  process answers: queue depths, consumers and oldest message age, job rows by status, stuck
  rows, beat's heartbeat, the SerpApi budget left. Collectors live in
  :mod:`core.metrics.collectors`; apps add theirs with :func:`register_cluster_collector`
  (in ``AppConfig.ready``), so ``core`` imports no app.

``/metrics`` on the web server (:func:`core.metrics.views.metrics_view`) serves both; each Celery
worker serves its own process metrics on ``CELERY_METRICS_PORT``. Access rules:
:mod:`core.metrics.auth`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# Header stamped on every published task message (core.metrics.celery): Unix seconds at publish.
SENT_AT_HEADER = "adspark_sent_at"

ClusterReader = Callable[[], Sequence[Metric]]


class ClusterCollector(Collector):
    """Runs every registered reader at scrape time and adds ``adspark_collector_up{collector}``
    (1 the reader's source answered, 0 it raised: its figures are left out, the rest still
    answer — a scrape never fails because Redis or the database is down)."""

    def __init__(self) -> None:
        self.readers: dict[str, ClusterReader] = {}

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "adspark_collector_up", "1 if the collector could read its source", labels=["collector"]
        )
        for name, read in self.readers.items():
            try:
                families = read()
            except Exception as exc:  # the source is down: report it, keep the scrape alive
                logger.warning("metrics collector %s failed: %s", name, exc)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


CLUSTER = ClusterCollector()
# Collectors evaluated at scrape time; never written to the multiprocess files.
CLUSTER_REGISTRY = CollectorRegistry(auto_describe=False)
CLUSTER_REGISTRY.register(CLUSTER)


def register_cluster_collector(name: str, read: ClusterReader) -> None:
    """Add (or replace) the reader ``name``: a function returning metric families, called at
    every scrape of ``/metrics``. Apps call it from ``AppConfig.ready``."""
    CLUSTER.readers[name] = read
