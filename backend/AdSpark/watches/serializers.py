"""API shapes for watches and watch runs (``/api/adspark/watches/…``)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.serializers import AllErrorsMixin, StatusURLField
from core.text import ASCIIIntegerField, CleanCharField, StrictBooleanField, StrictModelSerializer
from core.urlsafety import UnsafeURLError

from ..models import Watch, WatchRun
from ..queries import QUERY_FIELD_SPECS, FetchParamsError
from ..regions import region_name_or_none
from ..serializers import CreativeSerializer, QueryFieldsMixin
from .services import QUERY_FIELDS, watch_query_normalize, webhook_url_check


class WatchRunSerializer(serializers.ModelSerializer):
    """A watch run; ``status_url`` is its own detail endpoint, ``/api/adspark/watch-runs/{id}/``."""

    task_id = serializers.CharField(source="celery_task_id", read_only=True, allow_null=True)
    status_url = StatusURLField(view_name="watchrun-detail")

    class Meta:
        model = WatchRun
        fields = [
            "id",
            "watch",
            "status",
            "task_id",
            "status_url",
            "trigger",
            "fetch_run",
            "shared_fetch",
            "is_baseline",
            "new_creatives_count",
            "new_creative_ids",
            "alerted",
            "email_sent_at",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


INTERVAL_ERRORS: dict[str, Any] = {
    "min_value": f"The shortest interval is {Watch.MIN_INTERVAL_MINUTES} minutes.",
    "max_value": f"The longest interval is a week ({Watch.MAX_INTERVAL_MINUTES} minutes).",
    "invalid": "Give the interval as a whole number of minutes.",
}


class WatchSerializer(AllErrorsMixin, QueryFieldsMixin, StrictModelSerializer):
    """A watch: its query (validated exactly like ``POST /api/adspark/fetch/``), schedule and
    notification settings. ``advertiser_ids`` accepts a list or a comma-separated string;
    ``region`` ISO letters or a geo code (stored as the geo code). ``webhook_secret`` is
    generated when a ``webhook_url`` is set without one; use it to verify signatures."""

    query_fields = QUERY_FIELDS
    query_field_options = {"max_pages": {"allow_null": True}}
    advertiser_ids = serializers.JSONField(required=False, help_text=QUERY_FIELD_SPECS["advertiser_ids"].help)
    interval_minutes = ASCIIIntegerField(
        required=False,
        min_value=Watch.MIN_INTERVAL_MINUTES,
        max_value=Watch.MAX_INTERVAL_MINUTES,
        error_messages=INTERVAL_ERRORS,
    )
    webhook_url = serializers.URLField(
        required=False,
        allow_blank=True,
        max_length=2000,
        error_messages={"invalid": "Enter a full web address starting with https:// (or http://)."},
    )
    webhook_secret = CleanCharField(required=False, allow_blank=True, max_length=128, min_length=16)
    last_run = WatchRunSerializer(read_only=True, allow_null=True)
    region_name = serializers.SerializerMethodField(help_text="The region's name, or null for all regions.")

    class Meta:
        model = Watch
        fields = [
            "id",
            "name",
            *QUERY_FIELDS,
            "region_name",
            "interval_minutes",
            "is_active",
            "next_run_at",
            "last_run",
            "last_success_at",
            "consecutive_failures",
            "paused_reason",
            "alert_on_first_run",
            "notify_email",
            "webhook_url",
            "webhook_secret",
            "query_fingerprint",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "next_run_at",
            "last_run",
            "last_success_at",
            "consecutive_failures",
            "paused_reason",
            "query_fingerprint",
            "created_at",
            "updated_at",
        ]

    def get_region_name(self, obj: Watch) -> str | None:
        return region_name_or_none(obj.region)

    def validate_webhook_url(self, value: str) -> str:
        if value:
            try:
                webhook_url_check(value)
            except UnsafeURLError as exc:
                raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        raw: dict[str, Any] = self.instance.query_params() if self.instance is not None else {}
        raw.update({key: attrs.pop(key) for key in QUERY_FIELDS if key in attrs})
        try:
            attrs["query"] = watch_query_normalize(raw)
        except FetchParamsError as exc:
            raise serializers.ValidationError(exc.errors) from exc
        return attrs


class WatchNewCreativeSerializer(CreativeSerializer):
    """A creative new to a watch: the creative plus when the watch first saw it, and in which run."""

    first_seen_by_watch = serializers.DateTimeField(read_only=True)
    watch_run = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta(CreativeSerializer.Meta):
        fields = [*CreativeSerializer.Meta.fields, "first_seen_by_watch", "watch_run"]


class TriggerAllSerializer(serializers.Serializer):
    """Body of ``POST /api/adspark/watches/trigger_all/``; ``all_users`` needs staff."""

    all_users = StrictBooleanField(required=False, default=False)
