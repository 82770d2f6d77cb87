"""Reads for AdSpark: the querysets the API and other apps build on."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from .models import Advertiser, Creative, FetchRun


def creative_list() -> QuerySet[Creative]:
    """All creatives with their advertiser joined (newest ``last_shown`` first)."""
    return Creative.objects.select_related("advertiser")


def creative_get(ad_creative_id: str) -> QuerySet[Creative]:
    """A queryset for one creative with advertiser and details joined."""
    return Creative.objects.select_related("advertiser", "details").filter(pk=ad_creative_id)


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


def fetch_run_list(*, user: Any) -> QuerySet[FetchRun]:
    """The fetch runs ``user`` owns, newest first (staff too: like watches, variants and
    ``/api/tasks/{id}/``, another user's run is a 404 for everyone)."""
    return FetchRun.objects.filter(owner=user).order_by("-created_at")


def creative_search_q(term: str) -> Q:
    """A plain ``Q`` matching ``term`` in advertiser name or target domain (case-insensitive)."""
    return Q(advertiser__name__icontains=term) | Q(target_domain__icontains=term)
