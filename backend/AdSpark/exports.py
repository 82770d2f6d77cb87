"""Export of creatives as CSV or JSON, streamed row by row (any number of rows, no pagination).

The rows come from one queryset read with ``iterator(chunk_size=EXPORT_CHUNK_SIZE)`` (a
server-side cursor on PostgreSQL) with the advertiser joined, so memory stays flat and no row
costs a query of its own. Columns (:data:`COLUMNS`): the creative's fields as the API names
them, ``regions`` as region names and ``platforms`` (lists in JSON, ``"; "``-joined in CSV),
the archived image URLs (null/empty until the creative is archived) and, for a board, ``note``.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab
or carriage return: OWASP "CSV injection") are prefixed with ``'``: advertiser names, domains
and notes come from advertisers and users.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import Creative
from .regions import region_name

EXPORT_FORMATS = ("csv", "json")
# Rows fetched per round trip of the server-side cursor: 2,000 creatives are about 4 MB of
# Python objects (raw JSON included) and a round trip every ~20 ms of writing; Django's own
# default is 2,000 as well.
EXPORT_CHUNK_SIZE = 2000
COLUMNS = (
    "ad_creative_id",
    "advertiser_id",
    "advertiser_name",
    "format",
    "first_shown",
    "last_shown",
    "total_days_shown",
    "regions",
    "platforms",
    "target_domain",
    "details_link",
    "image_url",
    "archived_image_url",
    "archived_thumbnail_url",
)
NOTE_COLUMN = "note"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

URLBuilder = Callable[[str], str]


def _archived_url(creative: Creative, field_name: str, absolute: URLBuilder) -> str | None:
    """The absolute URL of an archived file of ``creative`` (the creative archive's
    ``archived_image`` / ``archived_thumbnail`` file fields), or None while there is none."""
    stored = getattr(creative, field_name, None)
    if not stored:
        return None
    try:
        return absolute(stored.url)
    except ValueError:  # a file field without a file
        return None


def creative_row(creative: Creative, *, absolute: URLBuilder) -> dict[str, Any]:
    """One export row of ``creative`` (its advertiser must be joined): :data:`COLUMNS` → value.

    ``absolute`` turns a media path into an absolute URL (``request.build_absolute_uri``).
    """
    return {
        "ad_creative_id": creative.ad_creative_id,
        "advertiser_id": creative.advertiser_id,
        "advertiser_name": creative.advertiser.name,
        "format": creative.format,
        "first_shown": creative.first_shown,
        "last_shown": creative.last_shown,
        "total_days_shown": creative.total_days_shown,
        "regions": [region_name(code) for code in creative.regions or []],
        "platforms": list(creative.platforms or []),
        "target_domain": creative.target_domain,
        "details_link": creative.details_link,
        "image_url": creative.image_url,
        "archived_image_url": _archived_url(creative, "archived_image", absolute),
        "archived_thumbnail_url": _archived_url(creative, "archived_thumbnail", absolute),
    }


def creative_rows(queryset: QuerySet[Creative], *, absolute: URLBuilder) -> Iterator[dict[str, Any]]:
    """Export rows of every creative of ``queryset``, streamed (advertisers joined here)."""
    for creative in queryset.select_related("advertiser").iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield creative_row(creative, absolute=absolute)


class _Echo:
    """A file-like object whose ``write`` returns what it got (csv.writer → a generator)."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        value = "; ".join(str(item) for item in value)
    elif isinstance(value, dt.datetime):
        return value.isoformat()
    elif value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(rows: Iterable[dict[str, Any]], *, columns: tuple[str, ...]) -> Iterator[str]:
    """The CSV text of ``rows`` (a header line, then one line per row), line by line."""
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([_csv_cell(row.get(column)) for column in columns])


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array of ``rows``, one element per chunk (datetimes as ISO-8601)."""
    yield "["
    for n, row in enumerate(rows):
        yield ("," if n else "") + json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False)
    yield "]\n"


def export_response(
    rows: Iterable[dict[str, Any]],
    *,
    export_format: str,
    filename_stem: str,
    columns: tuple[str, ...] = COLUMNS,
) -> StreamingHttpResponse:
    """A streaming download of ``rows``: ``<filename_stem>-YYYYMMDD.csv`` or ``.json``.

    Raises:
        ValueError: ``export_format`` is not one of :data:`EXPORT_FORMATS`.
    """
    if export_format not in EXPORT_FORMATS:
        raise ValueError(export_format)
    day = timezone.now().strftime("%Y%m%d")
    if export_format == "csv":
        response = StreamingHttpResponse(
            csv_lines(rows, columns=columns), content_type="text/csv; charset=utf-8"
        )
    else:
        response = StreamingHttpResponse(json_chunks(rows), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename_stem}-{day}.{export_format}"'
    return response
