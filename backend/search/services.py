"""Writes for search: the user's history, a fetch started from a search, a watch saved from one."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from AdSpark.explain import FORMAT_WORDS, PLATFORM_WORDS
from AdSpark.models import FetchRun
from AdSpark.queries import FetchParamsError, normalize_fetch_params
from AdSpark.regions import region_name_or_none
from AdSpark.selectors import advertiser_names
from AdSpark.services import fetch_run_create

from .models import SearchHistoryEntry
from .selectors import is_advertiser_id

# Entries kept per user; older ones are dropped when a new search is recorded.
HISTORY_LIMIT = 100

# Creative-list filter names (``AdSpark.filters.CreativeFilter``) → fetch/watch query fields.
_FILTER_TO_QUERY = {"region": "region", "platform": "platform", "creative_format": "creative_format"}


def search_history_record(
    *, user: Any, q: str, filters: dict[str, str], result_count: int
) -> SearchHistoryEntry:
    """Remember that ``user`` searched ``q`` with ``filters`` and found ``result_count`` creatives.

    Repeating any earlier search (same text, case and spacing aside, and same filters) moves
    that entry to the top with the new time and count instead of adding another, so the
    history holds each search once; only the newest ``HISTORY_LIMIT`` entries per user are kept.
    """
    now = timezone.now()
    with transaction.atomic():
        same = [
            entry
            for entry in SearchHistoryEntry.objects.select_for_update()
            .filter(owner=user, q__iexact=q)
            .order_by("-searched_at", "-id")
            if entry.filters == filters
        ]
        if same:
            latest, duplicates = same[0], same[1:]
            latest.q = q
            latest.searched_at = now
            latest.result_count = result_count
            latest.save(update_fields=["q", "searched_at", "result_count"])
            if duplicates:  # rows recorded before searches were deduplicated
                SearchHistoryEntry.objects.filter(pk__in=[entry.pk for entry in duplicates]).delete()
            return latest
        entry = SearchHistoryEntry.objects.create(
            owner=user, q=q, filters=filters, result_count=result_count, searched_at=now
        )
        stale = SearchHistoryEntry.objects.filter(owner=user).order_by("-searched_at", "-id")[HISTORY_LIMIT:]
        SearchHistoryEntry.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return entry


def search_query_params(*, q: str, filters: dict[str, Any]) -> dict[str, Any]:
    """The Ads Transparency Center query a search stands for, as raw fetch parameters.

    ``q`` made only of advertiser ids (``AR`` + 20 digits, comma- or space-separated) becomes
    ``advertiser_ids``; anything else is the free ``text`` (a name, keyword or domain).
    Creative-list filters ``region``, ``platform`` and ``format`` carry over; the shown-date
    filters do not (SerpApi's date window means something else: when the ad ran at all).
    """
    words = q.replace(",", " ").split()
    params: dict[str, Any] = {}
    if words and all(is_advertiser_id(word) for word in words):
        params["advertiser_ids"] = [word.upper() for word in words]
    else:
        params["text"] = q.strip()
    for filter_name, field in _FILTER_TO_QUERY.items():
        if filters.get(filter_name):
            params[field] = filters[filter_name]
    return params


def search_fetch_start(
    *, user: Any, q: str, filters: dict[str, Any], max_pages: int | None = None
) -> FetchRun:
    """Start a fetch from SerpApi for a search (typically one that found nothing locally).

    Returns the pending :class:`FetchRun` (its task is enqueued after commit).

    Raises:
        FetchParamsError: the search does not make a valid query (errors by field; ``text``
            errors concern ``q``).
    """
    params = search_query_params(q=q, filters=filters)
    if max_pages is not None:
        params["max_pages"] = max_pages
    query = normalize_fetch_params(params)
    with transaction.atomic():
        return fetch_run_create(owner=user, query=query)


def search_watch_data(
    *, q: str, filters: dict[str, Any], name: str = "", **watch_fields: Any
) -> dict[str, Any]:
    """The body of a watch that re-runs the search ``q`` (with ``filters``) on SerpApi.

    Shaped like ``POST /api/adspark/watches/`` takes it (validated there by the watches
    serializer); ``watch_fields`` (interval_minutes, notify_email, webhook_url, …) pass through.
    The advertiser comes from the search itself, never from a default.
    """
    return {
        **search_query_params(q=q, filters=filters),
        **watch_fields,
        "name": name or default_watch_name(q=q, filters=filters),
    }


def default_watch_name(*, q: str, filters: dict[str, Any]) -> str:
    """A readable name for a watch saved from a search: what it watches and where, e.g.
    ``Tesla, Inc. in United States`` (advertiser ids by their stored names),
    ``“running shoes” in Canada``, ``“tesla.com” in all regions (text ads)``."""
    params = search_query_params(q=q, filters=filters)
    ids = params.get("advertiser_ids") or []
    if ids:
        names = advertiser_names(ids)
        labels = [names.get(advertiser_id, advertiser_id) for advertiser_id in ids]
        who = labels[0] if len(labels) == 1 else f"{labels[0]} +{len(labels) - 1} more"
    else:
        who = f"“{params.get('text', q.strip())}”"
    where = region_name_or_none(str(filters.get("region") or "")) or "all regions"
    extras = (
        [FORMAT_WORDS.get(str(filters.get("creative_format")), "")] if filters.get("creative_format") else []
    )
    if filters.get("platform"):
        extras.append(PLATFORM_WORDS.get(str(filters["platform"]).upper(), str(filters["platform"])))
    suffix = f" ({', '.join(e for e in extras if e)})" if extras else ""
    return f"{who} in {where}{suffix}"[:200]


__all__ = [
    "FetchParamsError",
    "default_watch_name",
    "search_fetch_start",
    "search_history_record",
    "search_query_params",
    "search_watch_data",
]
