"""Celery tasks of ai_agent (queue ``ai_generation``; limits and retries in ``backend/celery.py``).

Tasks take ids and plain values, call one service, and decide about retries.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from core.tasks import JobTask

from . import services
from .providers.base import ProviderTransientError
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


@shared_task(
    bind=True,
    base=JobTask,
    name="ai_agent.tasks.generate_ad_variant_async",
    job_model="ai_agent.AdVariant",
    job_id_kwarg="variant_id",
    autoretry_for=(ProviderTransientError, ScreenshotError),
)
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
    with exponential backoff and jitter, honouring Retry-After (:class:`core.tasks.JobTask`;
    ``max_retries`` in backend/celery.py), then the variant fails; the soft time limit and
    unexpected errors fail it with the reason (``JobTask.on_failure``).

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
        self.progress({"variant_id": variant_id, "percent": percent, "stage": stage})

    variant = services.variant_generate(variant_id=variant_id, task_id=task_id, on_progress=on_progress)
    self.defer_while_leased(variant)
    return _summary(variant)
