"""Validation and normalisation of an Ads Transparency Center query, before any request.

The same rules serve the fetch API, ``fetch_creatives_task``, the ``ads_fetch_creatives``
command and watches, so a query that passes here is one SerpApi accepts. Rules follow
SerpApi's parameter spec for ``engine=google_ads_transparency_center``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

from core.text import echo, text_clean

from .regions import UnknownRegionError, normalize_region

ENGINE_LIST = "google_ads_transparency_center"
ENGINE_DETAILS = "google_ads_transparency_center_ad_details"

# ASCII digits only: \d would also match Arabic-Indic, fullwidth or Devanagari digits, which
# SerpApi does not know. Use fullmatch (``$`` would let a trailing newline through).
ADVERTISER_ID_RE = re.compile(r"AR[0-9]{20}")
CREATIVE_ID_RE = re.compile(r"CR[0-9]{20}")
PLATFORMS = ("PLAY", "MAPS", "SEARCH", "SHOPPING", "YOUTUBE")
CREATIVE_FORMATS = ("text", "image", "video")
MAX_TEXT_LENGTH = 200
MAX_ADVERTISER_IDS = 50
# SerpApi documents num up to 100 results per page.
MAX_NUM = 100
MAX_PAGES_LIMIT = 100


@dataclass(frozen=True)
class QueryField:
    """One field of a query: the spec the API serializers, the task and the command build on.

    ``kind`` says how it is given: ``"ids"`` (advertiser ids, a list or a comma-separated
    string), ``"text"``, ``"choice"`` (one of ``choices``), ``"date"`` (``YYYYMMDD`` or
    ``YYYY-MM-DD``), ``"bool"`` or ``"int"`` (``min_value``..``max_value``). ``max_length``
    bounds a text (characters, after whitespace is collapsed). ``help`` is the API's and the
    command's help text. :func:`normalize_fetch_params` enforces the same limits.
    """

    name: str
    kind: str
    help: str
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None


# The query's fields, in one place: the fetch API, watch and search serializers
# (AdSpark.serializers.query_serializer_fields), the task's keyword arguments (a test holds
# fetch_creatives_task's signature to these names) and the management command's options.
QUERY_SPEC: tuple[QueryField, ...] = (
    QueryField(
        "advertiser_ids", "ids", "Advertiser ids (AR + 20 digits): a list or a comma-separated string."
    ),
    QueryField("text", "text", "Free text or a domain, e.g. tesla.com.", max_length=MAX_TEXT_LENGTH),
    QueryField("region", "text", 'ISO letters ("US") or a geo code ("2840").'),
    QueryField("platform", "choice", "Only ads shown on this platform.", choices=PLATFORMS),
    QueryField("creative_format", "choice", "Only ads of this format.", choices=CREATIVE_FORMATS),
    QueryField("start_date", "date", "Shown on or after this day: YYYYMMDD or YYYY-MM-DD."),
    QueryField("end_date", "date", "Shown on or before this day: YYYYMMDD or YYYY-MM-DD."),
    QueryField("political_ads", "bool", "Political ads only (needs a region)."),
    QueryField("num", "int", f"Results per page, 1-{MAX_NUM}.", min_value=1, max_value=MAX_NUM),
    QueryField(
        "max_pages",
        "int",
        "Pages to follow at most (default SERPAPI_MAX_PAGES).",
        min_value=1,
        max_value=MAX_PAGES_LIMIT,
    ),
)
QUERY_FIELD_SPECS: dict[str, QueryField] = {spec.name: spec for spec in QUERY_SPEC}
QUERY_FIELDS: tuple[str, ...] = tuple(QUERY_FIELD_SPECS)
# What a watch stores of a query (its page size is SERPAPI_PAGE_SIZE at run time).
WATCH_QUERY_FIELDS: tuple[str, ...] = tuple(name for name in QUERY_FIELDS if name != "num")

_KNOWN = {*QUERY_FIELDS, "advertiser_id"}


class FetchParamsError(ValueError):
    """Invalid query parameters; ``errors`` maps each field to its messages.

    ``errors`` is shaped like a DRF validation error: ``{"region": ["Unknown region 'XX' …"]}``;
    errors that concern no single field are under ``"non_field_errors"``.
    """

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class FetchQuery:
    """A validated query: what to ask SerpApi and how many pages to follow.

    ``advertiser_ids`` are ``AR`` + 20 digits; ``region`` is a numeric geo code string
    (``"2840"``) or None for anywhere; dates are ``YYYYMMDD`` strings; ``num`` is results per
    page (1-100); ``max_pages`` bounds pagination.
    """

    advertiser_ids: tuple[str, ...] = ()
    text: str = ""
    region: str | None = None
    platform: str | None = None
    creative_format: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    political_ads: bool = False
    num: int = field(default=MAX_NUM)
    max_pages: int = 1

    def serpapi_params(self) -> dict[str, str]:
        """Return the request parameters for ``engine=google_ads_transparency_center``."""
        params: dict[str, str] = {"engine": ENGINE_LIST, "num": str(self.num)}
        if self.advertiser_ids:
            params["advertiser_id"] = ",".join(self.advertiser_ids)
        if self.text:
            params["text"] = self.text
        if self.region:
            params["region"] = self.region
        if self.platform:
            params["platform"] = self.platform
        if self.creative_format:
            params["creative_format"] = self.creative_format
        if self.start_date:
            params["start_date"] = self.start_date
        if self.end_date:
            params["end_date"] = self.end_date
        if self.political_ads:
            params["political_ads"] = "true"
        return params

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict that :func:`normalize_fetch_params` accepts back."""
        data = asdict(self)
        data["advertiser_ids"] = list(self.advertiser_ids)
        return data

    def fingerprint(self) -> str:
        """Return a stable SHA-256 hex digest of the query (same query → same digest)."""
        payload = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()


def _parse_date(value: Any) -> str:
    text = str(value).strip().replace("-", "")
    if not re.fullmatch(r"[0-9]{8}", text):
        raise ValueError("Use the format YYYYMMDD (or YYYY-MM-DD).")
    try:
        dt.datetime.strptime(text, "%Y%m%d")
    except ValueError as exc:
        raise ValueError(f"{echo(value)} is not a real date.") from exc
    return text


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("Must be true or false.")


def _parse_int(value: Any, *, spec: QueryField) -> int:
    low, high = spec.min_value, spec.max_value
    assert low is not None and high is not None, f"{spec.name} has no bounds"
    if isinstance(value, bool) or not re.fullmatch(r"[+-]?[0-9]+", str(value).strip()):
        raise ValueError("Must be an integer.")
    number = int(str(value).strip())
    if not low <= number <= high:
        raise ValueError(f"Must be between {low} and {high}.")
    return number


def _advertiser_ids(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, (list, tuple)):
        parts = [str(part) for part in value]
    else:
        raise ValueError("Give advertiser IDs as a comma-separated list.")
    ids: list[str] = []
    for part in parts:
        advertiser_id = part.strip()
        if not advertiser_id:
            continue
        if not ADVERTISER_ID_RE.fullmatch(advertiser_id):
            raise ValueError(
                f"{echo(advertiser_id)} is not an advertiser ID (AR followed by 20 digits, "
                "e.g. AR17828074650563772417)."
            )
        if advertiser_id not in ids:
            ids.append(advertiser_id)
    if len(ids) > MAX_ADVERTISER_IDS:
        raise ValueError(f"At most {MAX_ADVERTISER_IDS} advertiser IDs per query.")
    return tuple(ids)


def normalize_fetch_params(raw: Mapping[str, Any], *, allow_unknown: bool = False) -> FetchQuery:
    """Validate and normalise raw query parameters into a :class:`FetchQuery`.

    ``raw`` may use ``advertiser_ids`` or SerpApi's ``advertiser_id`` (a string of
    comma-separated ids or a list), ``region`` as ISO letters or a geo code, dates as
    ``YYYYMMDD`` or ``YYYY-MM-DD``. ``None`` and ``""`` mean "not given". Defaults: ``num``
    from ``SERPAPI_PAGE_SIZE``, ``max_pages`` from ``SERPAPI_MAX_PAGES``.

    Raises:
        FetchParamsError: every problem found, by field.
    """
    errors: dict[str, list[str]] = {}

    def fail(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    values = {key: value for key, value in raw.items() if value is not None and value != ""}
    if not allow_unknown:
        for key in sorted(set(values) - _KNOWN):
            fail(key, "Unknown parameter.")

    advertiser_ids: tuple[str, ...] = ()
    id_key = "advertiser_ids" if "advertiser_ids" in values else "advertiser_id"
    if id_key in values:
        try:
            advertiser_ids = _advertiser_ids(values[id_key])
        except ValueError as exc:
            fail(id_key, str(exc))

    text = ""
    if "text" in values:
        try:
            text = " ".join(text_clean(values["text"]).split())
        except ValueError as exc:
            fail("text", str(exc))
        limit = QUERY_FIELD_SPECS["text"].max_length
        if limit is not None and len(text) > limit:
            fail("text", f"At most {limit} characters.")

    region = None
    if "region" in values:
        try:
            region = normalize_region(values["region"])
        except UnknownRegionError as exc:
            fail("region", str(exc))

    platform = None
    if "platform" in values:
        platform = str(values["platform"]).strip().upper()
        if platform not in PLATFORMS:
            fail("platform", f"Must be one of {', '.join(PLATFORMS)}.")

    creative_format = None
    if "creative_format" in values:
        creative_format = str(values["creative_format"]).strip().lower()
        if creative_format not in CREATIVE_FORMATS:
            fail("creative_format", f"Must be one of {', '.join(CREATIVE_FORMATS)}.")

    dates: dict[str, str | None] = {"start_date": None, "end_date": None}
    for key in dates:
        if key in values:
            try:
                dates[key] = _parse_date(values[key])
            except ValueError as exc:
                fail(key, str(exc))
    if dates["start_date"] and dates["end_date"] and dates["start_date"] > dates["end_date"]:
        fail("end_date", "Must be on or after the start date.")

    political_ads = False
    if "political_ads" in values:
        try:
            political_ads = _parse_bool(values["political_ads"])
        except ValueError as exc:
            fail("political_ads", str(exc))
        if political_ads and "region" not in values:
            fail("political_ads", "Political ads can only be searched with a region.")

    num = min(settings.SERPAPI_PAGE_SIZE, MAX_NUM)
    if "num" in values:
        try:
            num = _parse_int(values["num"], spec=QUERY_FIELD_SPECS["num"])
        except ValueError as exc:
            fail("num", str(exc))

    max_pages = settings.SERPAPI_MAX_PAGES
    if "max_pages" in values:
        try:
            max_pages = _parse_int(values["max_pages"], spec=QUERY_FIELD_SPECS["max_pages"])
        except ValueError as exc:
            fail("max_pages", str(exc))

    if not advertiser_ids and not text and id_key not in errors and "text" not in errors:
        fail("non_field_errors", "Give at least one advertiser ID or some text to search for.")

    if errors:
        raise FetchParamsError(errors)
    return FetchQuery(
        advertiser_ids=advertiser_ids,
        text=text,
        region=region,
        platform=platform,
        creative_format=creative_format,
        start_date=dates["start_date"],
        end_date=dates["end_date"],
        political_ads=political_ads,
        num=num,
        max_pages=max_pages,
    )


def validate_creative_ref(*, advertiser_id: str, ad_creative_id: str, region: Any = None) -> dict:
    """Validate a creative reference for the ad-details engine.

    Returns ``{"engine", "advertiser_id", "creative_id"[, "region"]}`` request parameters.

    Raises:
        FetchParamsError: a malformed id or unknown region.
    """
    errors: dict[str, list[str]] = {}
    if not ADVERTISER_ID_RE.fullmatch(advertiser_id or ""):
        errors["advertiser_id"] = ["Must be AR followed by 20 digits."]
    if not CREATIVE_ID_RE.fullmatch(ad_creative_id or ""):
        errors["ad_creative_id"] = ["Must be CR followed by 20 digits."]
    params = {"engine": ENGINE_DETAILS, "advertiser_id": advertiser_id, "creative_id": ad_creative_id}
    if region not in (None, ""):
        try:
            params["region"] = normalize_region(region)
        except UnknownRegionError as exc:
            errors["region"] = [str(exc)]
    if errors:
        raise FetchParamsError(errors)
    return params
