"""The ``dify`` provider: a Dify workflow app (``POST /v1/workflows/run``).

Flow: upload the creative's screenshot (``POST /files/upload``, multipart ``file`` + ``user``
→ ``{"id", "name", "size", "extension", "mime_type", …}``), then run the workflow with inputs
``{DIFY_INPUT_PROMPT: prompt, DIFY_INPUT_COPY: ad copy, DIFY_INPUT_IMAGE: {"type": "image",
"transfer_method": "local_file", "upload_file_id": id}}``, ``response_mode`` blocking or streaming,
and a ``user`` id. Outputs are read from ``data.outputs`` by the names in ``DIFY_OUTPUT_*``; the
image output is a Dify file object (``{"type": "image", "url": …}``, a list of them, or a URL).

Blocking answers ``{"workflow_run_id", "task_id", "data": {"id", "status", "outputs", "error",
"elapsed_time" (s), "total_tokens", "total_steps", …}}``. Streaming answers Server-Sent Events
``data: {"event": …}``: ``workflow_started`` (names the run: saved at once), ``node_started``,
``node_finished`` (progress), ``workflow_finished`` (the same ``data`` as blocking), ``ping``,
and ``error`` (``{"status", "code", "message"}``). HTTP errors use the envelope
``{"code", "message", "status"}``. A run that answers 200 with ``data.status: "failed"`` failed.

A redelivered task that finds a saved run id asks ``GET /workflows/run/{id}`` for the result
instead of running (and paying for) the workflow again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import httpx
from django.conf import settings
from httpx_sse import EventSource, SSEError

from ..models import Stage
from .base import (
    GenerationHooks,
    GenerationRequest,
    GenerationResult,
    ProviderConfigError,
    ProviderError,
    ProviderPermanentError,
    ProviderResponseError,
    ProviderRunFailed,
    ProviderTransientError,
    ad_copy,
)

# Dify error codes that retrying cannot fix (api/controllers/service_api/app/error.py).
PERMANENT_CODES = frozenset(
    {
        "provider_quota_exceeded",
        "provider_not_initialize",
        "model_currently_not_support",
        "app_unavailable",
        "not_workflow_app",
        "invalid_param",
        "unauthorized",
        "bad_request",
        "file_too_large",
        "unsupported_file_type",
        "no_file_uploaded",
        "too_many_files",
    }
)
TRANSIENT_CODES = frozenset({"too_many_requests", "internal_server_error", "completion_request_error"})


def classify_error(
    status: int | None, code: str, message: str, *, retry_after: float | None = None
) -> ProviderError:
    """Map a Dify error (HTTP status + envelope ``code``) to a transient or permanent error."""
    text = f"Dify error {code or status}: {message}".strip()
    if code in PERMANENT_CODES or status in (400, 401, 403, 404, 413, 415):
        if status == 429:
            return ProviderTransientError(text, code=code, status=status, retry_after=retry_after)
        return ProviderPermanentError(text, code=code or f"http_{status}", status=status)
    if status == 429 or code in TRANSIENT_CODES or (status or 0) >= 500:
        return ProviderTransientError(
            text, code=code or f"http_{status}", status=status, retry_after=retry_after
        )
    return ProviderPermanentError(text, code=code or f"http_{status}", status=status)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


class DifyProvider:
    name = "dify"
    needs_screenshot = True

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        response_mode: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.base_url = (base_url or settings.DIFY_BASE_URL).rstrip("/")
        self.api_key = settings.DIFY_API_KEY if api_key is None else api_key
        self.response_mode = response_mode or settings.DIFY_RESPONSE_MODE
        self.timeout = timeout or settings.DIFY_TIMEOUT

    # -- HTTP ------------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        if not self.api_key:
            raise ProviderConfigError(
                "The dify provider is not configured: set DIFY_API_KEY.", code="not_configured"
            )
        return httpx.Client(
            base_url=self.base_url + "/",
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=httpx.Timeout(self.timeout, connect=10.0),
            follow_redirects=False,
        )

    def _raise_for(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        raise classify_error(
            response.status_code,
            str(body.get("code", "")),
            str(body.get("message", response.reason_phrase)),
            retry_after=_retry_after(response),
        )

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        self._raise_for(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderResponseError(
                f"Dify answered HTTP {response.status_code} with a body that is not JSON.",
                code="malformed_response",
            ) from exc
        if not isinstance(body, dict):
            raise ProviderResponseError(
                "Dify answered with JSON that is not an object.", code="malformed_response"
            )
        return body

    def _request(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderTransientError(
                f"Dify timed out after {self.timeout:.0f} s: {exc}", code="timeout"
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderTransientError(f"Dify could not be reached: {exc}", code="connection") from exc

    # -- API calls -------------------------------------------------------------------------

    def upload_file(self, client: httpx.Client, png: bytes, *, user: str, name: str = "creative.png") -> str:
        """``POST /files/upload``; return the upload file id."""
        response = self._request(
            client, "POST", "files/upload", files={"file": (name, png, "image/png")}, data={"user": user}
        )
        body = self._json(response)
        if not body.get("id"):
            raise ProviderResponseError("Dify's file upload answer has no id.", code="malformed_response")
        return str(body["id"])

    def run_blocking(
        self, client: httpx.Client, payload: dict[str, Any], hooks: GenerationHooks
    ) -> dict[str, Any]:
        """Run the workflow and wait; return the ``data`` object of the answer."""
        body = self._json(
            self._request(client, "POST", "workflows/run", json={**payload, "response_mode": "blocking"})
        )
        data = body.get("data")
        if not isinstance(data, dict):
            raise ProviderResponseError("Dify's run answer has no data object.", code="malformed_response")
        run_id = str(body.get("workflow_run_id") or data.get("id") or "")
        if run_id:
            hooks.run_started(run_id, {"task_id": body.get("task_id", "")})
        return data

    def run_streaming(
        self, client: httpx.Client, payload: dict[str, Any], hooks: GenerationHooks
    ) -> dict[str, Any]:
        """Run the workflow with SSE; report progress; return ``workflow_finished``'s ``data``."""
        nodes_done = 0
        try:
            with client.stream(
                "POST", "workflows/run", json={**payload, "response_mode": "streaming"}
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise_for(response)
                for event in _sse_events(response):
                    name = event.get("event")
                    if name == "workflow_started":
                        run_id = str(
                            event.get("workflow_run_id") or (event.get("data") or {}).get("id") or ""
                        )
                        hooks.run_started(run_id, {"task_id": event.get("task_id", "")})
                        hooks.progress(35, Stage.GENERATING)
                    elif name == "node_finished":
                        nodes_done += 1
                        # Dify does not say how many nodes a run has: approach 85 % step by step.
                        hooks.progress(min(85, 35 + 10 * nodes_done), Stage.GENERATING)
                    elif name == "workflow_finished":
                        data = event.get("data")
                        if not isinstance(data, dict):
                            raise ProviderResponseError(
                                "workflow_finished has no data.", code="malformed_response"
                            )
                        return data
                    elif name == "error":
                        raise classify_error(
                            int(event.get("status") or 500),
                            str(event.get("code", "")),
                            str(event.get("message", "")),
                        )
        except httpx.TimeoutException as exc:
            raise ProviderTransientError(
                f"Dify's stream timed out after {self.timeout:.0f} s: {exc}", code="timeout"
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderTransientError(f"Dify's stream broke off: {exc}", code="connection") from exc
        raise ProviderTransientError(
            "Dify's stream ended without workflow_finished.", code="stream_incomplete"
        )

    def run_detail(self, client: httpx.Client, run_id: str) -> dict[str, Any]:
        """``GET /workflows/run/{id}``: the run's ``{"id", "status", "outputs", "error", …}``."""
        return self._json(self._request(client, "GET", f"workflows/run/{run_id}"))

    # -- the provider ----------------------------------------------------------------------

    def generate(self, request: GenerationRequest, hooks: GenerationHooks) -> GenerationResult:
        """See the module docstring. Raises ProviderTransientError / ProviderPermanentError."""
        with self._client() as client:
            if request.resume_run_id:
                data = self.run_detail(client, request.resume_run_id)
                if data.get("status") in ("running", "pending", "paused"):
                    raise ProviderTransientError("The Dify run is still in progress.", code="run_in_progress")
                run_id = request.resume_run_id
            else:
                if request.screenshot is None:
                    raise ProviderPermanentError(
                        "No screenshot of the creative to send.", code="no_screenshot"
                    )
                hooks.progress(25, Stage.UPLOADING)
                file_id = self.upload_file(client, request.screenshot, user=request.user_ref)
                payload = {
                    "inputs": {
                        settings.DIFY_INPUT_PROMPT: request.prompt,
                        settings.DIFY_INPUT_COPY: ad_copy(request.snapshot),
                        settings.DIFY_INPUT_IMAGE: {
                            "type": "image",
                            "transfer_method": "local_file",
                            "upload_file_id": file_id,
                        },
                    },
                    "user": request.user_ref,
                }
                hooks.progress(30, Stage.GENERATING)
                if self.response_mode == "streaming":
                    data = self.run_streaming(client, payload, hooks)
                else:
                    data = self.run_blocking(client, payload, hooks)
                run_id = str(data.get("id") or "")
        return self._result(data, run_id)

    def _result(self, data: dict[str, Any], run_id: str) -> GenerationResult:
        status = data.get("status")
        if status != "succeeded":
            raise ProviderRunFailed(
                f"The Dify workflow run {status or 'ended'}: {data.get('error') or 'no reason given'}",
                code="run_failed",
            )
        outputs = data.get("outputs")
        if not isinstance(outputs, dict):
            raise ProviderResponseError("The Dify run has no outputs.", code="malformed_response")
        image_url = self._image_url(outputs.get(settings.DIFY_OUTPUT_IMAGE))
        if not image_url:
            image_url = self._image_url(data.get("files"))
        if not image_url:
            raise ProviderResponseError(
                f"The Dify run returned no image in output {settings.DIFY_OUTPUT_IMAGE!r}.", code="no_image"
            )
        tokens = data.get("total_tokens")
        elapsed = data.get("elapsed_time")
        return GenerationResult(
            headline=str(outputs.get(settings.DIFY_OUTPUT_HEADLINE) or ""),
            text=str(outputs.get(settings.DIFY_OUTPUT_TEXT) or ""),
            image_url=image_url,
            run_id=run_id,
            tokens=int(tokens) if isinstance(tokens, int | float) else None,
            elapsed_seconds=float(elapsed) if isinstance(elapsed, int | float) else None,
            meta={"total_steps": data.get("total_steps"), "workflow_id": data.get("workflow_id")},
        )

    def _image_url(self, value: Any) -> str:
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, dict | str)), None)
        if isinstance(value, dict):
            value = value.get("url") or value.get("remote_url")
        if not isinstance(value, str) or not value:
            return ""
        # Self-hosted Dify without FILES_URL answers "/files/…": relative to the API's origin.
        return urljoin(self.base_url + "/", value)


def _sse_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The JSON objects of the ``data:`` fields of Dify's Server-Sent Events (``httpx-sse``).

    An event without an ``"event"`` key gets the SSE event name (default ``"message"``).

    Raises:
        ProviderResponseError: the answer is not ``text/event-stream`` or an event is not JSON.
    """
    try:
        for sse in EventSource(response).iter_sse():
            if not sse.data:
                continue
            try:
                event = sse.json()
            except ValueError as exc:
                raise ProviderResponseError(
                    "Dify sent an event that is not JSON.", code="malformed_response"
                ) from exc
            if isinstance(event, dict):
                event.setdefault("event", sse.event)
                yield event
    except SSEError as exc:
        raise ProviderResponseError(
            f"Dify's stream is not Server-Sent Events: {exc}", code="malformed_response"
        ) from exc
