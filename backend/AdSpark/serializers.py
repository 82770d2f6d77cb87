"""API shapes for creatives, advertisers and fetch runs (names as on the models; times ISO-8601 UTC)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import FieldsBuiltOnceMixin, StatusURLField
from core.text import ASCIIIntegerField, CleanCharField, StrictBooleanField

from .models import Advertiser, Creative, CreativeDetails, FetchRun, StopReason
from .queries import QUERY_FIELD_SPECS, QUERY_FIELDS, FetchParamsError, normalize_fetch_params


def query_serializer_field(name: str, **options: Any) -> serializers.Field:
    """Return the DRF field for query field ``name`` of :data:`AdSpark.queries.QUERY_SPEC`.

    Optional, blank allowed, with the spec's help text, choices and limits; ``options`` are
    passed on to the field (``allow_null=True``, ``default=False``…). Every request body that
    takes a query (fetch, watches, search) builds its query fields here, so a limit such as
    ``max_pages <= 100`` lives in the spec only.

    Raises:
        KeyError: ``name`` is not a query field.
    """
    spec = QUERY_FIELD_SPECS[name]
    kwargs: dict[str, Any] = {"required": False, "help_text": spec.help, **options}
    if spec.kind == "choice":
        return serializers.ChoiceField(choices=spec.choices, allow_blank=True, **kwargs)
    if spec.kind == "bool":
        return StrictBooleanField(**kwargs)
    if spec.kind == "int":
        return ASCIIIntegerField(min_value=spec.min_value, max_value=spec.max_value, **kwargs)
    # ids (a comma-separated string here; a list is joined first), text, date
    return CleanCharField(allow_blank=True, max_length=spec.max_length, **kwargs)


class QueryFieldsMixin:
    """Adds the query fields named in ``query_fields`` to a serializer, built by
    :func:`query_serializer_field` with ``query_field_options[name]``; a field the class
    declares itself wins (e.g. a watch's ``advertiser_ids`` is a JSON list)."""

    query_fields: tuple[str, ...] = ()
    query_field_options: dict[str, dict[str, Any]] = {}
    _declared_fields: dict[str, serializers.Field]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # type: ignore[misc]
        for name in self.query_fields:
            if name not in self._declared_fields:
                fields[name] = query_serializer_field(name, **self.query_field_options.get(name, {}))
        return fields


class AdvertiserSerializer(serializers.ModelSerializer):
    creative_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Advertiser
        fields = ["advertiser_id", "name", "first_seen", "last_seen", "creative_count", "updated_at"]


class CreativeDetailsSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreativeDetails
        fields = [
            "format",
            "title",
            "headline",
            "snippet",
            "visible_link",
            "call_to_action",
            "ad_funded_by",
            "variations",
            "regions",
            "last_shown",
            "no_results",
            "fetched_at",
        ]


class CreativeSerializer(serializers.ModelSerializer):
    advertiser_name = serializers.CharField(source="advertiser.name", read_only=True)

    class Meta:
        model = Creative
        fields = [
            "ad_creative_id",
            "advertiser_id",
            "advertiser_name",
            "format",
            "image_url",
            "preview_url",
            "width",
            "height",
            "target_domain",
            "first_shown",
            "last_shown",
            "total_days_shown",
            "details_link",
            "serpapi_details_link",
            "regions",
            "platforms",
            "created_at",
            "updated_at",
        ]


class CreativeDetailSerializer(CreativeSerializer):
    details = serializers.SerializerMethodField()

    class Meta(CreativeSerializer.Meta):
        fields = [*CreativeSerializer.Meta.fields, "details", "raw"]

    @extend_schema_field(CreativeDetailsSerializer(allow_null=True))
    def get_details(self, obj: Creative) -> dict[str, Any] | None:
        details = getattr(obj, "details", None)
        return CreativeDetailsSerializer(details).data if details is not None else None


class FetchRequestSerializer(FieldsBuiltOnceMixin, QueryFieldsMixin, serializers.Serializer):
    """Body of ``POST /api/adspark/fetch/``; validated by :func:`normalize_fetch_params`."""

    query_fields = QUERY_FIELDS
    query_field_options = {"political_ads": {"default": False}}

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


class FetchRunSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    """A fetch run: its status, query (``params``), progress in pages and creative counts."""

    task_id = serializers.CharField(source="celery_task_id", read_only=True, allow_null=True)
    # "" until the run stops paginating; the schema says so (a model field's blank is not shown).
    stop_reason = serializers.ChoiceField(choices=StopReason.choices, allow_blank=True, read_only=True)
    status_url = StatusURLField(view_name="fetchrun-detail")
    progress = serializers.SerializerMethodField()

    class Meta:
        model = FetchRun
        fields = [
            "id",
            "status",
            "task_id",
            "status_url",
            "params",
            "progress",
            "pages_fetched",
            "creatives_seen",
            "creatives_new",
            "creatives_updated",
            "searches_used",
            "total_results",
            "stop_reason",
            "retries",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "done": {"type": "integer"},
                "total": {"type": "integer"},
                "percent": {"type": "number"},
            },
        }
    )
    def get_progress(self, obj: FetchRun) -> dict[str, Any]:
        return {"done": obj.progress_done, "total": obj.progress_total, "percent": obj.progress_percent}
