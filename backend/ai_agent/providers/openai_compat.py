"""The ``openai`` provider: any OpenAI-compatible API (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``),
through the official ``openai`` SDK with its own retries off (``max_retries=0``).

Copy comes from ``POST /chat/completions`` (model ``OPENAI_CHAT_MODEL``; the creative's
screenshot is sent as an ``image_url`` data URL; the answer is asked for as a JSON object
``{"headline", "text", "image_prompt"}``), the image from ``POST /images/generations`` (model
``OPENAI_IMAGE_MODEL``, size ``OPENAI_IMAGE_SIZE``; the answer's ``data[0].url`` or
``data[0].b64_json``). Errors use ``{"error": {"message", "type", "param", "code"}}``: 429 with
code ``insufficient_quota`` is permanent (billing), other 429s and 5xx are transient.

The copy is saved as a checkpoint before the image is requested, and the image URL before it is
downloaded, so a retried task never pays for the chat completion (or the image) twice.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import openai
from django.conf import settings

from ..models import Stage
from .base import (
    GenerationHooks,
    GenerationRequest,
    GenerationResult,
    ProviderConfigError,
    ProviderError,
    ProviderPermanentError,
    ProviderResponseError,
    ProviderTransientError,
    Render,
    ad_copy,
)

SYSTEM_PROMPT = (
    "You write display-ad copy. You get a competitor's ad (its text and a screenshot) and the "
    "marketer's instructions. Answer with a JSON object with the keys headline (at most 40 "
    "characters), text (at most 120 characters) and image_prompt (a description for an image "
    "model of the new ad's visual, no text in the image)."
)
PERMANENT_CODES = frozenset(
    {"insufficient_quota", "invalid_api_key", "model_not_found", "content_policy_violation"}
)


def classify_error(
    status: int, code: str, message: str, *, retry_after: float | None = None
) -> ProviderError:
    """Map an OpenAI error (HTTP status + ``error.code``/``error.type``) to transient/permanent."""
    text = f"OpenAI-compatible API error {code or status}: {message}".strip()
    if code in PERMANENT_CODES or status in (400, 401, 403, 404, 422):
        return ProviderPermanentError(text, code=code or f"http_{status}", status=status)
    if status == 429 or status >= 500:
        return ProviderTransientError(
            text, code=code or f"http_{status}", status=status, retry_after=retry_after
        )
    return ProviderPermanentError(text, code=code or f"http_{status}", status=status)


class OpenAICompatProvider:
    name = "openai"
    needs_screenshot = True

    def __init__(
        self, *, base_url: str | None = None, api_key: str | None = None, timeout: float | None = None
    ) -> None:
        self.base_url = (base_url or settings.OPENAI_BASE_URL).rstrip("/")
        self.api_key = settings.OPENAI_API_KEY if api_key is None else api_key
        self.timeout = timeout or settings.OPENAI_TIMEOUT

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        """Run one SDK call; map the SDK's errors to ours (the SDK itself never retries).

        Raises:
            ProviderTransientError: timeout, connection error, 429 (not quota) or 5xx.
            ProviderPermanentError: other HTTP errors; ProviderResponseError: a body that is not
            a JSON object.
        """
        try:
            return call()
        except openai.APITimeoutError as exc:
            raise ProviderTransientError(
                f"The OpenAI-compatible API timed out: {exc}", code="timeout"
            ) from exc
        except openai.APIConnectionError as exc:
            raise ProviderTransientError(
                f"The OpenAI-compatible API could not be reached: {exc}", code="connection"
            ) from exc
        except openai.APIStatusError as exc:
            # The SDK's ``body`` is the ``error`` object already (or the whole body if it has none).
            body: dict[str, Any] = exc.body if isinstance(exc.body, dict) else {}
            nested = body.get("error")
            error: dict[str, Any] = nested if isinstance(nested, dict) else body
            try:
                retry_after: float | None = float(exc.response.headers.get("retry-after", ""))
            except ValueError:
                retry_after = None
            raise classify_error(
                exc.status_code,
                str(error.get("code") or error.get("type") or ""),
                str(error.get("message") or exc.response.reason_phrase),
                retry_after=retry_after,
            ) from exc
        except (openai.APIResponseValidationError, ValueError) as exc:  # ValueError: broken JSON
            raise ProviderResponseError(
                f"The OpenAI-compatible API answered {what} with a body that is not a JSON object.",
                code="malformed_response",
            ) from exc

    def generate(self, request: GenerationRequest, hooks: GenerationHooks) -> GenerationResult:
        """See the module docstring. Raises ProviderTransientError / ProviderPermanentError."""
        if not self.api_key:
            raise ProviderConfigError(
                "The openai provider is not configured: set OPENAI_API_KEY.", code="not_configured"
            )
        meta = dict(request.checkpoint)
        # max_retries=0: retries are the task's decision (backoff, checkpoints, the retry count
        # on the variant); the SDK retrying inside would pay for a chat completion twice.
        with openai.OpenAI(
            api_key=self.api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0
        ) as client:
            if "copy" not in meta:
                hooks.progress(30, Stage.GENERATING)
                meta.update(self._chat(client, request))
                hooks.run_started(meta["completion_id"], meta)
            copy = meta["copy"]
            renders: list[Render] = []
            if not meta.get("image_url"):
                hooks.progress(60, Stage.GENERATING)
                image = self._image(client, copy.get("image_prompt") or request.prompt)
                if image.get("url"):
                    meta["image_url"] = image["url"]
                    hooks.checkpoint(meta)
                else:
                    png = image["png"]
                    renders.append(Render(label="image", png=png, width=0, height=0))
                    meta["image_b64_stored"] = True
        return GenerationResult(
            headline=copy.get("headline", ""),
            text=copy.get("text", ""),
            image_url=meta.get("image_url", ""),
            renders=renders,
            run_id=meta["completion_id"],
            tokens=meta.get("tokens"),
            meta={k: v for k, v in meta.items() if k != "copy"},
        )

    def _chat(self, client: openai.OpenAI, request: GenerationRequest) -> dict[str, Any]:
        content: list[dict[str, Any]] = [
            {
                "type": "text",
                "text": f"Competitor ad:\n{ad_copy(request.snapshot)}\n\nInstructions:\n{request.prompt}",
            }
        ]
        if request.screenshot:
            data_url = "data:image/png;base64," + base64.b64encode(request.screenshot).decode()
            content.append({"type": "image_url", "image_url": {"url": data_url}})
        messages: Any = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": content}]
        completion = self._call(
            "chat/completions",
            lambda: client.chat.completions.create(
                model=settings.OPENAI_CHAT_MODEL,
                messages=messages,
                response_format={"type": "json_object"},
                user=request.user_ref,
            ),
        )
        try:
            message = completion.choices[0].message.content
        except (AttributeError, IndexError, TypeError) as exc:
            raise ProviderResponseError(
                "The chat completion has no message.", code="malformed_response"
            ) from exc
        usage = getattr(completion, "usage", None)
        return {
            "completion_id": str(getattr(completion, "id", "") or ""),
            "copy": _parse_copy(str(message or "")),
            "tokens": getattr(usage, "total_tokens", None),
            "chat_model": getattr(completion, "model", None),
        }

    def _image(self, client: openai.OpenAI, prompt: str) -> dict[str, Any]:
        size: Any = settings.OPENAI_IMAGE_SIZE  # any size the server accepts, not only OpenAI's
        answer = self._call(
            "images/generations",
            lambda: client.images.generate(
                model=settings.OPENAI_IMAGE_MODEL, prompt=prompt[:4000], n=1, size=size
            ),
        )
        try:
            item = answer.data[0]
        except (AttributeError, IndexError, TypeError) as exc:
            raise ProviderResponseError("The image answer has no data.", code="malformed_response") from exc
        if getattr(item, "url", None):
            return {"url": str(item.url)}
        if getattr(item, "b64_json", None):
            try:
                return {"png": base64.b64decode(item.b64_json, validate=True)}
            except ValueError as exc:
                raise ProviderResponseError(
                    "The image's b64_json is not base64.", code="malformed_response"
                ) from exc
        raise ProviderResponseError(
            "The image answer has neither url nor b64_json.", code="malformed_response"
        )


def _parse_copy(message: str) -> dict[str, str]:
    """Read ``{"headline", "text", "image_prompt"}`` from the model's answer (code fences tolerated).

    Raises:
        ProviderResponseError: no JSON object with a headline or text.
    """
    cleaned = re.sub(r"^```(?:json)?\s*|\s*```$", "", message.strip())
    try:
        data = json.loads(cleaned)
    except ValueError as exc:
        raise ProviderResponseError(
            "The model's answer is not the JSON object asked for.", code="malformed_response"
        ) from exc
    if not isinstance(data, dict) or not (data.get("headline") or data.get("text")):
        raise ProviderResponseError("The model's answer has no headline or text.", code="malformed_response")
    return {k: str(data.get(k) or "") for k in ("headline", "text", "image_prompt")}
