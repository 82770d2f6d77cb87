"""DRF's exception handler, with error messages bounded in length.

Messages that quote the caller's value (DRF's ``"…" is not a valid choice.``, ours via
:func:`core.text.echo`) would otherwise send a 2 MB value straight back.
"""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# Longest error message returned (characters); ours are far shorter.
MAX_MESSAGE_LENGTH = 300


def _bounded(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_MESSAGE_LENGTH:
        return value[: MAX_MESSAGE_LENGTH - 1] + "…"
    if isinstance(value, dict):
        return {key: _bounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_bounded(item) for item in value]
    return value


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler; the body is always an object and every message is cut to
    :data:`MAX_MESSAGE_LENGTH` characters."""
    response = drf_exception_handler(exc, context)
    if response is not None:
        # A ValidationError raised with a list (a filter, a hand-raised one) is not about one
        # field: give it the shape of every other error body, an object.
        data = {"non_field_errors": response.data} if isinstance(response.data, list) else response.data
        response.data = _bounded(data)
    return response
