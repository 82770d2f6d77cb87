"""Services run directly (no worker): Dify blocking mode, resuming a saved run, time limits."""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from ai_agent import services
from ai_agent.models import AdVariant
from ai_agent.providers.base import ProviderPermanentError, ProviderTransientError
from ai_agent.providers.dify import DifyProvider, classify_error
from ai_agent.screenshots import ScreenshotService
from ai_agent.tasks import generate_ad_variant_async

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocking(settings: object, dify: object, media_root: object) -> None:
    settings.DIFY_RESPONSE_MODE = "blocking"  # type: ignore[attr-defined]


def _variant(alice: object, creative: object, provider: str = "dify") -> AdVariant:
    variant, _ = services.variant_create(
        owner=alice, creative=creative, prompt="Summer sale", provider=provider, enqueue=False
    )
    return variant


def test_dify_blocking_mode_generates(
    alice, make_text_creative, dify, blocking, screenshots: ScreenshotService
) -> None:
    variant = _variant(alice, make_text_creative())
    done = services.variant_generate(variant_id=variant.pk, task_id="t-1", screenshots=screenshots)
    assert done.status == "succeeded", done.error
    assert done.provider_run_id and dify.run_count == 1


def test_a_saved_run_id_is_resumed_not_run_again(
    alice, make_text_creative, dify, blocking, screenshots
) -> None:
    # Given a variant whose first attempt started a Dify run and then died (run id saved)
    variant = _variant(alice, make_text_creative())
    dify.inject_fault("expired", endpoint="image")
    with pytest.raises(ProviderPermanentError):
        services.variant_generate(variant_id=variant.pk, task_id="t-1", screenshots=screenshots)
    run_id = AdVariant.objects.get(pk=variant.pk).provider_run_id
    assert run_id and dify.run_count == 1
    AdVariant.objects.filter(pk=variant.pk).update(status="running", error="")
    # When the task runs again
    done = services.variant_generate(variant_id=variant.pk, task_id="t-1", screenshots=screenshots)
    # Then it read the run's result instead of running the workflow again
    assert done.status == "succeeded", done.error
    assert dify.run_count == 1 and dify.count("detail") == 1 and dify.count("upload") == 1


def test_a_finished_variant_is_not_generated_again(
    alice, make_text_creative, dify, blocking, screenshots
) -> None:
    variant = _variant(alice, make_text_creative())
    services.variant_generate(variant_id=variant.pk, task_id="t-1", screenshots=screenshots)
    services.variant_generate(variant_id=variant.pk, task_id="t-1", screenshots=screenshots)
    assert dify.run_count == 1


def test_the_soft_time_limit_fails_the_variant_with_the_reason(
    alice, make_text_creative, monkeypatch: pytest.MonkeyPatch
) -> None:
    variant = _variant(alice, make_text_creative(), provider="template")

    def too_slow(**kwargs: object) -> None:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "variant_generate", too_slow)
    result = generate_ad_variant_async.apply(kwargs={"variant_id": variant.pk})
    assert isinstance(result.result, SoftTimeLimitExceeded)
    variant.refresh_from_db()
    assert variant.status == "failed" and "Time limit exceeded" in variant.error


def test_the_seed_call_without_a_variant_creates_one(alice, make_text_creative, monkeypatch) -> None:
    creative = make_text_creative()
    monkeypatch.setattr(services, "variant_generate", lambda **kw: AdVariant.objects.get(pk=kw["variant_id"]))
    result = generate_ad_variant_async.apply(
        kwargs={
            "variant_id": None,
            "original_ad_id": creative.ad_creative_id,
            "prompt": "Summer sale",
            "user_id": alice.pk,
        },
        task_id="seed-task-1",
    )
    variant = AdVariant.objects.get(celery_task_id="seed-task-1")
    assert result.result["variant_id"] == variant.pk and variant.owner == alice


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (429, "too_many_requests", True),
        (500, "internal_server_error", True),
        (503, "", True),
        (400, "provider_quota_exceeded", False),
        (400, "provider_not_initialize", False),
        (401, "unauthorized", False),
        (400, "invalid_param", False),
    ],
)
def test_dify_errors_are_classified(status: int, code: str, transient: bool) -> None:
    error = classify_error(status, code, "message")
    assert isinstance(error, ProviderTransientError if transient else ProviderPermanentError)


def test_a_missing_key_is_a_configuration_error() -> None:
    with pytest.raises(ProviderPermanentError, match="DIFY_API_KEY"):
        DifyProvider(api_key="").generate(None, None)  # type: ignore[arg-type]
