"""The creative archive: our own copy of every creative's look (issue 13).

SerpApi's ``image`` URLs and preview scripts (``link``) expire, so each creative is captured
once into the default storage (:class:`AdSpark.models.CreativeArchive`):

* image creatives (``image_url``): the image is downloaded through
  :func:`core.urlsafety.pinned_request` (the SSRF rules of every outbound fetch: checked
  address, no automatic redirects, each ``Location`` checked again, at most
  ``ARCHIVE_MAX_BYTES`` bytes, ``ARCHIVE_TIMEOUT`` seconds) and decoded by Pillow;
* preview creatives (``preview_url``, SerpApi's JavaScript preview): rendered by the worker
  process's one browser in the same host page as the screenshots of AI variants
  (:meth:`ai_agent.screenshots.ScreenshotService.shot_preview`);
* neither: ``skipped``.

From the decoded image: a full-size PNG, a WebP thumbnail at most ``THUMBNAIL_WIDTH`` px
wide, and the perceptual hash (``imagehash.phash``, 64 bits as 16 hex digits).

Exactly-once in spirit: a capture claims the row by a conditional update (``pending`` ->
``running``) and finishes it by another (``running`` -> ``archived``/``failed``); a repeated
or redelivered message finds the row no longer ``pending`` and does nothing. Transient
errors (timeouts, connection errors, HTTP 5xx/429/408, a browser hiccup) give the row back
(``running`` -> ``pending``) and raise :class:`ArchiveTransientError` for the task to retry;
permanent ones (refused URL, 4xx, not an image, too large) fail it with the reason.

Enqueueing: :func:`archive_enqueue` creates ``pending`` rows and publishes one
``AdSpark.tasks.archive_creative_task`` per row after commit. Ingestion calls it for creatives
a fetch run stored for the first time, up to ``ARCHIVE_PER_RUN_CAP`` per run;
:func:`archive_backlog` (beat, every 10 minutes) queues never-archived creatives and requeues
captures whose message was lost or whose worker died.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from core.jobs import publish_on_commit
from core.urlsafety import ResponseTooLarge, UnsafeURLError, pinned_request

from .models import ArchiveStatus, Creative, CreativeArchive

logger = logging.getLogger(__name__)

TASK_NAME = "AdSpark.tasks.archive_creative_task"
# The thumbnail's largest width (pixels); the API contract says 400.
THUMBNAIL_WIDTH = 400
# Redirects followed by an image download (each Location is checked like a new URL).
MAX_REDIRECTS = 3
# Image types Pillow may decode here (anything else is refused, not guessed).
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
# A running capture older than this (seconds) lost its worker: the backlog gives it back.
# Longer than the task's hard time limit (backend/celery.py), so a live capture is never taken.
STALE_RUNNING_SECONDS = 300


class ArchiveError(Exception):
    """A capture failed; ``str(error)`` says why in words an operator can act on."""


class ArchiveTransientError(ArchiveError):
    """Worth retrying: a timeout, a connection error, HTTP 5xx/429/408, a browser hiccup."""


class ArchivePermanentError(ArchiveError):
    """Retrying cannot help: the URL is refused, HTTP 4xx, not an image, too large."""


@dataclass(frozen=True)
class Capture:
    """A decoded capture: the full ``png``, the WebP ``thumbnail``, the ``visual_hash`` (hex),
    the size in pixels and what was captured (``source``: ``image`` or ``preview``)."""

    png: bytes
    thumbnail: bytes
    visual_hash: str
    width: int
    height: int
    source: str


# --- enqueueing -------------------------------------------------------------------------------


def archive_enqueue(creative_ids: Iterable[str]) -> list[str]:
    """Create ``pending`` archive rows for ``creative_ids`` that have none and publish one
    capture task per new row after the current transaction commits.

    Creatives that already have a row (any status) are left alone. Nothing happens when
    ``ARCHIVE_ENABLED`` is off. Returns the ids queued (in the order given).
    """
    ids = list(dict.fromkeys(creative_ids))
    if not settings.ARCHIVE_ENABLED or not ids:
        return []
    now = timezone.now()
    existing = set(CreativeArchive.objects.filter(creative_id__in=ids).values_list("creative_id", flat=True))
    new = [creative_id for creative_id in ids if creative_id not in existing]
    if not new:
        return []
    # ignore_conflicts: a concurrent enqueue of the same id wins; its duplicate task finds the
    # row claimed (or done) and does nothing.
    CreativeArchive.objects.bulk_create(
        [
            CreativeArchive(creative_id=creative_id, status=ArchiveStatus.PENDING, queued_at=now)
            for creative_id in new
        ],
        ignore_conflicts=True,
    )
    _publish(new)
    return new


def _publish(creative_ids: list[str]) -> None:
    from backend.celery import app

    def send() -> None:
        for creative_id in creative_ids:
            app.signature(TASK_NAME, kwargs={"creative_id": creative_id}).apply_async()

    publish_on_commit(send, what=f"archive capture of {len(creative_ids)} creatives")


def archive_backlog(*, limit: int | None = None) -> dict[str, int]:
    """Queue the backlog: creatives never archived (no row; newest ``last_shown`` first, up to
    ``limit``, default ``ARCHIVE_BACKLOG_BATCH``), ``pending`` rows whose message has waited
    ``ARCHIVE_REQUEUE_SECONDS`` (lost), and ``running`` rows older than the task's time limit
    (their worker died), which go back to ``pending``.

    Returns ``{"queued": n, "requeued": m}``. Nothing when ``ARCHIVE_ENABLED`` is off.
    """
    if not settings.ARCHIVE_ENABLED:
        return {"queued": 0, "requeued": 0}
    limit = settings.ARCHIVE_BACKLOG_BATCH if limit is None else limit
    now = timezone.now()
    with transaction.atomic():
        stale_running = Q(
            status=ArchiveStatus.RUNNING, started_at__lt=now - dt.timedelta(seconds=STALE_RUNNING_SECONDS)
        )
        lost_pending = Q(
            status=ArchiveStatus.PENDING,
            queued_at__lt=now - dt.timedelta(seconds=settings.ARCHIVE_REQUEUE_SECONDS),
        )
        requeue = list(
            CreativeArchive.objects.filter(stale_running | lost_pending)
            .order_by("queued_at")
            .values_list("creative_id", flat=True)[: max(limit, 0)]
        )
        if requeue:
            CreativeArchive.objects.filter(
                Q(creative_id__in=requeue) & (stale_running | lost_pending)
            ).update(status=ArchiveStatus.PENDING, queued_at=now)
            _publish(requeue)
        never = list(
            Creative.objects.filter(archive__isnull=True)
            .order_by(F("last_shown").desc(nulls_last=True), "ad_creative_id")
            .values_list("ad_creative_id", flat=True)[: max(limit, 0)]
        )
        queued = archive_enqueue(never)
    return {"queued": len(queued), "requeued": len(requeue)}


# --- capture ----------------------------------------------------------------------------------


def archive_capture(*, creative_id: str) -> CreativeArchive | None:
    """Capture creative ``creative_id`` if its archive row is ``pending`` (claimed here).

    Returns the row as it ends (``archived``, ``skipped``, or unchanged when it was not
    pending: a repeated message), or None when the creative no longer exists.

    Raises:
        ArchiveTransientError: the row is ``pending`` again; retry later (the caller decides
            when the retries are spent and calls :func:`archive_fail`).
        ArchivePermanentError: the row was marked ``failed`` with the reason.
    """
    creative = Creative.objects.filter(pk=creative_id).first()
    if creative is None:
        return None
    now = timezone.now()
    CreativeArchive.objects.get_or_create(
        creative=creative, defaults={"status": ArchiveStatus.PENDING, "queued_at": now}
    )
    claimed = CreativeArchive.objects.filter(pk=creative_id, status=ArchiveStatus.PENDING).update(
        status=ArchiveStatus.RUNNING, attempts=F("attempts") + 1, started_at=now
    )
    row = CreativeArchive.objects.get(pk=creative_id)
    if not claimed:
        logger.info("archive of %s is %s; nothing to do", creative_id, row.status)
        return row
    try:
        capture = capture_creative(creative)
        if capture is None:
            _finish(
                creative_id,
                status=ArchiveStatus.SKIPPED,
                error="The creative has no image or preview to capture.",
            )
            return CreativeArchive.objects.get(pk=creative_id)
        return _store(row, capture)
    except ArchiveTransientError as exc:
        _finish(creative_id, status=ArchiveStatus.PENDING, error=str(exc), queued_at=timezone.now())
        raise
    except ArchivePermanentError as exc:
        archive_fail(creative_id=creative_id, error=str(exc))
        raise
    except SoftTimeLimitExceeded:
        archive_fail(creative_id=creative_id, error="The capture took longer than its time limit.")
        raise
    except Exception as exc:  # storage or database trouble: visible on the row, not stuck running
        archive_fail(creative_id=creative_id, error=f"Unexpected error: {type(exc).__name__}: {exc}")
        raise


def archive_fail(*, creative_id: str, error: str) -> bool:
    """Mark a ``running`` (or ``pending``) capture ``failed`` with ``error``; False if it was
    neither (already finished elsewhere)."""
    return _finish(creative_id, status=ArchiveStatus.FAILED, error=error[:2000], allow_pending=True)


def _finish(
    creative_id: str, *, status: str, error: str = "", allow_pending: bool = False, **fields: Any
) -> bool:
    states = [ArchiveStatus.RUNNING, ArchiveStatus.PENDING] if allow_pending else [ArchiveStatus.RUNNING]
    return bool(
        CreativeArchive.objects.filter(pk=creative_id, status__in=states).update(
            status=status, error=error, **fields
        )
    )


def _store(row: CreativeArchive, capture: Capture) -> CreativeArchive:
    """Write the files and mark the row ``archived`` (only if it is still ours: ``running``)."""
    creative_id = row.creative_id
    old = [f.name for f in (row.image, row.thumbnail) if f]
    row.image.save(f"{creative_id}.png", ContentFile(capture.png), save=False)
    row.thumbnail.save(f"{creative_id}.webp", ContentFile(capture.thumbnail), save=False)
    done = _finish(
        creative_id,
        status=ArchiveStatus.ARCHIVED,
        image=row.image.name,
        thumbnail=row.thumbnail.name,
        visual_hash=capture.visual_hash,
        width=capture.width,
        height=capture.height,
        source=capture.source,
        archived_at=timezone.now(),
    )
    storage = row.image.storage
    if not done:  # taken away meanwhile (the backlog judged it stale): keep no orphan files
        for name in (row.image.name, row.thumbnail.name):
            if name:
                storage.delete(name)
    else:
        for name in old:
            if name and name not in (row.image.name, row.thumbnail.name):
                storage.delete(name)
    return CreativeArchive.objects.get(pk=creative_id)


def capture_creative(creative: Creative) -> Capture | None:
    """Capture ``creative``: its image, else its preview; None when it has neither.

    Raises:
        ArchiveTransientError, ArchivePermanentError: see the module docstring.
    """
    if creative.image_url:
        return image_capture(download_image(creative.image_url), source="image")
    if creative.preview_url:
        return image_capture(render_preview(creative.preview_url), source="preview")
    return None


def download_image(url: str) -> bytes:
    """The body of ``url`` (an image), fetched under the SSRF rules (module docstring).

    Raises:
        ArchivePermanentError: the URL (or a redirect's) is refused, HTTP 4xx, too many
            redirects, or larger than ``ARCHIVE_MAX_BYTES``.
        ArchiveTransientError: timeout, connection error, HTTP 5xx/429/408.
    """
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = pinned_request(
                "GET",
                url,
                headers={
                    "Accept": "image/webp,image/png,image/jpeg,image/gif;q=0.9,*/*;q=0.5",
                    "User-Agent": "AdSpark archive",
                },
                timeout=settings.ARCHIVE_TIMEOUT,
                max_bytes=settings.ARCHIVE_MAX_BYTES,
            )
        except UnsafeURLError as exc:
            raise ArchivePermanentError(f"The image URL was refused: {exc}") from exc
        except ResponseTooLarge as exc:
            raise ArchivePermanentError(
                f"The image is larger than {settings.ARCHIVE_MAX_BYTES} bytes."
            ) from exc
        except httpx.TimeoutException as exc:
            raise ArchiveTransientError(
                f"The image download timed out after {settings.ARCHIVE_TIMEOUT:.0f} s."
            ) from exc
        except httpx.HTTPError as exc:
            raise ArchiveTransientError(f"The image download failed: {exc}") from exc
        status = response.status_code
        if status in (301, 302, 303, 307, 308) and response.headers.get("location"):
            url = urljoin(url, response.headers["location"])
            continue
        if status >= 500 or status in (408, 429):
            raise ArchiveTransientError(f"The image server answered HTTP {status}.")
        if status != 200:
            raise ArchivePermanentError(f"The image server answered HTTP {status}.")
        return response.content
    raise ArchivePermanentError(f"The image URL redirects more than {MAX_REDIRECTS} times.")


def render_preview(link: str) -> bytes:
    """Render a SerpApi preview ``link`` in this process's browser; return the PNG.

    Raises:
        ArchivePermanentError: the link (nothing was requested) is refused, the rendering is
            larger than the maximum, or no browser is installed.
        ArchiveTransientError: a timeout or any other browser failure (a blank rendering too:
            a preview script's server may answer again later).
    """
    from ai_agent.screenshots import (
        BrowserMissing,
        PageTooLargeError,
        ScreenshotError,
        get_screenshot_service,
    )

    try:
        return get_screenshot_service().shot_preview(link).png
    except UnsafeURLError as exc:
        raise ArchivePermanentError(f"The preview URL was refused: {exc}") from exc
    except (PageTooLargeError, BrowserMissing) as exc:
        raise ArchivePermanentError(str(exc)) from exc
    except ScreenshotError as exc:
        raise ArchiveTransientError(str(exc)) from exc


def image_capture(data: bytes, *, source: str) -> Capture:
    """Decode ``data`` (PNG, JPEG, GIF or WebP; a GIF's first frame) into a :class:`Capture`.

    Raises:
        ArchivePermanentError: not an image of those types, or more than ``ARCHIVE_MAX_PIXELS``.
    """
    import imagehash

    try:
        opened = Image.open(io.BytesIO(data))
        if opened.format not in IMAGE_FORMATS:
            raise ArchivePermanentError(f"The file is not a PNG, JPEG, GIF or WebP image ({opened.format}).")
        width, height = opened.size
        if width * height > settings.ARCHIVE_MAX_PIXELS:
            raise ArchivePermanentError(
                f"The image is {width}x{height} pixels, more than {settings.ARCHIVE_MAX_PIXELS}."
            )
        opened.seek(0)
        image = opened.convert("RGBA" if _has_alpha(opened) else "RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise ArchivePermanentError("The file is not an image that can be read.") from exc
    full = io.BytesIO()
    image.save(full, format="PNG", optimize=False)
    thumb_image = image
    if width > THUMBNAIL_WIDTH:
        thumb_image = image.resize(
            (THUMBNAIL_WIDTH, max(1, round(height * THUMBNAIL_WIDTH / width))), Image.Resampling.LANCZOS
        )
    thumb = io.BytesIO()
    thumb_image.save(thumb, format="WEBP", quality=80, method=4)
    return Capture(
        png=full.getvalue(),
        thumbnail=thumb.getvalue(),
        visual_hash=str(imagehash.phash(image)),
        width=width,
        height=height,
        source=source,
    )


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
