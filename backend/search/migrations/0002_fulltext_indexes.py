"""GIN expression indexes for full-text search over AdSpark's tables (PostgreSQL only).

The expressions are a frozen copy of those in ``search/documents.py`` as they were when this
migration was written (migrations must not change when the code does). A query uses the index
only when it repeats the expression exactly; ``tests/search/test_search_index.py`` checks it.
On SQLite (the local default) nothing is created: search falls back to ``icontains``.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations
from django.db.models import F, Value
from django.db.models.functions import Replace


def _indexes():
    return [
        ("advertiser", GinIndex(
            SearchVector("name", weight="A", config="simple")
            + SearchVector("advertiser_id", weight="A", config="simple"),
            name="search_advertiser_fts",
        )),
        ("creative", GinIndex(
            SearchVector(
                "target_domain", Replace(F("target_domain"), Value("."), Value(" ")), weight="B", config="simple"
            )
            + SearchVector("ad_creative_id", weight="A", config="simple"),
            name="search_creative_fts",
        )),
        ("creativedetails", GinIndex(
            SearchVector("title", "headline", weight="B", config="simple")
            + SearchVector("snippet", Replace(F("visible_link"), Value("."), Value(" ")), weight="C", config="simple"),
            name="search_creativedetails_fts",
        )),
    ]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in _indexes():
        schema_editor.add_index(apps.get_model("AdSpark", model_name), index)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in _indexes():
        schema_editor.remove_index(apps.get_model("AdSpark", model_name), index)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
        ("AdSpark", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
