"""Pure mapping from SerpApi JSON to AdSpark's model fields (no database access).

Shapes vary by format and era (see shared/fixtures/serpapi/README.md): ``image``/``width``/
``height`` may be missing, or only one of width/height; video (and some text/image) items carry
``link`` (a JavaScript preview) instead of ``image``; 2025 items lack ``serpapi_details_link``
and ``target_domain``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .models import CreativeFormat

_FORMATS = frozenset(CreativeFormat.values)  # computed once: .values builds a list per call


class ParseError(ValueError):
    """An ``ad_creatives`` item lacks a field AdSpark cannot do without (ids)."""


def from_unix(value: Any) -> dt.datetime | None:
    """Unix seconds (int, float or digit string) → aware UTC datetime; None if absent/invalid."""
    if value in (None, "") or isinstance(value, bool):
        return None
    try:
        return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def from_yyyymmdd(value: Any) -> dt.datetime | None:
    """A YYYYMMDD integer (ad details' ``regions[].last_shown``) → aware UTC midnight."""
    try:
        day = dt.datetime.strptime(str(int(value)), "%Y%m%d")
    except (TypeError, ValueError):
        return None
    return day.replace(tzinfo=dt.UTC)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


@dataclass
class CreativeRecord:
    """One parsed ``ad_creatives[]`` item, ready to upsert (fields as on the models)."""

    ad_creative_id: str
    advertiser_id: str
    advertiser_name: str
    format: str
    image_url: str
    preview_url: str
    width: int | None
    height: int | None
    target_domain: str
    first_shown: dt.datetime | None
    last_shown: dt.datetime | None
    total_days_shown: int | None
    details_link: str
    serpapi_details_link: str
    raw: dict[str, Any]


def parse_creative(item: dict[str, Any]) -> CreativeRecord:
    """Map one SerpApi ``ad_creatives[]`` item to a :class:`CreativeRecord`.

    Unknown formats are kept as ``text`` only if SerpApi omits ``format``; any other value
    must be text/image/video.

    Raises:
        ParseError: ``ad_creative_id`` or ``advertiser_id`` is missing, or the format is unknown.
    """
    creative_id = str(item.get("ad_creative_id") or "").strip()
    advertiser_id = str(item.get("advertiser_id") or "").strip()
    if not creative_id or not advertiser_id:
        raise ParseError(f"ad_creatives item without ad_creative_id/advertiser_id: {item!r:.200}")
    creative_format = str(item.get("format") or CreativeFormat.TEXT).lower()
    if creative_format not in _FORMATS:
        raise ParseError(f"{creative_id}: unknown format {creative_format!r}")
    return CreativeRecord(
        ad_creative_id=creative_id,
        advertiser_id=advertiser_id,
        advertiser_name=str(item.get("advertiser") or ""),
        format=creative_format,
        image_url=str(item.get("image") or ""),
        preview_url=str(item.get("link") or ""),
        width=_positive_int(item.get("width")),
        height=_positive_int(item.get("height")),
        target_domain=str(item.get("target_domain") or "")[:255],
        first_shown=from_unix(item.get("first_shown")),
        last_shown=from_unix(item.get("last_shown")),
        total_days_shown=_positive_int(item.get("total_days_shown")),
        details_link=str(item.get("details_link") or ""),
        serpapi_details_link=str(item.get("serpapi_details_link") or ""),
        raw=item,
    )


def parse_details(data: dict[str, Any]) -> dict[str, Any]:
    """Map an ad-details response to :class:`~AdSpark.models.CreativeDetails` field values.

    Returns a dict with ``format``, ``title``, ``headline``, ``snippet``, ``visible_link``,
    ``call_to_action``, ``ad_funded_by``, ``variations`` (SerpApi's ``ad_creatives`` list as is),
    ``regions`` (``search_information.regions``), ``last_shown`` (from Unix seconds),
    ``no_results`` (the response carried a top-level ``error``) and ``raw`` (the response).
    Copy fields come from the first variation that has them.
    """
    info = data.get("search_information") or {}
    variations = [v for v in data.get("ad_creatives") or [] if isinstance(v, dict)]

    def first(*keys: str) -> str:
        for variation in variations:
            for key in keys:
                value = variation.get(key)
                if value:
                    return str(value)
        return ""

    return {
        "format": str(info.get("format") or ""),
        "title": first("title"),
        "headline": first("headline", "long_headline"),
        "snippet": first("snippet", "description"),
        "visible_link": first("visible_link", "displayed_link")[:255],
        "call_to_action": first("call_to_action")[:255],
        "ad_funded_by": str(info.get("ad_funded_by") or first("ad_funded_by"))[:255],
        "variations": variations,
        "regions": [r for r in info.get("regions") or [] if isinstance(r, dict)],
        "last_shown": from_unix(info.get("last_shown")),
        "no_results": bool(data.get("error")) and not variations,
        "raw": data,
    }
