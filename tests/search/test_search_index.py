"""The GIN expression indexes of search/migrations/0002 serve the queries of search.selectors."""

from __future__ import annotations

import pytest
from django.db import connection

from AdSpark.models import Advertiser, Creative, CreativeDetails
from search.documents import ADVERTISER_DOCUMENT, CREATIVE_DOCUMENT, DETAILS_DOCUMENT, INDEXES
from search.selectors import _ts_query

pytestmark = pytest.mark.django_db


def plan(queryset) -> str:  # type: ignore[no-untyped-def]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


@pytest.mark.parametrize(
    ("model", "document", "index_name"),
    [
        (Advertiser, ADVERTISER_DOCUMENT, "search_advertiser_fts"),
        (Creative, CREATIVE_DOCUMENT, "search_creative_fts"),
        (CreativeDetails, DETAILS_DOCUMENT, "search_creativedetails_fts"),
    ],
)
def test_it_matches_each_table_through_its_gin_index(model, document, index_name) -> None:  # type: ignore[no-untyped-def]
    query = _ts_query(["tesla"])

    explained = plan(model.objects.alias(document=document).filter(document=query))

    assert index_name in explained, explained


def test_every_document_has_an_index_in_the_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'search_%%_fts'")
        found = dict(cursor.fetchall())

    assert set(found) == {name for name, *_ in INDEXES}
    assert all("USING gin" in definition for definition in found.values())
