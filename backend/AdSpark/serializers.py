"""API shapes for creatives, advertisers and fetch runs (names as on the models; times ISO-8601 UTC)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers

from core.serializers import AllErrorsMixin, StatusURLField
from core.text import ASCIIIntegerField, CleanCharField, StrictBooleanField, echo

from . import explain, exports, selectors
from .models import Advertiser, Creative, CreativeDetails, FetchRun, StopReason
from .queries import (
    CREATIVE_ID_RE,
    QUERY_FIELD_SPECS,
    QUERY_FIELDS,
    FetchParamsError,
    normalize_fetch_params,
)
from .timeline import DEFAULT_WEEKS, MAX_WEEKS


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


class FetchRequestSerializer(AllErrorsMixin, QueryFieldsMixin, serializers.Serializer):
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


class FetchRunListSerializer(serializers.ListSerializer):
    """A page of fetch runs: the advertiser names of all of them are read in one query."""

    def to_representation(self, data: Any) -> list[Any]:
        runs = list(data.all() if hasattr(data, "all") else data)
        ids = {advertiser_id for run in runs for advertiser_id in run.params.get("advertiser_ids") or []}
        self.child._advertiser_names = selectors.advertiser_names(ids)  # type: ignore[union-attr]
        return [self.child.to_representation(run) for run in runs]  # type: ignore[union-attr]


class FetchRunSerializer(serializers.ModelSerializer):
    """A fetch run: the job (status, progress, counters, ``error`` for engineers) and the same in
    a marketer's words (``summary``, ``user_message``; see :mod:`AdSpark.explain`)."""

    task_id = serializers.CharField(source="celery_task_id", read_only=True, allow_null=True)
    # "" until the run stops paginating; the schema says so (a model field's blank is not shown).
    stop_reason = serializers.ChoiceField(choices=StopReason.choices, allow_blank=True, read_only=True)
    status_url = StatusURLField(view_name="fetchrun-detail")
    progress = serializers.SerializerMethodField()
    advertiser_names = serializers.SerializerMethodField(
        help_text="The advertisers asked for, in order: each one's stored name, else its id."
    )
    region_name = serializers.SerializerMethodField(help_text="The region's name, or null for all regions.")
    summary = serializers.SerializerMethodField(
        help_text="One human line, e.g. “Tesla, Inc. · United States · images · 3 pages · 40 creatives”."
    )
    user_message = serializers.SerializerMethodField(
        help_text="A failure, retry, cancel or empty result explained for marketers (never SerpApi's "
        "own text); empty when there is nothing to explain."
    )
    retry_at = serializers.SerializerMethodField(
        help_text="When the retry of a transient SerpApi error is due, while the run waits for it; else null."
    )
    progress_percent = serializers.SerializerMethodField(
        help_text="Pages done in percent; null while the number of pages is unknown; 100 only on success."
    )

    class Meta:
        model = FetchRun
        list_serializer_class = FetchRunListSerializer
        fields = [
            "id",
            "status",
            "task_id",
            "status_url",
            "params",
            "advertiser_names",
            "region_name",
            "summary",
            "user_message",
            "retry_at",
            "progress_percent",
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

    def _names(self, obj: FetchRun) -> dict[str, str]:
        names = getattr(self, "_advertiser_names", None)
        if names is None:  # a single run (not a page of them): its own query
            names = selectors.advertiser_names(obj.params.get("advertiser_ids") or [])
            self._advertiser_names = names
        return names

    def get_advertiser_names(self, obj: FetchRun) -> list[str]:
        return explain.run_advertiser_names(obj, self._names(obj))

    def get_region_name(self, obj: FetchRun) -> str | None:
        return explain.run_region_name(obj)

    def get_summary(self, obj: FetchRun) -> str:
        return explain.fetch_run_summary(obj, self._names(obj))

    def get_user_message(self, obj: FetchRun) -> str:
        return explain.fetch_run_user_message(obj, self._names(obj))

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_retry_at(self, obj: FetchRun) -> Any:
        value = explain.fetch_run_retry_at(obj)
        return serializers.DateTimeField().to_representation(value) if value is not None else None

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_progress_percent(self, obj: FetchRun) -> float | None:
        return explain.fetch_run_progress_percent(obj)


# --- export ---------------------------------------------------------------------------------

EXPORT_FORMAT_PARAMETER = OpenApiParameter(
    "export_format",
    str,
    enum=list(exports.EXPORT_FORMATS),
    description="csv (default) or json. (``format`` is DRF's own parameter, hence the name.)",
)
EXPORT_IDS_PARAMETER = OpenApiParameter(
    "ids", str, description="Only these creatives: comma-separated ad_creative_id values (CR…), at most 1000."
)
# Creatives an export may name one by one (``ids``): a selection of several gallery pages.
MAX_EXPORT_IDS = 1000


class ExportQuerySerializer(serializers.Serializer):
    """The export's own query parameters (the list's filters are read by its filter set)."""

    export_format = serializers.ChoiceField(
        choices=list(exports.EXPORT_FORMATS),
        default="csv",
        error_messages={"invalid_choice": "Choose csv or json."},
    )
    ids = serializers.CharField(required=False, allow_blank=True, max_length=MAX_EXPORT_IDS * 23)

    def validate_ids(self, value: str) -> list[str]:
        ids = [part.strip() for part in value.split(",") if part.strip()]
        wrong = [part for part in ids if not CREATIVE_ID_RE.fullmatch(part)]
        if wrong:
            raise serializers.ValidationError(
                f"{echo(wrong[0])} is not a creative ID (CR followed by 20 digits)."
            )
        if len(ids) > MAX_EXPORT_IDS:
            raise serializers.ValidationError(f"At most {MAX_EXPORT_IDS} creative IDs.")
        return ids


class CreativeExportRowSerializer(serializers.Serializer):
    """One element of a JSON export (the CSV has the same columns, lists ``"; "``-joined)."""

    ad_creative_id = serializers.CharField()
    advertiser_id = serializers.CharField()
    advertiser_name = serializers.CharField()
    format = serializers.CharField()
    first_shown = serializers.DateTimeField(allow_null=True)
    last_shown = serializers.DateTimeField(allow_null=True)
    total_days_shown = serializers.IntegerField(allow_null=True)
    regions = serializers.ListField(child=serializers.CharField(), help_text="Region names.")
    platforms = serializers.ListField(child=serializers.CharField())
    target_domain = serializers.CharField()
    details_link = serializers.CharField()
    image_url = serializers.CharField()
    archived_image_url = serializers.URLField(allow_null=True)
    archived_thumbnail_url = serializers.URLField(allow_null=True)


# --- timeline -------------------------------------------------------------------------------


class TimelineQuerySerializer(serializers.Serializer):
    weeks = ASCIIIntegerField(
        required=False,
        default=DEFAULT_WEEKS,
        min_value=1,
        max_value=MAX_WEEKS,
        help_text=f"Weeks to show, 1-{MAX_WEEKS} (default {DEFAULT_WEEKS}), ending with the advertiser's newest week.",
        error_messages={
            "min_value": f"Choose from 1 to {MAX_WEEKS} weeks.",
            "max_value": f"Choose from 1 to {MAX_WEEKS} weeks.",
            "invalid": f"Choose from 1 to {MAX_WEEKS} weeks.",
        },
    )


class FormatCountsSerializer(serializers.Serializer):
    text = serializers.IntegerField()
    image = serializers.IntegerField()
    video = serializers.IntegerField()


class TimelineWeekSerializer(serializers.Serializer):
    week_start = serializers.DateField(help_text="The Monday the week starts on.")
    first_shown = FormatCountsSerializer(help_text="Creatives first shown that week, by format.")
    active = FormatCountsSerializer(help_text="Creatives shown at some time that week, by format.")


class TimelineChangesSerializer(serializers.Serializer):
    since = serializers.DateField(help_text="7 days before the advertiser's newest date.")
    new = CreativeSerializer(many=True, help_text="First shown since then (at most 50, newest first).")
    stopped = CreativeSerializer(
        many=True, help_text="Last shown in the 7 days before `since` and not since (at most 50)."
    )
    new_count = serializers.IntegerField()
    stopped_count = serializers.IntegerField()


class TimelineSerializer(serializers.Serializer):
    """``GET /advertisers/{advertiser_id}/timeline/`` (see :mod:`AdSpark.timeline`)."""

    advertiser_id = serializers.CharField()
    name = serializers.CharField()
    weeks = TimelineWeekSerializer(many=True)
    changes = TimelineChangesSerializer()
