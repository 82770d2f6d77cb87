"""API shapes for creatives, advertisers and fetch runs (names as on the models; times ISO-8601 UTC)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.text import ASCIIIntegerField, CleanCharField, StrictBooleanField

from .models import Advertiser, Creative, CreativeDetails, FetchRun, StopReason
from .queries import (
    CREATIVE_FORMATS,
    MAX_NUM,
    MAX_PAGES_LIMIT,
    MAX_TEXT_LENGTH,
    PLATFORMS,
    FetchParamsError,
    normalize_fetch_params,
)


class AdvertiserSerializer(serializers.ModelSerializer):
    creative_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Advertiser
        fields = ["advertiser_id", "name", "first_seen", "last_seen", "creative_count", "updated_at"]


class CreativeDetailsSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreativeDetails
        fields = [
            "format", "title", "headline", "snippet", "visible_link", "call_to_action",
            "ad_funded_by", "variations", "regions", "last_shown", "no_results", "fetched_at",
        ]


class CreativeSerializer(serializers.ModelSerializer):
    advertiser_name = serializers.CharField(source="advertiser.name", read_only=True)

    class Meta:
        model = Creative
        fields = [
            "ad_creative_id", "advertiser_id", "advertiser_name", "format", "image_url",
            "preview_url", "width", "height", "target_domain", "first_shown", "last_shown",
            "total_days_shown", "details_link", "serpapi_details_link", "regions", "platforms",
            "created_at", "updated_at",
        ]


class CreativeDetailSerializer(CreativeSerializer):
    details = serializers.SerializerMethodField()

    class Meta(CreativeSerializer.Meta):
        fields = [*CreativeSerializer.Meta.fields, "details", "raw"]

    @extend_schema_field(CreativeDetailsSerializer(allow_null=True))
    def get_details(self, obj: Creative) -> dict[str, Any] | None:
        details = getattr(obj, "details", None)
        return CreativeDetailsSerializer(details).data if details is not None else None


class FetchRequestSerializer(serializers.Serializer):
    """Body of ``POST /api/adspark/fetch/``; validated by :func:`normalize_fetch_params`."""

    advertiser_ids = CleanCharField(
        required=False, allow_blank=True,
        help_text="Comma-separated advertiser ids (AR + 20 digits).",
    )
    text = CleanCharField(
        required=False, allow_blank=True, max_length=MAX_TEXT_LENGTH, help_text="Free text or a domain."
    )
    region = CleanCharField(required=False, allow_blank=True, help_text='ISO letters ("US") or a geo code ("2840").')
    platform = serializers.ChoiceField(choices=PLATFORMS, required=False, allow_blank=True)
    creative_format = serializers.ChoiceField(choices=CREATIVE_FORMATS, required=False, allow_blank=True)
    start_date = CleanCharField(required=False, allow_blank=True, help_text="YYYYMMDD")
    end_date = CleanCharField(required=False, allow_blank=True, help_text="YYYYMMDD")
    political_ads = StrictBooleanField(required=False, default=False)
    num = ASCIIIntegerField(required=False, min_value=1, max_value=MAX_NUM)
    max_pages = ASCIIIntegerField(required=False, min_value=1, max_value=MAX_PAGES_LIMIT)

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "dict"):
            data = data.dict()
        if isinstance(data, dict) and isinstance(data.get("advertiser_ids"), list):
            data = {**data, "advertiser_ids": ",".join(str(v) for v in data["advertiser_ids"])}
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["query"] = normalize_fetch_params(attrs, allow_unknown=True)
        except FetchParamsError as exc:
            raise serializers.ValidationError(exc.errors) from exc
        return attrs


class FetchRunSerializer(serializers.ModelSerializer):
    task_id = serializers.CharField(source="celery_task_id", read_only=True, allow_null=True)
    # "" until the run stops paginating; the schema says so (a model field's blank is not shown).
    stop_reason = serializers.ChoiceField(choices=StopReason.choices, allow_blank=True, read_only=True)
    status_url = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = FetchRun
        fields = [
            "id", "status", "task_id", "status_url", "params", "progress", "pages_fetched",
            "creatives_seen", "creatives_new", "creatives_updated", "searches_used",
            "total_results", "stop_reason", "retries", "error", "created_at", "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_status_url(self, obj: FetchRun) -> str:
        url = reverse("fetchrun-detail", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    @extend_schema_field(
        {"type": "object", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}, "percent": {"type": "number"}}}
    )
    def get_progress(self, obj: FetchRun) -> dict[str, Any]:
        return {"done": obj.progress_done, "total": obj.progress_total, "percent": obj.progress_percent}
