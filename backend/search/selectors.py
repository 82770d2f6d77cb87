"""Reads for search: advertisers and creatives matching a user's text, best first.

On PostgreSQL the text is matched with full-text search (the documents of
:mod:`search.documents`, served by GIN indexes) and ranked with ``ts_rank``; every word of the
query must match, the last one as a prefix (search-as-you-type). On SQLite — the embedded
local default, which has no full-text search in Django — each word must occur
(``icontains``) in one of the same fields, and results are ordered by ``last_shown``.
"""

from __future__ import annotations

import re
from functools import reduce
from operator import and_
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Count, FloatField, Q, QuerySet, Value

from AdSpark.models import Advertiser, Creative, CreativeDetails
from AdSpark.queries import ADVERTISER_ID_RE
from AdSpark.selectors import creative_list

from .documents import (
    ADVERTISER_DOCUMENT,
    CONFIG,
    CREATIVE_DOCUMENT,
    CREATIVE_RANK_DOCUMENT,
    DETAILS_DOCUMENT,
)
from .models import SearchHistoryEntry

# Words of a query beyond this are ignored: nobody types more, and each one is an AND term.
MAX_TERMS = 8


def search_terms(q: str) -> list[str]:
    """Split ``q`` into lower-case words (letters and digits only), at most ``MAX_TERMS``."""
    return re.findall(r"[^\W_]+", q.lower())[:MAX_TERMS]


def uses_full_text() -> bool:
    """True when the database has PostgreSQL full-text search."""
    return connection.vendor == "postgresql"


def _ts_query(terms: list[str]) -> SearchQuery:
    # Terms are letters and digits only, so the raw tsquery syntax cannot be injected.
    raw = " & ".join(f"{term}:*" for term in terms)
    return SearchQuery(raw, search_type="raw", config=CONFIG)


def _all_terms_in(terms: list[str], fields: list[str]) -> Q:
    return reduce(
        and_, (reduce(lambda a, b: a | b, (Q(**{f"{f}__icontains": t}) for f in fields)) for t in terms)
    )


def advertiser_search(*, q: str) -> QuerySet[Advertiser]:
    """Advertisers whose name or id matches ``q``, annotated with ``rank`` (None on SQLite)
    and ``creative_count``; best first. Empty for a query without words."""
    terms = search_terms(q)
    advertisers = Advertiser.objects.annotate(creative_count=Count("creatives"))
    if not terms:
        return advertisers.none()
    if uses_full_text():
        query = _ts_query(terms)
        return (
            advertisers.alias(document=ADVERTISER_DOCUMENT)
            .filter(document=query)
            .annotate(rank=SearchRank(ADVERTISER_DOCUMENT, query))
            .order_by("-rank", "name", "advertiser_id")
        )
    return (
        advertisers.filter(_all_terms_in(terms, ["name", "advertiser_id"]))
        .annotate(rank=Value(None, output_field=FloatField()))
        .order_by("name", "advertiser_id")
    )


def creative_search(*, q: str) -> QuerySet[Creative]:
    """Creatives matching ``q`` in their advertiser's name or id, their own id or target
    domain, or their ad copy (details title, headline, snippet, visible link); annotated with
    ``rank`` (None on SQLite), best first, then most recently shown. Advertiser and details
    are joined. Empty for a query without words."""
    terms = search_terms(q)
    creatives = creative_list().select_related("details")
    if not terms:
        return creatives.none()
    if uses_full_text():
        query = _ts_query(terms)
        # Each table is matched through its own GIN index; the creative rows are then ranked
        # on the joined text. Whole-document matching per table means all words must occur
        # in one table's text (e.g. "tesla model" in the ad copy, or "tesla" in the name).
        advertisers = Advertiser.objects.alias(document=ADVERTISER_DOCUMENT).filter(document=query)
        details = CreativeDetails.objects.alias(document=DETAILS_DOCUMENT).filter(document=query)
        own = Creative.objects.alias(document=CREATIVE_DOCUMENT).filter(document=query)
        return (
            creatives.filter(
                Q(advertiser_id__in=advertisers.values("advertiser_id"))
                | Q(ad_creative_id__in=details.values("creative_id"))
                | Q(ad_creative_id__in=own.values("ad_creative_id"))
            )
            .annotate(rank=SearchRank(CREATIVE_RANK_DOCUMENT, query))
            .order_by("-rank", "-last_shown", "ad_creative_id")
        )
    fields = [
        "advertiser__name",
        "advertiser__advertiser_id",
        "ad_creative_id",
        "target_domain",
        "details__title",
        "details__headline",
        "details__snippet",
        "details__visible_link",
    ]
    return (
        creatives.filter(_all_terms_in(terms, fields))
        .annotate(rank=Value(None, output_field=FloatField()))
        .order_by("-last_shown", "ad_creative_id")
    )


def search_history_list(*, user: Any) -> QuerySet[SearchHistoryEntry]:
    """``user``'s search history, newest first."""
    return SearchHistoryEntry.objects.filter(owner_id=user.pk).order_by("-searched_at", "-id")


def is_advertiser_id(q: str) -> bool:
    """True when ``q`` is one advertiser id (``AR`` + 20 digits)."""
    return bool(ADVERTISER_ID_RE.fullmatch(q.strip().upper()))
