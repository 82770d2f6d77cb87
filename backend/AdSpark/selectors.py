"""Reads for AdSpark: the querysets the API and other apps build on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet

from .models import Advertiser, Creative, FetchRun


def creative_list() -> QuerySet[Creative]:
    """All creatives with their advertiser joined (newest ``last_shown`` first)."""
    return Creative.objects.select_related("advertiser")


def creatives_in_json_list(queryset: QuerySet[Creative], field: str, value: str) -> QuerySet[Creative]:
    """Filter ``queryset`` to rows whose JSON list ``field`` contains the string ``value``.

    PostgreSQL uses jsonb containment (``@>``); SQLite, which has no such operator in
    Django, matches the quoted value in the JSON text.
    """
    if connection.vendor == "postgresql":
        return queryset.filter(**{f"{field}__contains": [value]})
    return queryset.filter(**{f"{field}__icontains": f'"{value}"'})


def advertiser_list() -> QuerySet[Advertiser]:
    """All advertisers with ``creative_count``."""
    return Advertiser.objects.annotate(creative_count=Count("creatives"))


def advertiser_names(advertiser_ids: Iterable[str]) -> dict[str, str]:
    """``{advertiser_id: name}`` of the stored advertisers among ``advertiser_ids`` that have a
    name (one query; unknown or unnamed ids are left out)."""
    ids = set(advertiser_ids)
    if not ids:
        return {}
    return dict(
        Advertiser.objects.filter(advertiser_id__in=ids).exclude(name="").values_list("advertiser_id", "name")
    )


def fetch_run_list(*, user: Any) -> QuerySet[FetchRun]:
    """The fetch runs ``user`` owns, newest first (staff too: like watches, variants and
    ``/api/tasks/{id}/``, another user's run is a 404 for everyone)."""
    return FetchRun.objects.filter(owner=user).order_by("-created_at")
