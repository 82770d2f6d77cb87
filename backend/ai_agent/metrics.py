"""Generation-provider figures for Prometheus (core.metrics), counted in the ai_generation pool.

* ``adspark_ai_generations_total{provider, outcome}`` — provider calls by outcome
  (``succeeded``, ``transient_error`` — retried later, ``permanent_error`` — the variant failed);
* ``adspark_ai_generation_failures_total{provider, kind}`` — failed calls by kind: the
  provider's error code (``too_many_requests``, ``provider_quota_exceeded``,
  ``insufficient_quota``…) or ours (``timeout``, ``malformed_response``, ``run_failed``,
  ``not_configured``), else the error class (ai_agent.providers.base.ProviderError).
"""

from __future__ import annotations

from prometheus_client import Counter

from .providers.base import ProviderError

AI_GENERATIONS = Counter(
    "adspark_ai_generations", "AI variant provider calls, by provider and outcome", ["provider", "outcome"]
)
AI_GENERATION_FAILURES = Counter(
    "adspark_ai_generation_failures",
    "Failed AI variant provider calls, by provider and kind",
    ["provider", "kind"],
)


def generation_count(*, provider: str, error: BaseException | None = None) -> None:
    """Count one provider call of ``provider`` that succeeded (``error`` None) or failed."""
    if error is None:
        AI_GENERATIONS.labels(provider, "succeeded").inc()
        return
    transient = bool(getattr(error, "transient", False))
    AI_GENERATIONS.labels(provider, "transient_error" if transient else "permanent_error").inc()
    kind = (error.code if isinstance(error, ProviderError) else "") or type(error).__name__
    AI_GENERATION_FAILURES.labels(provider, kind).inc()
