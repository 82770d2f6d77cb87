"""API shapes for watches and watch runs (``/api/adspark/watches/…``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from core.text import ASCIIIntegerField, CleanCharField, StrictBooleanField, StrictModelSerializer
from core.urlsafety import UnsafeURLError

from ..models import Watch, WatchRun
from ..queries import CREATIVE_FORMATS, MAX_PAGES_LIMIT, MAX_TEXT_LENGTH, PLATFORMS, FetchParamsError
from ..serializers import CreativeSerializer
from .services import QUERY_FIELDS, watch_query_normalize, webhook_url_check


class WatchRunSerializer(serializers.ModelSerializer):
    """A watch run; ``status_url`` is ``/api/tasks/{task_id}/`` (the job row and Celery state)."""

    task_id = serializers.CharField(source="celery_task_id", read_only=True, allow_null=True)
    status_url = serializers.SerializerMethodField()

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

    def get_status_url(self, obj: WatchRun) -> str:
        url = reverse("task-status", args=[obj.celery_task_id]) if obj.celery_task_id else ""
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request and url else url


class WatchSerializer(StrictModelSerializer):
    """A watch: its query (validated exactly like ``POST /api/adspark/fetch/``), schedule and
    notification settings. ``advertiser_ids`` accepts a list or a comma-separated string;
    ``region`` ISO letters or a geo code (stored as the geo code). ``webhook_secret`` is
    generated when a ``webhook_url`` is set without one; use it to verify signatures."""

    advertiser_ids = serializers.JSONField(
        required=False, help_text="List (or comma-separated string) of AR ids."
    )
    text = CleanCharField(required=False, allow_blank=True, max_length=MAX_TEXT_LENGTH)
    region = CleanCharField(
        required=False, allow_blank=True, help_text='ISO letters ("US") or geo code ("2840").'
    )
    platform = serializers.ChoiceField(choices=PLATFORMS, required=False, allow_blank=True)
    creative_format = serializers.ChoiceField(choices=CREATIVE_FORMATS, required=False, allow_blank=True)
    start_date = CleanCharField(required=False, allow_blank=True, help_text="YYYYMMDD or YYYY-MM-DD")
    end_date = CleanCharField(required=False, allow_blank=True, help_text="YYYYMMDD or YYYY-MM-DD")
    max_pages = ASCIIIntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_PAGES_LIMIT)
    interval_minutes = ASCIIIntegerField(
        required=False, min_value=Watch.MIN_INTERVAL_MINUTES, max_value=Watch.MAX_INTERVAL_MINUTES
    )
    webhook_url = serializers.URLField(required=False, allow_blank=True, max_length=2000)
    webhook_secret = CleanCharField(required=False, allow_blank=True, max_length=128, min_length=16)
    last_run = WatchRunSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Watch
        fields = [
            "id",
            "name",
            *QUERY_FIELDS,
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
