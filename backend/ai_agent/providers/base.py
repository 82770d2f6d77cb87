"""What every generation provider shares: request/result shapes, the error hierarchy, hooks.

Errors are classified once, here, so the task can decide about retries without knowing the
provider: :class:`ProviderTransientError` (HTTP 429 rate limits, 5xx, timeouts, connection
errors, a run still in progress) is retried with backoff; :class:`ProviderPermanentError`
(401/403, quota used up, provider not configured, invalid parameters, a run that failed, a
malformed answer, an image that expired) fails the variant at once, because trying again would
fail the same way or pay twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from django.conf import settings

from core.redaction import redact
from core.urlsafety import ResponseTooLarge, UnsafeURLError, pinned_request


class ProviderError(Exception):
    """A provider call failed. ``code`` is the provider's error code (``"too_many_requests"``,
    ``"provider_quota_exceeded"``, ``"insufficient_quota"``…) or one of ours (``"timeout"``,
    ``"malformed_response"``, ``"run_failed"``, ``"not_configured"``); ``status`` the HTTP
    status when there was one."""

    transient = False

    def __init__(
        self, message: str, *, code: str = "", status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(redact(message))  # credentials never reach logs, rows or results
        self.code = code
        self.status = status
        self.retry_after = retry_after


class ProviderTransientError(ProviderError):
    """Worth retrying later (rate limit, server error, timeout, run still in progress)."""

    transient = True


class ProviderPermanentError(ProviderError):
    """Retrying cannot help (auth, quota, configuration, invalid input, failed run)."""


class ProviderConfigError(ProviderPermanentError):
    """The provider is not configured (no API key or base URL)."""


class ProviderRunFailed(ProviderPermanentError):
    """The provider ran the generation and reported failure (Dify ``data.status: "failed"``)."""


class ProviderResponseError(ProviderPermanentError):
    """The answer was not what the API documents (truncated JSON, missing outputs)."""


@dataclass(frozen=True)
class Render:
    """One stored image: ``label`` (``"image"`` or a size like ``"728x90"``), PNG bytes, pixels."""

    label: str
    png: bytes
    width: int
    height: int


@dataclass(frozen=True)
class GenerationRequest:
    """Input of one generation.

    ``snapshot`` is the variant's ``creative_snapshot``; ``screenshot`` the creative drawn as a
    PNG (providers that look at the ad; None for ``template``); ``user_ref`` an opaque end-user
    id for the provider's logs (never an e-mail); ``checkpoint`` the variant's ``provider_meta``
    from an earlier attempt and ``resume_run_id`` its ``provider_run_id`` ("" on a first try).
    """

    variant_id: int
    prompt: str
    snapshot: dict[str, Any]
    user_ref: str
    screenshot: bytes | None = None
    resume_run_id: str = ""
    checkpoint: dict[str, Any] = field(default_factory=dict)


@dataclass
class GenerationResult:
    """Output of one generation: ad copy, and either stored-ready ``renders`` (PNG bytes) or an
    ``image_url`` the caller downloads (provider URLs expire: they are copied at once).
    ``tokens`` and ``elapsed_seconds`` are as reported by the provider (None if not)."""

    headline: str
    text: str
    renders: list[Render] = field(default_factory=list)
    image_url: str = ""
    run_id: str = ""
    tokens: int | None = None
    elapsed_seconds: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class GenerationHooks:
    """Callbacks into the variant row while a provider works.

    ``run_started(run_id, meta)`` is called as soon as the provider names its run (before the
    result), so a redelivered task resumes that run instead of paying for a new one;
    ``checkpoint(meta)`` saves partial results; ``progress(percent, stage)`` reports progress.
    """

    run_started: Callable[[str, dict[str, Any]], None] = lambda run_id, meta: None
    checkpoint: Callable[[dict[str, Any]], None] = lambda meta: None
    progress: Callable[[int, str], None] = lambda percent, stage: None


class Provider(Protocol):
    name: str
    needs_screenshot: bool

    def generate(self, request: GenerationRequest, hooks: GenerationHooks) -> GenerationResult:
        """Generate a variant. Raises ProviderTransientError / ProviderPermanentError."""
        ...


def ad_copy(snapshot: dict[str, Any]) -> str:
    """The creative's copy as plain text for a prompt (title, headline, snippet, link)."""
    details = snapshot.get("details") or {}
    parts = [
        details.get("title"),
        details.get("headline"),
        details.get("snippet"),
        details.get("call_to_action"),
        details.get("visible_link") or snapshot.get("target_domain"),
    ]
    text = "\n".join(p for p in parts if p)
    return text or f"An ad by {snapshot.get('advertiser_name') or 'an advertiser'}"


def download_image(url: str, *, timeout: float, headers: dict[str, str] | None = None) -> tuple[bytes, str]:
    """Download a provider's image (``AI_IMAGE_MAX_BYTES`` at most); return ``(bytes, content_type)``.

    The URL is SSRF-checked like every URL fetched on a user's behalf, and the connection goes
    to the address that was checked (:func:`core.urlsafety.pinned_request`).

    Raises:
        ProviderPermanentError: unsafe URL, 4xx (404/403/410: the signed URL expired), too big.
        ProviderTransientError: 429, 5xx, timeout or connection error.
    """
    limit = settings.AI_IMAGE_MAX_BYTES
    try:
        response = pinned_request("GET", url, headers=headers, timeout=timeout, max_bytes=limit)
    except UnsafeURLError as exc:
        raise ProviderPermanentError(f"Refused to download the image: {exc}", code="unsafe_url") from exc
    except ResponseTooLarge as exc:
        raise ProviderPermanentError(
            f"The image is larger than {limit} bytes.", code="image_too_large"
        ) from exc
    except httpx.TimeoutException as exc:
        raise ProviderTransientError(f"Image download timed out: {exc}", code="timeout") from exc
    except httpx.TransportError as exc:
        raise ProviderTransientError(f"Image download failed: {exc}", code="connection") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise ProviderTransientError(
            f"Image download answered HTTP {response.status_code}.",
            code="image_download",
            status=response.status_code,
        )
    if response.status_code != 200:
        raise ProviderPermanentError(
            f"Image download answered HTTP {response.status_code} (the link may have expired).",
            code="image_expired" if response.status_code in (403, 404, 410) else "image_download",
            status=response.status_code,
        )
    return response.content, response.headers.get("content-type", "")
