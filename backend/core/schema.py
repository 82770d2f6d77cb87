"""OpenAPI schema post-processing: every operation documents the errors it can answer.

drf-spectacular documents what a view declares (``200``, ``202``, a ``400`` here and there);
the errors that every DRF view may answer come from the framework and the middleware, so they
are added here, once, to each operation (a status an operation already declares is kept):

========= =================================================== ===============================
status    when                                                where
========= =================================================== ===============================
400       bad query parameters or body (field errors)         every operation
401       no or bad credentials                               operations that need auth
403       authenticated but not allowed; CSRF on session auth operations that need auth
404       unknown id, another user's object, page past end    every operation
413       body over the upload limit                          operations with a body
415       body in a media type the operation does not take    operations with a body
429       throttled (``Retry-After`` says when to retry)      every operation
503       Redis (broker, cache) unreachable                   every operation
========= =================================================== ===============================

Every error body is JSON: ``{"detail": "..."}`` or field errors ``{"field": ["..."]}``
(see core/middleware.py and core/exceptions.py).
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA_NAME = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": '``{"detail": "..."}``, or field errors ``{"<field>": ["...", ...]}``.',
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
_DESCRIPTIONS = {
    "400": "Invalid parameters or body: field errors.",
    "401": "Authentication credentials were not provided or are invalid.",
    "403": "Not allowed (or CSRF check failed on session auth).",
    "404": "Not found, not yours, or a page past the end.",
    "413": "The request body is larger than the server accepts.",
    "415": "Unsupported media type.",
    "429": "Throttled; Retry-After gives the seconds to wait.",
    "503": "A backing service (Redis) is unavailable; Retry-After gives the seconds to wait.",
}
_METHODS = ("get", "put", "post", "patch", "delete")


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry: add the error responses (see above)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_SCHEMA_NAME, ERROR_SCHEMA)
    error = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}}}
    for path_item in result.get("paths", {}).values():
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            codes = ["400", "404", "429", "503"]
            needs_auth = any(requirement for requirement in operation.get("security", [{}]))
            if needs_auth:
                codes += ["401", "403"]
            if "requestBody" in operation:
                codes += ["413", "415"]
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(code, {"description": _DESCRIPTIONS[code], "content": error})
    return result
