"""The full-text documents AdSpark search matches, one expression per table.

Each expression is used twice: by the GIN expression indexes of migration 0002 and by the
queries in :mod:`search.selectors`. PostgreSQL only uses an expression index when the query
repeats the indexed expression exactly, so changing one of these needs a new migration with
the same expression (``tests/search/test_search_index.py`` fails when they drift apart).

The ``simple`` text-search configuration is used throughout: advertiser names, domains and
ad copy are short, multilingual and full of brand names that English stemming would mangle.
Domains are indexed with their dots replaced by spaces too, so ``tesla`` finds ``tesla.com``.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVector
from django.db.models import F, Value
from django.db.models.functions import Replace

CONFIG = "simple"

# Advertiser: its name (weight A) and its id (AR + 20 digits).
ADVERTISER_DOCUMENT = SearchVector("name", weight="A", config=CONFIG) + SearchVector(
    "advertiser_id", weight="A", config=CONFIG
)

# Creative: the target domain (weight B; with and without dots) and its id.
CREATIVE_DOCUMENT = SearchVector(
    "target_domain", Replace(F("target_domain"), Value("."), Value(" ")), weight="B", config=CONFIG
) + SearchVector("ad_creative_id", weight="A", config=CONFIG)

# Creative details (ad copy of the first variation): title and headline B, snippet and the
# visible link C.
DETAILS_DOCUMENT = SearchVector("title", "headline", weight="B", config=CONFIG) + SearchVector(
    "snippet", Replace(F("visible_link"), Value("."), Value(" ")), weight="C", config=CONFIG
)

# The same text seen from a Creative row (advertiser and details joined), for ranking only.
CREATIVE_RANK_DOCUMENT = (
    SearchVector("advertiser__name", weight="A", config=CONFIG)
    + SearchVector("ad_creative_id", weight="A", config=CONFIG)
    + SearchVector(
        "target_domain", Replace(F("target_domain"), Value("."), Value(" ")), weight="B", config=CONFIG
    )
    + SearchVector("details__title", "details__headline", weight="B", config=CONFIG)
    + SearchVector("details__snippet", weight="C", config=CONFIG)
)

# (index name, app label, model name, document) — what migration 0002 creates.
INDEXES = [
    ("search_advertiser_fts", "AdSpark", "advertiser", ADVERTISER_DOCUMENT),
    ("search_creative_fts", "AdSpark", "creative", CREATIVE_DOCUMENT),
    ("search_creativedetails_fts", "AdSpark", "creativedetails", DETAILS_DOCUMENT),
]
