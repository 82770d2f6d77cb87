"""A local server that speaks the Dify workflow-app API (the parts AdSpark uses), with faults.

Endpoints (under ``/v1``, ``Authorization: Bearer <app key>``):

* ``POST /v1/files/upload`` (multipart ``file`` + ``user``) → 201 ``{"id", "name", "size",
  "extension", "mime_type", "created_by", "created_at"}``; images only (415
  ``unsupported_file_type``), 15 MB at most (413 ``file_too_large``), 400 ``no_file_uploaded``.
* ``POST /v1/workflows/run`` ``{"inputs", "response_mode": "blocking"|"streaming", "user"}``.
  Required inputs (``required_inputs``, default ``prompt`` and ``ad_image``) must be present
  (400 ``invalid_param``); a file input must name an uploaded file. Blocking answers
  ``{"task_id", "workflow_run_id", "data": {"id", "workflow_id", "status", "outputs", "error",
  "elapsed_time", "total_tokens", "total_steps", "created_at", "finished_at"}}``; streaming
  answers SSE ``data: {...}`` events ``workflow_started``, ``node_started``/``node_finished`` for
  each of 4 nodes, ``workflow_finished``. Outputs: ``headline``, ``text`` and ``image`` (a Dify
  file object whose signed ``url`` on this server expires after ``image_ttl`` seconds).
* ``GET /v1/workflows/run/{workflow_run_id}`` → the run's detail.
* ``GET /files/tools/{name}.png?timestamp=…&nonce=…&sign=…`` → the image (403 when expired).

Errors use Dify's envelope ``{"code", "message", "status"}``. Faults (``inject_fault(kind,
count=, delay=, endpoint="run"|"upload"|"detail"|"image")``): ``rate_limit`` (429
``too_many_requests``), ``quota`` (400 ``provider_quota_exceeded``), ``not_initialized`` (400
``provider_not_initialize``), ``unauthorized`` (401), ``server_error`` (500), ``failed_run``
(HTTP 200, ``data.status: "failed"``), ``malformed`` (truncated JSON / a broken SSE event),
``stream_error`` (an SSE ``error`` event), ``delay`` (sleep ``delay`` s, then answer),
``expired`` (image URL answers 403).

Run it: ``cd backend && python -m local_services.dify_server --port 8766 [--api-key K]``, then
``DIFY_BASE_URL=http://127.0.0.1:8766/v1``.
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import json
import secrets
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from .ai_common import MALFORMED_BODY, LocalAIServer, Reply, json_reply

MAX_UPLOAD_BYTES = 15 * 1024 * 1024  # Dify's default UPLOAD_IMAGE_FILE_SIZE_LIMIT (MB)
IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}
NODES = (("start", "Start"), ("llm", "Ad copy (LLM)"), ("tool", "Image generation"), ("end", "End"))
WORKFLOW_ID = "7c1f2d1e-5d6a-4f0e-9b51-0a6c0f1a9d20"

ERRORS = {
    "rate_limit": (429, "too_many_requests", "Too many requests. Please try again later."),
    "quota": (
        400,
        "provider_quota_exceeded",
        "Your quota for Dify Hosted Model Provider has been exhausted. Please go to Settings -> Model Provider to complete your own provider credentials.",
    ),
    "not_initialized": (
        400,
        "provider_not_initialize",
        "No valid model provider credentials found. Please go to Settings -> Model Provider to complete your provider credentials.",
    ),
    "unauthorized": (401, "unauthorized", "Access token is invalid"),
    "server_error": (
        500,
        "internal_server_error",
        "The server encountered an internal error and was unable to complete your request.",
    ),
}


def dify_error(status: int, code: str, message: str) -> Reply:
    headers = (("Retry-After", "1"),) if status == 429 else ()
    return json_reply(status, {"code": code, "message": message, "status": status}, headers=headers)


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


class LocalDifyServer(LocalAIServer):
    """See the module docstring. ``step_delay`` seconds pass between streamed node events."""

    FAULTS = (
        "rate_limit",
        "quota",
        "not_initialized",
        "unauthorized",
        "server_error",
        "failed_run",
        "malformed",
        "stream_error",
        "delay",
        "expired",
    )
    ENDPOINTS = ("run", "upload", "detail", "image")
    NAME = "local-dify"

    def __init__(
        self,
        *,
        required_inputs: tuple[str, ...] = ("prompt", "ad_image"),
        step_delay: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.required_inputs = required_inputs
        self.step_delay = step_delay
        self._uploads: dict[str, dict[str, Any]] = {}
        self._runs: dict[str, dict[str, Any]] = {}
        self._state_lock = threading.Lock()

    def reset_state(self) -> None:
        with self._state_lock:
            self._uploads.clear()
            self._runs.clear()

    @property
    def run_count(self) -> int:
        """Workflow runs executed (what a Dify bill counts)."""
        with self._state_lock:
            return len(self._runs)

    @property
    def upload_count(self) -> int:
        with self._state_lock:
            return len(self._uploads)

    def route(
        self, method: str, path: str, params: dict[str, str], headers: Any, body: bytes, host: str
    ) -> Reply:
        if path.startswith("/files/tools/") and method == "GET":
            fault = self.take_fault("image")
            reply = (
                self.serve_image(path, params)
                if fault is None or fault.kind != "expired"
                else Reply(403, b"expired", "text/plain")
            )
            self.log(method, path, "image", reply.status)
            return reply
        endpoint = {("POST", "/v1/files/upload"): "upload", ("POST", "/v1/workflows/run"): "run"}.get(
            (method, path), ""
        )
        if not endpoint and method == "GET" and path.startswith("/v1/workflows/run/"):
            endpoint = "detail"
        if not endpoint:
            reply = dify_error(404, "not_found", "The requested URL was not found on the server.")
            self.log(method, path, "", reply.status)
            return reply
        reply = self._api(endpoint, path, headers, body, host)
        self.log(method, path, endpoint, reply.status)
        return reply

    def _api(self, endpoint: str, path: str, headers: Any, body: bytes, host: str) -> Reply:
        if not self.bearer_ok(headers):
            return dify_error(401, "unauthorized", "Access token is invalid")
        fault = self.take_fault(endpoint)
        if fault is not None and fault.kind in ERRORS:
            return dify_error(*ERRORS[fault.kind])
        if fault is not None and fault.kind == "malformed" and endpoint != "run":
            return Reply(200, MALFORMED_BODY)
        if endpoint == "upload":
            return self._upload(headers, body)
        if endpoint == "detail":
            run_id = path.rsplit("/", 1)[-1]
            with self._state_lock:
                run = self._runs.get(run_id)
            if run is None:
                return dify_error(404, "not_found", "Workflow run not found")
            return json_reply(200, run)
        return self._run(body, host, fault.kind if fault is not None else "")

    def _upload(self, headers: Any, body: bytes) -> Reply:
        content_type = headers.get("Content-Type") or ""
        if not content_type.startswith("multipart/form-data"):
            return dify_error(400, "no_file_uploaded", "Please upload your file.")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                fields[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
        if "file" not in fields:
            return dify_error(400, "no_file_uploaded", "Please upload your file.")
        filename, data = fields["file"]
        extension = (filename or "").rsplit(".", 1)[-1].lower()
        if extension not in IMAGE_TYPES:
            return dify_error(415, "unsupported_file_type", "File type not allowed.")
        if len(data) > MAX_UPLOAD_BYTES:
            return dify_error(413, "file_too_large", f"File size exceeded. {len(data)} > {MAX_UPLOAD_BYTES}")
        user = (fields.get("user") or (None, b""))[1].decode(errors="replace")
        file_id = str(uuid.uuid4())
        record = {
            "id": file_id,
            "name": filename,
            "size": len(data),
            "extension": extension,
            "mime_type": IMAGE_TYPES[extension],
            "created_by": str(uuid.uuid5(uuid.NAMESPACE_URL, user or "anonymous")),
            "created_at": int(time.time()),
            "preview_url": None,
        }
        with self._state_lock:
            self._uploads[file_id] = record
        return json_reply(201, record)

    def _run(self, body: bytes, host: str, fault: str) -> Reply:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return dify_error(400, "invalid_param", "Invalid JSON body")
        inputs = request.get("inputs") if isinstance(request, dict) else None
        if not isinstance(inputs, dict):
            return dify_error(400, "invalid_param", "inputs is required")
        if not request.get("user"):
            return dify_error(400, "invalid_param", "user is required")
        mode = request.get("response_mode", "blocking")
        if mode not in ("blocking", "streaming"):
            return dify_error(400, "invalid_param", "response_mode must be blocking or streaming")
        for name in self.required_inputs:
            if inputs.get(name) in (None, ""):
                return dify_error(400, "invalid_param", f"{name} is required in input form")
        for name, value in inputs.items():
            if isinstance(value, dict) and value.get("transfer_method") == "local_file":
                with self._state_lock:
                    known = value.get("upload_file_id") in self._uploads
                if not known:
                    return dify_error(400, "invalid_param", f"Invalid upload file id in {name}")
        run = self._execute(inputs, host, failed=fault == "failed_run")
        task_id = str(uuid.uuid4())
        if mode == "blocking":
            if fault == "malformed":
                return Reply(200, MALFORMED_BODY)
            return json_reply(200, {"task_id": task_id, "workflow_run_id": run["id"], "data": run})
        return Reply(
            200, content_type="text/event-stream; charset=utf-8", stream=self._stream(run, task_id, fault)
        )

    def _execute(self, inputs: dict[str, Any], host: str, *, failed: bool) -> dict[str, Any]:
        """Run the fake workflow (counts as a billed run) and remember its detail."""
        run_id = str(uuid.uuid4())
        prompt = str(inputs.get("prompt") or next((v for v in inputs.values() if isinstance(v, str)), ""))
        started = time.time()
        outputs: dict[str, Any] = {}
        if not failed:
            url, png = self.store_image("/files/tools", host=host)
            outputs = {
                "headline": (prompt.split(".")[0] or "New ad")[:40].strip().title(),
                "text": f"{prompt.strip()} Shop now.",
                "image": {
                    "dify_model_identity": "__dify__file__",
                    "id": None,
                    "tenant_id": str(uuid.uuid4()),
                    "type": "image",
                    "transfer_method": "tool_file",
                    "remote_url": None,
                    "related_id": str(uuid.uuid4()),
                    "filename": url.split("?")[0].rsplit("/", 1)[-1],
                    "extension": ".png",
                    "mime_type": "image/png",
                    "size": len(png),
                    "url": url,
                },
            }
        run = {
            "id": run_id,
            "workflow_id": WORKFLOW_ID,
            "status": "failed" if failed else "succeeded",
            "inputs": json.dumps({k: v for k, v in inputs.items() if isinstance(v, str)}),
            "outputs": outputs,
            "error": "Node Ad copy (LLM) run failed: [openai] Error: model output was empty"
            if failed
            else None,
            "elapsed_time": round(0.8 + secrets.randbelow(400) / 1000, 3),
            "total_tokens": 0 if failed else 412,
            "total_steps": 2 if failed else len(NODES),
            "created_at": int(started),
            "finished_at": int(started) + 1,
        }
        with self._state_lock:
            self._runs[run_id] = run
        return run

    def _stream(self, run: dict[str, Any], task_id: str, fault: str) -> Iterator[bytes]:
        base = {"task_id": task_id, "workflow_run_id": run["id"]}
        yield _sse(
            {
                **base,
                "event": "workflow_started",
                "data": {"id": run["id"], "workflow_id": WORKFLOW_ID, "created_at": run["created_at"]},
            }
        )
        if fault == "stream_error":
            yield _sse(
                {
                    **base,
                    "event": "error",
                    "status": 400,
                    "code": "provider_quota_exceeded",
                    "message": ERRORS["quota"][2],
                }
            )
            return
        for index, (node_type, title) in enumerate(NODES, start=1):
            if self.step_delay:
                self._stopping.wait(self.step_delay)
            node = {
                "id": str(uuid.uuid4()),
                "node_id": f"{node_type}-{index}",
                "node_type": node_type,
                "title": title,
                "index": index,
            }
            yield _sse({**base, "event": "node_started", "data": {**node, "created_at": int(time.time())}})
            failed_here = run["status"] == "failed" and node_type == "llm"
            yield _sse(
                {
                    **base,
                    "event": "node_finished",
                    "data": {
                        **node,
                        "status": "failed" if failed_here else "succeeded",
                        "error": run["error"] if failed_here else None,
                        "elapsed_time": 0.2,
                        "execution_metadata": {"total_tokens": 0 if failed_here else 206},
                    },
                }
            )
            if failed_here:
                break
            if fault == "malformed" and index == 2:
                yield b'data: {"event": "node_started", "data": {"id": \n\n'
                return
        yield b"event: ping\n\n"
        yield _sse({**base, "event": "workflow_finished", "data": run})


def main(argv: list[str] | None = None) -> int:
    """Run until Ctrl-C or SIGTERM. Exit codes: 0 clean stop, 1 cannot start."""
    parser = argparse.ArgumentParser(description="Local Dify workflow API for tests and the demo.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty key)")
    parser.add_argument("--step-delay", type=float, default=0.0, help="seconds between streamed node events")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    try:
        server = LocalDifyServer(
            api_key=args.api_key,
            host=args.host,
            port=args.port,
            verbose=args.verbose,
            step_delay=args.step_delay,
        ).start()
    except OSError as exc:
        print(f"dify_server: cannot start: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"Local Dify server on {server.url} (DIFY_BASE_URL={server.api_base})", flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
