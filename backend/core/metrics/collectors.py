"""Cluster collectors: figures read from the broker, PostgreSQL and the shared Redis at scrape time.

Each reader returns its metric families; :class:`core.metrics.ClusterCollector` adds
``adspark_collector_up{collector}`` for it. Registered by ``core.apps.CoreConfig.ready``.

Metrics (gauges):

* ``adspark_queue_depth{queue}`` — messages waiting, summed over every Kombu list of the queue
  (priorities included, :func:`core.health.broker_queue_keys`).
* ``adspark_queue_consumers{queue}`` — worker nodes consuming the queue (``inspect active_queues``).
* ``adspark_queue_oldest_message_age_seconds{queue}`` — how long the oldest waiting message has
  waited (0 when the queue is empty).
* ``adspark_jobs{job, status}`` — job rows (``AdSpark.FetchRun``, ``AdSpark.WatchRun``,
  ``ai_agent.AdVariant``…) by status; ``adspark_jobs_stuck{job}`` — rows ``running`` whose
  lease expired (:func:`core.jobs.jobs_stuck`, the one definition of stuck).
* ``adspark_beat_last_heartbeat_timestamp_seconds`` (Unix time beat sent the last heartbeat
  tick) and ``adspark_beat_heartbeat_age_seconds`` (:mod:`core.heartbeat`); absent before the
  first heartbeat.
"""

from __future__ import annotations

import json
import time

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from backend.celery import QUEUES

from ..models import JobStatus
from . import SENT_AT_HEADER


def queue_metrics() -> list[GaugeMetricFamily]:
    """Depth, consumers and oldest message age of each of the four queues (the broker).

    Raises:
        ConnectionError, redis.RedisError: the broker is unreachable.
    """
    from ..health import queue_consumers_cached, queue_depths

    depths = queue_depths()
    if any(depth is None for depth in depths.values()):
        raise ConnectionError("broker unreachable")
    ages = queue_oldest_ages()
    consumers = queue_consumers_cached()
    depth = GaugeMetricFamily(
        "adspark_queue_depth", "Messages waiting in the queue (all priorities)", labels=["queue"]
    )
    workers = GaugeMetricFamily(
        "adspark_queue_consumers", "Worker nodes consuming the queue", labels=["queue"]
    )
    age = GaugeMetricFamily(
        "adspark_queue_oldest_message_age_seconds",
        "Seconds the oldest waiting message has waited",
        labels=["queue"],
    )
    for queue in QUEUES:
        depth.add_metric([queue], depths[queue] or 0)
        workers.add_metric([queue], len(consumers.get(queue, [])))
        age.add_metric([queue], round(ages.get(queue) or 0.0, 3))
    return [depth, workers, age]


def job_metrics() -> list[GaugeMetricFamily]:
    """Job rows by model and status, and stuck rows (PostgreSQL)."""
    from ..jobs import job_models, jobs_stuck

    rows = GaugeMetricFamily("adspark_jobs", "Job rows by status", labels=["job", "status"])
    stuck = GaugeMetricFamily(
        "adspark_jobs_stuck",
        "Rows running with an expired lease (the worker holding them stopped)",
        labels=["job"],
    )
    for model in job_models():
        label = model._meta.label
        counts = dict(model._default_manager.values_list("status").annotate(n=Count("pk")).order_by())
        for status in JobStatus.values:
            rows.add_metric([label, status], counts.get(status, 0))
        stuck.add_metric([label], jobs_stuck(model).count())
    return [rows, stuck]


def beat_metrics() -> list[GaugeMetricFamily]:
    """celery beat's last heartbeat (:mod:`core.heartbeat`, the shared Redis)."""
    from ..heartbeat import beat_heartbeat_read

    beat = beat_heartbeat_read()
    if beat is None:
        return []
    last = GaugeMetricFamily(
        "adspark_beat_last_heartbeat_timestamp_seconds", "Unix time beat sent the last heartbeat tick"
    )
    last.add_metric([], beat["sent_at"])
    age = GaugeMetricFamily(
        "adspark_beat_heartbeat_age_seconds", "Seconds since beat sent the last heartbeat tick"
    )
    age.add_metric([], round(max(0.0, time.time() - beat["sent_at"]), 3))
    return [last, age]


def queue_oldest_ages(*, now: float | None = None) -> dict[str, float | None]:
    """Return ``{queue: seconds the oldest waiting message has waited}`` (None: empty queue,
    or its oldest message carries no ``adspark_sent_at`` header).

    Kombu LPUSHes new messages and BRPOPs from the tail, so each list's oldest message is at
    index -1; a queue's age is the largest over :func:`core.health.broker_queue_keys`. Messages are JSON
    envelopes ``{"body", "headers": {..., "adspark_sent_at": Unix seconds}, "properties"}``.

    Raises:
        redis.RedisError, kombu's OperationalError: the broker is unreachable.
    """
    from ..health import broker_client, broker_queue_keys

    now = time.time() if now is None else now
    ages: dict[str, float | None] = {}
    with broker_client() as client:
        for queue in QUEUES:
            oldest: float | None = None
            for key in broker_queue_keys(queue):
                raw = client.lindex(key, -1)
                if raw is None:
                    continue
                try:
                    sent_at = float(json.loads(raw)["headers"][SENT_AT_HEADER])
                except (ValueError, KeyError, TypeError):
                    continue
                age = max(0.0, now - sent_at)
                oldest = age if oldest is None else max(oldest, age)
            ages[queue] = oldest
    return ages
