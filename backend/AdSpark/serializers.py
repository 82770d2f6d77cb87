"""API shapes for creatives, advertisers and fetch runs (names as on the models; times ISO-8601 UTC)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StatusURLField, absolute_url
from core.text import ASCIIIntegerField, CleanCharField, StrictBooleanField

from .models import (
    Advertiser,
    ArchiveStatus,
    Creative,
    CreativeArchive,
    CreativeDetails,
    FetchRun,
    StopReason,
)
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


# archive_status as the API shows it: "" = never tried; a capture under way is still "pending".
ARCHIVE_STATUS_CHOICES = [
    ("", "Never tried"),
    ("pending", "Queued or capturing"),
    ("archived", "Archived"),
    ("failed", "Failed"),
    ("skipped", "Nothing to capture"),
]


def creative_archive(creative: Creative) -> CreativeArchive | None:
    """The creative's archive row, or None (no query when the queryset joined it)."""
    try:
        return creative.archive
    except CreativeArchive.DoesNotExist:
        return None


def _file_url(file: Any, request: Any) -> str | None:
    if not file:
        return None
    url = str(file.url)
    # FileSystemStorage gives /media/…, made absolute with the request's host; S3 gives a
    # bucket (or custom domain) URL, already absolute.
    return url if url.startswith(("http://", "https://")) else absolute_url(request, url)


# The archive fields (issue 13): archived_image_url / archived_thumbnail_url (absolute URLs of
# the full PNG and the WebP thumbnail, or null), archive_status, visual_hash, duplicate_count.
# Querysets should come from AdSpark.selectors.creative_list (archive joined, count annotated);
# otherwise each row costs queries.
class CreativeSerializer(serializers.ModelSerializer):
    """An ad creative as last seen by SerpApi, with AdSpark's archived copy of how it looked."""

    advertiser_name = serializers.CharField(source="advertiser.name", read_only=True)
    archived_image_url = serializers.SerializerMethodField(
        help_text="Absolute URL of the archived full-size PNG, or null."
    )
    archived_thumbnail_url = serializers.SerializerMethodField(
        help_text="Absolute URL of the archived WebP thumbnail (at most 400 px wide), or null."
    )
    archive_status = serializers.SerializerMethodField(
        help_text='"" never tried, "pending" queued or capturing, "archived", "failed", "skipped".'
    )
    visual_hash = serializers.SerializerMethodField(
        help_text='Perceptual hash (imagehash.phash, hex) of the archived image, or "".'
    )
    duplicate_count = serializers.SerializerMethodField(
        help_text="Number of OTHER creatives with the same visual_hash (0 when none or unknown)."
    )

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
            "archived_image_url",
            "archived_thumbnail_url",
            "archive_status",
            "visual_hash",
            "duplicate_count",
        ]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_archived_image_url(self, obj: Creative) -> str | None:
        archive = creative_archive(obj)
        return _file_url(archive.image, self.context.get("request")) if archive else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_archived_thumbnail_url(self, obj: Creative) -> str | None:
        archive = creative_archive(obj)
        return _file_url(archive.thumbnail, self.context.get("request")) if archive else None

    @extend_schema_field(serializers.ChoiceField(choices=ARCHIVE_STATUS_CHOICES))
    def get_archive_status(self, obj: Creative) -> str:
        archive = creative_archive(obj)
        if archive is None:
            return ""
        return ArchiveStatus.PENDING if archive.status == ArchiveStatus.RUNNING else archive.status

    def get_visual_hash(self, obj: Creative) -> str:
        archive = creative_archive(obj)
        return archive.visual_hash if archive else ""

    def get_duplicate_count(self, obj: Creative) -> int:
        count = getattr(obj, "duplicate_count", None)
        if count is not None:
            return int(count)
        archive = creative_archive(obj)  # not annotated (a queryset not from creative_list)
        if archive is None or not archive.visual_hash:
            return 0
        return (
            CreativeArchive.objects.filter(visual_hash=archive.visual_hash)
            .exclude(creative_id=obj.pk)
            .count()
        )


class CreativeDetailSerializer(CreativeSerializer):
    details = serializers.SerializerMethodField()

    class Meta(CreativeSerializer.Meta):
        fields = [*CreativeSerializer.Meta.fields, "details", "raw"]

    @extend_schema_field(CreativeDetailsSerializer(allow_null=True))
    def get_details(self, obj: Creative) -> dict[str, Any] | None:
        details = getattr(obj, "details", None)
        return CreativeDetailsSerializer(details).data if details is not None else None


class FetchRequestSerializer(QueryFieldsMixin, serializers.Serializer):
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


class FetchRunSerializer(serializers.ModelSerializer):
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
