"""SerpApi figures for Prometheus (core.metrics).

* ``adspark_serpapi_searches_total{engine, outcome}`` — requests sent to SerpApi by this
  process group (outcome ``ok``, ``transient_error``, ``permanent_error``); a search that
  answers is a search SerpApi bills.
* ``adspark_serpapi_budget_limit`` / ``adspark_serpapi_budget_used`` /
  ``adspark_serpapi_budget_remaining`` — the cluster-wide hourly cap
  (``SERPAPI_RATE_LIMIT_PER_HOUR``) and the requests in the current rolling hour, read from the
  Redis sliding window every worker shares (AdSpark.ratelimit).
"""

from __future__ import annotations

from django.conf import settings
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

SERPAPI_SEARCHES = Counter(
    "adspark_serpapi_searches", "Requests sent to SerpApi, by engine and outcome", ["engine", "outcome"]
)


def serpapi_budget_metrics() -> list[GaugeMetricFamily]:
    """The cluster-wide SerpApi budget of the rolling hour (Redis sorted set of request times).

    Raises:
        redis.RedisError: the shared Redis is unreachable.
    """
    from .ratelimit import SlidingWindowLimiter

    limit = settings.SERPAPI_RATE_LIMIT_PER_HOUR
    used = SlidingWindowLimiter("serpapi", limit=limit).used()
    families = []
    for name, doc, value in (
        ("adspark_serpapi_budget_limit", "SerpApi requests allowed per rolling hour, cluster-wide", limit),
        (
            "adspark_serpapi_budget_used",
            "SerpApi requests made in the current rolling hour, cluster-wide",
            used,
        ),
        (
            "adspark_serpapi_budget_remaining",
            "SerpApi requests left in the current rolling hour",
            max(0, limit - used),
        ),
    ):
        family = GaugeMetricFamily(name, doc)
        family.add_metric([], value)
        families.append(family)
    return families
