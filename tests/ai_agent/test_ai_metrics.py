"""Provider generations and failures by kind (ai_agent.metrics), counted where variants generate.

The service runs in process against the local Dify server; the counters are read from this
process's Prometheus registry (no multiprocess directory in the test process).
"""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from ai_agent import services
from ai_agent.providers.base import ProviderPermanentError, ProviderTransientError

pytestmark = pytest.mark.django_db


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_it_counts_successes_and_failures_by_the_providers_error_code(  # type: ignore[no-untyped-def]
    settings, alice, make_text_creative, dify, media_root, screenshots
) -> None:
    settings.DIFY_RESPONSE_MODE = "blocking"
    ok = counted("adspark_ai_generations_total", provider="dify", outcome="succeeded")
    permanent = counted("adspark_ai_generations_total", provider="dify", outcome="permanent_error")
    transient = counted("adspark_ai_generations_total", provider="dify", outcome="transient_error")
    quota = counted("adspark_ai_generation_failures_total", provider="dify", kind="provider_quota_exceeded")
    limited = counted("adspark_ai_generation_failures_total", provider="dify", kind="too_many_requests")

    def generate() -> None:
        variant, _ = services.variant_create(
            owner=alice, creative=make_text_creative(), prompt="Summer sale", provider="dify", enqueue=False
        )
        services.variant_generate(variant_id=variant.pk, task_id=None, screenshots=screenshots)

    # When one generation succeeds, one hits the quota and one is rate limited
    generate()
    dify.inject_fault("quota", endpoint="run")
    with pytest.raises(ProviderPermanentError):
        generate()
    dify.inject_fault("rate_limit", endpoint="run")
    with pytest.raises(ProviderTransientError):
        generate()

    # Then each outcome and each kind of failure is counted once
    assert counted("adspark_ai_generations_total", provider="dify", outcome="succeeded") == ok + 1
    assert (
        counted("adspark_ai_generations_total", provider="dify", outcome="permanent_error") == permanent + 1
    )
    assert (
        counted("adspark_ai_generations_total", provider="dify", outcome="transient_error") == transient + 1
    )
    assert (
        counted("adspark_ai_generation_failures_total", provider="dify", kind="provider_quota_exceeded")
        == quota + 1
    )
    assert (
        counted("adspark_ai_generation_failures_total", provider="dify", kind="too_many_requests")
        == limited + 1
    )
