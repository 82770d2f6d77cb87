"""Reads for watches: the querysets the watch API builds on."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ..models import Creative, Watch, WatchCreative, WatchRun
from ..selectors import creative_list


def watch_list(*, user: Any) -> QuerySet[Watch]:
    """The watches ``user`` owns (staff too: another user's watch is a 404 for everyone)."""
    return Watch.objects.filter(owner=user).select_related("last_run")


def watch_run_list(*, watch: Watch) -> QuerySet[WatchRun]:
    """A watch's runs, newest first."""
    return WatchRun.objects.filter(watch=watch).order_by("-created_at", "-id")


def watch_run_list_for_user(*, user: Any) -> QuerySet[WatchRun]:
    """The runs of the watches ``user`` owns, newest first (another user's run is a 404)."""
    return WatchRun.objects.filter(watch__owner=user).order_by("-created_at", "-id")


def watch_seen_list(
    *, watch: Watch, watch_run_id: int | None = None, include_baseline: bool = False
) -> QuerySet[WatchCreative]:
    """Creatives new to ``watch`` (newest first); baseline ones only if ``include_baseline``."""
    seen = WatchCreative.objects.filter(watch=watch)
    if watch_run_id is not None:
        seen = seen.filter(first_run_id=watch_run_id)
    elif not include_baseline:
        seen = seen.filter(from_baseline=False)
    return seen.order_by("-first_seen_by_watch", "ad_creative_id")


def creatives_for_seen(seen: list[WatchCreative]) -> list[Creative]:
    """The stored creatives of ``seen`` rows, in their order, each annotated with
    ``first_seen_by_watch`` and ``watch_run``; rows whose creative was cleaned up are skipped."""
    # creative_list: advertiser and archive joined, duplicate_count annotated (no query per row)
    creatives = creative_list().in_bulk([row.ad_creative_id for row in seen])
    result = []
    for row in seen:
        creative = creatives.get(row.ad_creative_id)
        if creative is None:
            continue
        creative.first_seen_by_watch = row.first_seen_by_watch  # type: ignore[attr-defined]
        creative.watch_run = row.first_run_id  # type: ignore[attr-defined]
        result.append(creative)
    return result
