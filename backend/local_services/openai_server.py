"""A local server that speaks the OpenAI endpoints AdSpark uses, with faults.

Endpoints (``Authorization: Bearer <key>``):

* ``POST /v1/chat/completions`` ``{"model", "messages", …}`` → a ``chat.completion`` whose
  message content is a JSON object ``{"headline", "text", "image_prompt"}`` built from the
  last user message, with ``usage`` token counts.
* ``POST /v1/images/generations`` ``{"model", "prompt", "n", "size", "response_format"?}`` →
  ``{"created", "data": [{"url", "revised_prompt"}]}`` (or ``b64_json`` when asked); the URL is
  signed and expires after ``image_ttl`` seconds, like OpenAI's.
* ``GET /images/{name}.png?timestamp=…&nonce=…&sign=…`` → the image (403 once expired).

Errors use ``{"error": {"message", "type", "param", "code"}}``. Faults (``inject_fault(kind,
count=, delay=, endpoint="chat"|"images"|"image")``): ``rate_limit`` (429
``rate_limit_exceeded``), ``quota`` (429 ``insufficient_quota``), ``unauthorized`` (401
``invalid_api_key``), ``server_error`` (500), ``malformed`` (truncated JSON), ``delay``,
``expired`` (image URL answers 403).

Run it: ``cd backend && python -m local_services.openai_server --port 8767``, then
``OPENAI_BASE_URL=http://127.0.0.1:8767/v1``.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import signal
import sys
import threading
import time
from typing import Any

from .ai_common import MALFORMED_BODY, LocalAIServer, Reply, json_reply

ERRORS = {
    "rate_limit": (
        429,
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.",
    ),
    "quota": (
        429,
        "insufficient_quota",
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    "unauthorized": (
        401,
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
    ),
    "server_error": (
        500,
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
}


def openai_error(
    status: int, error_type: str, code: str | None, message: str, param: str | None = None
) -> Reply:
    headers = (("Retry-After", "1"),) if status == 429 and code == "rate_limit_exceeded" else ()
    return json_reply(
        status,
        {"error": {"message": message, "type": error_type, "param": param, "code": code}},
        headers=headers,
    )


class LocalOpenAIServer(LocalAIServer):
    """See the module docstring."""

    FAULTS = ("rate_limit", "quota", "unauthorized", "server_error", "malformed", "delay", "expired")
    ENDPOINTS = ("chat", "images", "image")
    NAME = "local-openai"

    def route(
        self, method: str, path: str, params: dict[str, str], headers: Any, body: bytes, host: str
    ) -> Reply:
        if path.startswith("/images/") and method == "GET":
            fault = self.take_fault("image")
            reply = (
                self.serve_image(path, params)
                if fault is None or fault.kind != "expired"
                else Reply(403, b"expired", "text/plain")
            )
            self.log(method, path, "image", reply.status)
            return reply
        endpoint = {
            ("POST", "/v1/chat/completions"): "chat",
            ("POST", "/v1/images/generations"): "images",
        }.get((method, path))
        if endpoint is None:
            reply = openai_error(404, "invalid_request_error", None, f"Invalid URL ({method} {path})")
            self.log(method, path, "", reply.status)
            return reply
        reply = self._api(endpoint, body, headers, host)
        self.log(method, path, endpoint, reply.status)
        return reply

    def _api(self, endpoint: str, body: bytes, headers: Any, host: str) -> Reply:
        if not self.bearer_ok(headers):
            return openai_error(*ERRORS["unauthorized"])
        fault = self.take_fault(endpoint)
        if fault is not None and fault.kind in ERRORS:
            return openai_error(*ERRORS[fault.kind])
        if fault is not None and fault.kind == "malformed":
            return Reply(200, MALFORMED_BODY)
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return openai_error(
                400, "invalid_request_error", None, "We could not parse the JSON body of your request."
            )
        if not isinstance(request, dict) or not request.get("model"):
            return openai_error(
                400, "invalid_request_error", None, "you must provide a model parameter", "model"
            )
        if endpoint == "chat":
            return self._chat(request)
        return self._image_generation(request, host)

    def _chat(self, request: dict[str, Any]) -> Reply:
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            return openai_error(
                400, "invalid_request_error", None, "'messages' must be a non-empty array", "messages"
            )
        content = messages[-1].get("content") if isinstance(messages[-1], dict) else ""
        if isinstance(content, list):
            text = " ".join(
                part.get("text", "")
                for part in content
                if isinstance(part, dict) and part.get("type") == "text"
            )
        else:
            text = str(content or "")
        instructions = text.rsplit("Instructions:", 1)[-1].strip() or "A fresh take"
        answer = {
            "headline": instructions.split(".")[0][:40].strip().title(),
            "text": f"{instructions[:110]} Shop now.",
            "image_prompt": f"A bright product photo for an ad about: {instructions[:200]}",
        }
        prompt_tokens = max(1, len(text) // 4)
        return json_reply(
            200,
            {
                "id": f"chatcmpl-{secrets.token_hex(12)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request["model"],
                "system_fingerprint": "fp_local",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": json.dumps(answer), "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": 60,
                    "total_tokens": prompt_tokens + 60,
                },
            },
        )

    def _image_generation(self, request: dict[str, Any], host: str) -> Reply:
        if not request.get("prompt"):
            return openai_error(
                400, "invalid_request_error", None, "'prompt' is a required property", "prompt"
            )
        url, png = self.store_image("/images", host=host)
        item: dict[str, Any] = {"revised_prompt": request["prompt"]}
        if request.get("response_format") == "b64_json":
            item["b64_json"] = base64.b64encode(png).decode()
        else:
            item["url"] = url
        return json_reply(200, {"created": int(time.time()), "data": [item]})


def main(argv: list[str] | None = None) -> int:
    """Run until Ctrl-C or SIGTERM. Exit codes: 0 clean stop, 1 cannot start."""
    parser = argparse.ArgumentParser(description="Local OpenAI-compatible API for tests and the demo.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty key)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    try:
        server = LocalOpenAIServer(
            api_key=args.api_key, host=args.host, port=args.port, verbose=args.verbose
        ).start()
    except OSError as exc:
        print(f"openai_server: cannot start: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"Local OpenAI-compatible server on {server.url} (OPENAI_BASE_URL={server.api_base})", flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
