"""Celery tasks of ai_agent (queue ``ai_generation``; limits and retries in ``backend/celery.py``).

Tasks take ids and plain values, call one service, and decide about retries.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from AdSpark.tasks import backoff_seconds

from . import services
from .providers.base import ProviderPermanentError, ProviderTransientError
from .screenshots import ScreenshotError

logger = logging.getLogger(__name__)


def _summary(variant: Any) -> dict[str, Any]:
    return {
        "variant_id": variant.pk,
        "status": variant.status,
        "provider": variant.provider,
        "image": variant.image.name if variant.image else "",
        "provider_run_id": variant.provider_run_id,
        "error": variant.error,
    }


@shared_task(bind=True, name="ai_agent.tasks.generate_ad_variant_async")
def generate_ad_variant_async(
    self: Any,
    variant_id: int | None = None,
    original_ad_id: str | None = None,
    prompt: str | None = None,
    user_id: int | None = None,
) -> dict[str, Any]:
    """Generate AI ad variant ``variant_id`` (queue ``ai_generation``).

    The seed's signature: ``generate_ad_variant_async.delay(variant_id=1, original_ad_id="CR…",
    prompt="…", user_id=1)``. The variant row is the source of truth; ``original_ad_id``,
    ``prompt`` and ``user_id`` are only used to create the row when ``variant_id`` is None.
    Progress is reported as Celery state ``PROGRESS`` with ``{"variant_id", "percent", "stage"}``.

    Returns a summary dict. A redelivered or repeated message for a finished variant returns
    its summary without generating again. Transient provider and browser errors are retried
    with exponential backoff and jitter (``max_retries`` in backend/celery.py), then the variant
    fails; the soft time limit fails it with the reason.

    Raises:
        ProviderPermanentError: the variant was marked failed (no retry).
    """
    task_id = self.request.id
    if variant_id is None:
        variant_id = services.variant_for_task(
            task_id=task_id,
            original_ad_id=original_ad_id or "",
            prompt=prompt or "",
            user_id=int(user_id or 0),
        ).pk

    def on_progress(percent: int, stage: str) -> None:
        self.update_state(
            state="PROGRESS", meta={"variant_id": variant_id, "percent": percent, "stage": stage}
        )

    try:
        variant = services.variant_generate(variant_id=variant_id, task_id=task_id, on_progress=on_progress)
    except (ProviderTransientError, ScreenshotError) as exc:
        if self.request.retries >= self.max_retries:
            services.variant_fail(
                variant_id=variant_id, error=f"Gave up after {self.request.retries + 1} attempts: {exc}"
            )
            raise
        retry_after = getattr(exc, "retry_after", None)
        countdown = backoff_seconds(self.request.retries, retry_after=retry_after)
        services.variant_note_retry(variant_id=variant_id, error=str(exc), countdown=countdown)
        logger.info("variant %s: %s; retrying in %.1f s", variant_id, exc, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc
    except SoftTimeLimitExceeded:
        services.variant_fail(
            variant_id=variant_id,
            error=f"Time limit exceeded: generation was stopped after {self.soft_time_limit or 'the soft limit'} s.",
        )
        raise
    except ProviderPermanentError:
        raise
    except Exception as exc:
        # A bug or an unexpected failure must not leave the variant stuck in ``running``.
        services.variant_fail(variant_id=variant_id, error=f"Unexpected error: {type(exc).__name__}: {exc}")
        raise
    return _summary(variant)
