"""Request body parsers: DRF's JSON parser with a bound on nesting depth."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No AdSpark body nests deeper than 3 (a watch's advertiser_ids list inside the object); 32
# leaves room for any client and stays far below Python's recursion limit (1000), which a
# deeper body would hit inside json.loads and turn into a 500.
MAX_JSON_DEPTH = 32


def json_depth(value: Any) -> int:
    """Return how deeply ``value`` (parsed JSON) nests: a scalar is 0, ``[]`` or ``{}`` is 1."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
            deepest = max(deepest, depth + 1)
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
            deepest = max(deepest, depth + 1)
    return deepest


class JSONParser(parsers.JSONParser):
    """``application/json`` bodies; nesting beyond :data:`MAX_JSON_DEPTH` is a 400.

    Raises:
        ParseError: malformed JSON, or JSON nested too deeply (also when it is deep enough to
            exhaust the parser's recursion).
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data
