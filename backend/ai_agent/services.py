"""Writes for AI ad variants: create (with idempotency keys), generate, retry, rate.

Generation runs on the ``ai_generation`` queue (:mod:`ai_agent.tasks`). It is safe to run twice:
:func:`variant_generate` claims the row first (a finished variant is returned untouched), the
provider's run id is saved the moment the provider names it (a redelivered task resumes that
run rather than paying for a new one), and results are written with one conditional UPDATE.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from AdSpark.models import Creative, CreativeDetails
from core.jobs import job_claim, job_fail, job_succeed, publish_on_commit
from core.models import JobStatus
from core.text import text_clean
from core.urlsafety import UnsafeURLError

from .images import png_size, sniff_image_type
from .metrics import generation_count
from .models import AdVariant, Stage
from .providers import get_provider
from .providers.base import (
    GenerationHooks,
    GenerationRequest,
    GenerationResult,
    ProviderError,
    ProviderPermanentError,
    ProviderTransientError,
    Render,
    download_image,
)

logger = logging.getLogger(__name__)

PROMPT_MIN_LENGTH = 3
# Line breaks and tabs are fine in a prompt; other control characters and the bidirectional
# overrides (which can hide text from a reviewer) are not.


class VariantError(Exception):
    """A request about a variant cannot be done; ``field`` names the input at fault."""

    def __init__(self, message: str, *, field: str = "non_field_errors"):
        super().__init__(message)
        self.field = field


class IdempotencyConflict(VariantError):
    """The Idempotency-Key was used before for a different creative or prompt."""


class VariantStateError(VariantError):
    """The variant is not in a status that allows this (retry a running variant, rate a failed one)."""


def prompt_clean(prompt: str) -> str:
    """Return the prompt cleaned; raise ``ValueError`` with a readable reason if it is unusable.

    Rules: :func:`core.text.text_clean` (NFC; no control characters other than line breaks
    and tabs; no bidirectional controls; invisible-only is empty), then
    ``PROMPT_MIN_LENGTH`` to ``AI_PROMPT_MAX_LENGTH`` characters.
    """
    cleaned = text_clean(prompt if prompt is not None else "", multiline=True)
    if not cleaned:
        raise ValueError("The prompt is empty.")
    if len(cleaned) < PROMPT_MIN_LENGTH:
        raise ValueError(f"The prompt must be at least {PROMPT_MIN_LENGTH} characters.")
    if len(cleaned) > settings.AI_PROMPT_MAX_LENGTH:
        raise ValueError(
            f"The prompt must be at most {settings.AI_PROMPT_MAX_LENGTH} characters (it has {len(cleaned)})."
        )
    return cleaned


def creative_snapshot(creative: Creative) -> dict[str, Any]:
    """Copy what a variant needs of ``creative`` (shape: see :class:`AdVariant`)."""
    try:
        details: CreativeDetails | None = creative.details
    except CreativeDetails.DoesNotExist:
        details = None
    return {
        "ad_creative_id": creative.ad_creative_id,
        "advertiser_id": creative.advertiser_id,
        "advertiser_name": creative.advertiser.name if creative.advertiser_id else "",
        "format": creative.format,
        "image_url": creative.image_url,
        "preview_url": creative.preview_url,
        "width": creative.width,
        "height": creative.height,
        "target_domain": creative.target_domain,
        "details": None
        if details is None
        else {
            "title": details.title,
            "headline": details.headline,
            "snippet": details.snippet,
            "visible_link": details.visible_link,
            "call_to_action": details.call_to_action,
        },
    }


def _enqueue(variant: AdVariant) -> None:
    from backend.celery import app

    kwargs = {
        "variant_id": variant.pk,
        "original_ad_id": variant.ad_creative_id,
        "prompt": variant.prompt,
        "user_id": variant.owner_id,
    }
    task_id = variant.celery_task_id
    publish_on_commit(
        # by name (a signature), not by importing the tasks module: tasks import services
        lambda: app.signature(AdVariant.TASK_NAME, kwargs=kwargs).apply_async(task_id=task_id),
        what=f"variant {task_id}",
    )


def variant_create(
    *,
    owner: Any,
    creative: Creative,
    prompt: str,
    provider: str | None = None,
    idempotency_key: str | None = None,
    enqueue: bool = True,
) -> tuple[AdVariant, bool]:
    """Create a pending variant of ``creative`` and enqueue its generation after commit.

    With an ``idempotency_key`` (unique per owner) a repeated call returns the first variant
    and ``created`` False. Returns ``(variant, created)``.

    Raises:
        ValueError: the prompt is unusable (see :func:`prompt_clean`).
        IdempotencyConflict: the key was used for another creative or prompt.
    """
    prompt = prompt_clean(prompt)
    provider = provider or settings.AI_PROVIDER
    if idempotency_key:
        existing = AdVariant.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_request(existing, creative=creative, prompt=prompt, provider=provider), False
    task_id = str(uuid.uuid4())
    try:
        with transaction.atomic():
            variant = AdVariant.objects.create(
                owner=owner,
                source_creative=creative,
                ad_creative_id=creative.ad_creative_id,
                creative_snapshot=creative_snapshot(creative),
                prompt=prompt,
                provider=provider,
                idempotency_key=idempotency_key or None,
                celery_task_id=task_id,
                progress_total=100,
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        # Two requests with one key raced; the other one created the row.
        existing = AdVariant.objects.get(owner=owner, idempotency_key=idempotency_key)
        return _same_request(existing, creative=creative, prompt=prompt, provider=provider), False
    if enqueue:
        _enqueue(variant)
    return variant, True


def _same_request(existing: AdVariant, *, creative: Creative, prompt: str, provider: str) -> AdVariant:
    if (existing.ad_creative_id, existing.prompt, existing.provider) != (
        creative.ad_creative_id,
        prompt,
        provider,
    ):
        raise IdempotencyConflict(
            "This Idempotency-Key was already used for a different request (creative, prompt or provider).",
            field="idempotency_key",
        )
    return existing


def variant_for_task(*, task_id: str, original_ad_id: str, prompt: str, user_id: int) -> AdVariant:
    """The seed's call without a variant row: find (by task id) or create the variant.

    Raises:
        Creative.DoesNotExist, User.DoesNotExist: unknown ids. ValueError: unusable prompt.
    """
    existing = AdVariant.objects.filter(celery_task_id=task_id).first()
    if existing is not None:
        return existing
    creative = Creative.objects.select_related("advertiser").get(pk=original_ad_id)
    owner = get_user_model().objects.get(pk=user_id)
    variant, _ = variant_create(owner=owner, creative=creative, prompt=prompt, enqueue=False)
    AdVariant.objects.filter(pk=variant.pk).update(celery_task_id=task_id)
    variant.celery_task_id = task_id
    return variant


@dataclass
class _RowHooks:
    """Provider hooks that write progress, run ids and checkpoints to the variant row."""

    variant_id: int
    on_progress: Any = None

    def _update(self, **fields: Any) -> None:
        AdVariant.objects.filter(pk=self.variant_id, status=JobStatus.RUNNING).update(
            updated_at=timezone.now(), **fields
        )

    def progress(self, percent: int, stage: str) -> None:
        self._update(progress_done=percent, progress_total=100, stage=stage)
        if self.on_progress is not None:
            self.on_progress(percent, stage)

    def run_started(self, run_id: str, meta: dict[str, Any]) -> None:
        variant = AdVariant.objects.only("provider_meta").get(pk=self.variant_id)
        self._update(provider_run_id=run_id[:128], provider_meta={**variant.provider_meta, **meta})

    def checkpoint(self, meta: dict[str, Any]) -> None:
        variant = AdVariant.objects.only("provider_meta").get(pk=self.variant_id)
        self._update(provider_meta={**variant.provider_meta, **meta})

    def as_hooks(self) -> GenerationHooks:
        return GenerationHooks(
            run_started=self.run_started, checkpoint=self.checkpoint, progress=self.progress
        )


def _creative_png(snapshot: dict[str, Any], screenshots: Any) -> tuple[bytes, dict[str, Any]]:
    """Draw the creative for a provider; fall back to its text card when the image or preview
    cannot be drawn (unsafe URL refused, unreachable, blank), noting why in the metadata."""
    from .screenshots import ScreenshotError, TextAd

    try:
        shot = screenshots.shot_creative(snapshot)
        return shot.png, {"screenshot_kind": shot.kind}
    except (UnsafeURLError, ScreenshotError) as exc:
        logger.info("creative %s: drawing its text card instead: %s", snapshot.get("ad_creative_id"), exc)
        shot = screenshots.shot_text_ad(TextAd.from_snapshot(snapshot))
        return shot.png, {"screenshot_kind": "text", "screenshot_fallback": str(exc)[:500]}


def _to_png(data: bytes, content_type: str, screenshots: Any) -> Render:
    """Make stored images PNG: other formats (JPEG, WebP, GIF) are redrawn by the browser.

    Raises:
        ProviderPermanentError: not an image.
    """
    kind = sniff_image_type(data)
    if kind == "png":
        width, height = png_size(data)
        return Render(label="image", png=data, width=width, height=height)
    if not kind:
        raise ProviderPermanentError(
            f"The provider's image is not an image (Content-Type {content_type or 'none'}).",
            code="not_an_image",
        )
    shot = screenshots.shot_image_bytes(data, f"image/{kind}")
    return Render(label="image", png=shot.png, width=shot.width, height=shot.height)


def _store(variant: AdVariant, renders: list[Render]) -> list[dict[str, Any]]:
    """Write ``renders`` under MEDIA_ROOT/ai_variants/<owner>/<variant>/; return their records."""
    stored = []
    for render in renders:
        name = f"ai_variants/{variant.owner_id}/{variant.pk}/{render.label}.png"
        if default_storage.exists(name):
            default_storage.delete(name)  # a retried task rewrites its own files
        path = default_storage.save(name, ContentFile(render.png))
        stored.append(
            {
                "size": render.label,
                "path": path,
                "width": render.width,
                "height": render.height,
                "bytes": len(render.png),
            }
        )
    return stored


def variant_generate(
    *,
    variant_id: int,
    task_id: str | None = None,
    screenshots: Any = None,
    on_progress: Any = None,
) -> AdVariant:
    """Generate variant ``variant_id`` with its provider and store the result.

    Returns the variant (untouched if it had already finished).

    Raises:
        ProviderTransientError: the variant stays ``running`` (with any run id saved); retry.
        ProviderPermanentError: the variant is marked ``failed`` first.
    """
    from .screenshots import ScreenshotError

    lease = job_claim(AdVariant, pk=variant_id, task_id=task_id)
    if lease is None:
        return AdVariant.objects.get(pk=variant_id)
    # The lease is renewed while the provider works (a generation takes up to the soft limit,
    # far longer than one lease) and given up for the countdown when a retry follows.
    with lease.heartbeat():
        try:
            return _variant_generate(variant_id=variant_id, screenshots=screenshots, on_progress=on_progress)
        except (ProviderTransientError, ScreenshotError) as exc:
            retry_after = float(getattr(exc, "retry_after", None) or 0.0)
            lease.release(wait_seconds=max(float(settings.RETRY_BACKOFF_CAP), retry_after))
            raise


def _variant_generate(*, variant_id: int, screenshots: Any, on_progress: Any) -> AdVariant:
    variant = AdVariant.objects.get(pk=variant_id)
    hooks = _RowHooks(variant_id=variant.pk, on_progress=on_progress)
    started = time.monotonic()
    if screenshots is None:
        from .screenshots import get_screenshot_service

        screenshots = get_screenshot_service()
    try:
        provider = get_provider(variant.provider, screenshots=screenshots)
        screenshot = None
        if provider.needs_screenshot and not variant.provider_run_id:
            hooks.progress(10, Stage.SCREENSHOT)
            screenshot, shot_meta = _creative_png(variant.creative_snapshot, screenshots)
            hooks.checkpoint(shot_meta)
            variant.provider_meta = {**variant.provider_meta, **shot_meta}
        request = GenerationRequest(
            variant_id=variant.pk,
            prompt=variant.prompt,
            snapshot=variant.creative_snapshot,
            user_ref=f"adspark-user-{variant.owner_id}",
            screenshot=screenshot,
            resume_run_id=variant.provider_run_id,
            checkpoint=variant.provider_meta,
        )
        try:
            result = provider.generate(request, hooks.as_hooks())
        except ProviderError as exc:
            generation_count(provider=variant.provider, error=exc)
            raise
        generation_count(provider=variant.provider)
        hooks.progress(90, Stage.DOWNLOADING)
        renders = _result_renders(result, screenshots)
    except ProviderPermanentError as exc:
        job_fail(AdVariant, pk=variant.pk, error=str(exc), stage=Stage.DONE)
        raise
    stored = _store(variant, renders)
    main = stored[0]
    meta = {**AdVariant.objects.get(pk=variant.pk).provider_meta, **result.meta}
    job_succeed(
        AdVariant,
        pk=variant.pk,
        headline=result.headline[:2000],
        text=result.text[:5000],
        image=main["path"],
        image_width=main["width"],
        image_height=main["height"],
        image_bytes=main["bytes"],
        renders=stored,
        provider_run_id=(result.run_id or variant.provider_run_id)[:128],
        tokens=result.tokens,
        provider_elapsed_seconds=result.elapsed_seconds
        if result.elapsed_seconds is not None
        else round(time.monotonic() - started, 3),
        provider_meta=meta,
        stage=Stage.DONE,
        progress_done=100,
        progress_total=100,
    )
    variant.refresh_from_db()
    logger.info("variant %s succeeded (%s, %s)", variant.pk, variant.provider, main["path"])
    return variant


def _result_renders(result: GenerationResult, screenshots: Any) -> list[Render]:
    renders = list(result.renders)
    fixed: list[Render] = []
    for render in renders:
        if render.width and render.height:
            fixed.append(render)
        else:
            fixed.append(_to_png(render.png, "", screenshots))
    if result.image_url and not fixed:
        data, content_type = download_image(result.image_url, timeout=60)
        fixed.append(_to_png(data, content_type, screenshots))
    if not fixed:
        raise ProviderPermanentError("The provider returned no image.", code="no_image")
    return fixed


def variant_fail(*, variant_id: int, error: str) -> bool:
    """Mark variant ``variant_id`` failed with ``error``; False if it had already finished."""
    return job_fail(AdVariant, pk=variant_id, error=error, stage=Stage.DONE)


def variant_note_retry(*, variant_id: int, error: str, countdown: float) -> None:
    """Record that a transient error will be retried in ``countdown`` seconds."""
    AdVariant.objects.filter(pk=variant_id).update(
        retries=F("retries") + 1,
        error=f"Retrying in {countdown:.0f} s after: {error}"[:4000],
        updated_at=timezone.now(),
    )


def variant_retry(*, variant: AdVariant, enqueue: bool = True) -> AdVariant:
    """Start a failed variant again (new task id, outputs and run id cleared).

    Raises:
        VariantStateError: the variant is not ``failed``.
    """
    task_id = str(uuid.uuid4())
    updated = AdVariant.objects.filter(pk=variant.pk, status=JobStatus.FAILED).update(
        status=JobStatus.PENDING,
        stage=Stage.QUEUED,
        celery_task_id=task_id,
        error="",
        progress_done=0,
        progress_total=100,
        provider_run_id="",
        provider_meta={},
        started_at=None,
        finished_at=None,
        updated_at=timezone.now(),
    )
    if updated != 1:
        raise VariantStateError(
            f"Only failed variants can be retried; this one is {variant.status}.", field="status"
        )
    variant.refresh_from_db()
    if enqueue:
        _enqueue(variant)
    return variant


def variant_rate(*, variant: AdVariant, rating: int, comment: str = "") -> AdVariant:
    """Store the owner's rating (1-5) and optional comment of a succeeded variant.

    Raises:
        VariantStateError: the variant has not succeeded. ValueError: rating out of range.
    """
    if not 1 <= rating <= 5:
        raise ValueError("The rating must be between 1 and 5.")
    updated = AdVariant.objects.filter(pk=variant.pk, status=JobStatus.SUCCEEDED).update(
        rating=rating, rating_comment=comment.strip(), rated_at=timezone.now(), updated_at=timezone.now()
    )
    if updated != 1:
        raise VariantStateError(
            f"Only succeeded variants can be rated; this one is {variant.status}.", field="status"
        )
    variant.refresh_from_db()
    return variant
