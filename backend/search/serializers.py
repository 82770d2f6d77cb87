"""API shapes for search: results, history, and the bodies of fetch / save-as-watch."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from AdSpark.models import Watch
from AdSpark.queries import MAX_TEXT_LENGTH
from AdSpark.regions import region_name_or_none
from AdSpark.serializers import AdvertiserSerializer, CreativeSerializer, QueryFieldsMixin
from core.text import ASCIIIntegerField, CleanCharField, StrictBooleanField

from .models import SearchHistoryEntry

# ``q`` becomes the query's text (or its advertiser ids): the text's limit applies.
MAX_Q_LENGTH = MAX_TEXT_LENGTH


class SearchCreativeSerializer(CreativeSerializer):
    """A creative in search results: the creative, its ad copy (from its details, when fetched)
    and ``rank`` (PostgreSQL ``ts_rank``; null on the SQLite fallback)."""

    rank = serializers.FloatField(read_only=True, allow_null=True)
    title = serializers.CharField(source="details.title", read_only=True, allow_null=True)
    headline = serializers.CharField(source="details.headline", read_only=True, allow_null=True)
    snippet = serializers.CharField(source="details.snippet", read_only=True, allow_null=True)

    class Meta(CreativeSerializer.Meta):
        fields = [*CreativeSerializer.Meta.fields, "rank", "title", "headline", "snippet"]


class SearchAdvertiserSerializer(AdvertiserSerializer):
    rank = serializers.FloatField(read_only=True, allow_null=True)

    class Meta(AdvertiserSerializer.Meta):
        fields = [*AdvertiserSerializer.Meta.fields, "rank"]


class SearchResponseSerializer(serializers.Serializer):
    """``GET /api/search/``: a page of matching creatives plus the best matching advertisers."""

    q = serializers.CharField()
    engine = serializers.ChoiceField(
        choices=["full_text", "fallback"],
        help_text="full_text on PostgreSQL; fallback = icontains on SQLite.",
    )
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SearchCreativeSerializer(many=True)
    advertisers = SearchAdvertiserSerializer(many=True)
    advertiser_count = serializers.IntegerField()


class SearchHistoryEntrySerializer(serializers.ModelSerializer):
    region_name = serializers.SerializerMethodField(
        help_text="The name of the search's region filter, or null without one."
    )

    class Meta:
        model = SearchHistoryEntry
        fields = ["id", "q", "filters", "region_name", "result_count", "searched_at"]
        read_only_fields = fields

    def get_region_name(self, obj: SearchHistoryEntry) -> str | None:
        region = (obj.filters or {}).get("region")
        return region_name_or_none(str(region)) if region else None


class SearchQueryRequestSerializer(QueryFieldsMixin, serializers.Serializer):
    """A search to act on: the text and the creative-list filters that map to a SerpApi query."""

    query_fields: tuple[str, ...] = ("region", "platform", "creative_format")
    q = CleanCharField(max_length=MAX_Q_LENGTH, help_text="Advertiser ids (AR…), a name, keyword or domain.")

    def filters(self) -> dict[str, Any]:
        return {
            key: self.validated_data[key]
            for key in SearchQueryRequestSerializer.query_fields
            if self.validated_data.get(key)
        }


class SearchFetchRequestSerializer(SearchQueryRequestSerializer):
    query_fields = (*SearchQueryRequestSerializer.query_fields, "max_pages")


class SaveAsWatchRequestSerializer(SearchQueryRequestSerializer):
    """Body of ``POST /api/search/save-as-watch/``; watch settings are optional."""

    name = CleanCharField(required=False, allow_blank=True, max_length=200)
    interval_minutes = ASCIIIntegerField(
        required=False, min_value=Watch.MIN_INTERVAL_MINUTES, max_value=Watch.MAX_INTERVAL_MINUTES
    )
    notify_email = StrictBooleanField(required=False)
    webhook_url = CleanCharField(required=False, allow_blank=True, max_length=2000)
    alert_on_first_run = StrictBooleanField(required=False)

    WATCH_FIELDS = ("interval_minutes", "notify_email", "webhook_url", "alert_on_first_run")

    def watch_fields(self) -> dict[str, Any]:
        return {key: self.validated_data[key] for key in self.WATCH_FIELDS if key in self.validated_data}
