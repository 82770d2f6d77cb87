"""API shapes for AI ad variants (times ISO-8601 UTC, sizes in pixels, image sizes in bytes)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from AdSpark.models import Creative
from core.serializers import StatusURLField, absolute_url
from core.text import CleanCharField, echo

from .models import AdVariant, Provider
from .providers import provider_configured
from .services import prompt_clean


class VariantCreateSerializer(serializers.Serializer):
    """Body of ``POST /api/ai/variants/``; ``Idempotency-Key`` is a header, not a field."""

    creative = CleanCharField(max_length=32, help_text="The creative's ad_creative_id (CR…).")
    prompt = CleanCharField(
        multiline=True,
        trim_whitespace=False,
        allow_blank=True,
        help_text="What the variant should say or change (3-1000 characters).",
    )
    provider = serializers.ChoiceField(
        choices=Provider.choices,
        required=False,
        help_text="dify, openai or template (no AI); default: the server's AI_PROVIDER.",
    )

    def validate_creative(self, value: str) -> Creative:
        creative = Creative.objects.select_related("advertiser").filter(pk=value.strip()).first()
        if creative is None:
            raise serializers.ValidationError(f"Unknown creative {echo(value)}.")
        return creative

    def validate_prompt(self, value: str) -> str:
        try:
            return prompt_clean(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_provider(self, value: str) -> str:
        problem = provider_configured(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class VariantRatingSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = CleanCharField(required=False, allow_blank=True, max_length=2000, default="")


class AdVariantSerializer(serializers.ModelSerializer):
    task_id = serializers.CharField(source="celery_task_id", read_only=True, allow_null=True)
    status_url = StatusURLField(view_name="advariant-detail")
    progress = serializers.SerializerMethodField()
    generated_by = serializers.SerializerMethodField(help_text='"ai" or "template" (a layout, not AI).')
    provider_label = serializers.CharField(source="get_provider_display", read_only=True)
    creative = serializers.CharField(source="ad_creative_id", read_only=True)
    creative_exists = serializers.SerializerMethodField()
    image = serializers.SerializerMethodField()
    renders = serializers.SerializerMethodField()

    class Meta:
        model = AdVariant
        fields = [
            "id",
            "status",
            "stage",
            "progress",
            "task_id",
            "status_url",
            "creative",
            "creative_exists",
            "creative_snapshot",
            "prompt",
            "provider",
            "provider_label",
            "generated_by",
            "is_ai",
            "headline",
            "text",
            "image",
            "renders",
            "provider_run_id",
            "tokens",
            "provider_elapsed_seconds",
            "retries",
            "error",
            "rating",
            "rating_comment",
            "rated_at",
            "idempotency_key",
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
    def get_progress(self, obj: AdVariant) -> dict[str, Any]:
        return {"done": obj.progress_done, "total": obj.progress_total, "percent": obj.progress_percent}

    def get_generated_by(self, obj: AdVariant) -> str:
        return "ai" if obj.is_ai else "template"

    def get_creative_exists(self, obj: AdVariant) -> bool:
        return obj.source_creative_id is not None

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "url": {"type": "string"},
                "width": {"type": "integer"},
                "height": {"type": "integer"},
                "bytes": {"type": "integer"},
            },
        }
    )
    def get_image(self, obj: AdVariant) -> dict[str, Any] | None:
        if not obj.image:
            return None
        url = absolute_url(self.context.get("request"), reverse("advariant-image", args=[obj.pk]))
        return {"url": url, "width": obj.image_width, "height": obj.image_height, "bytes": obj.image_bytes}

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_renders(self, obj: AdVariant) -> list[dict[str, Any]]:
        base = reverse("advariant-image", args=[obj.pk])
        request = self.context.get("request")
        return [
            {
                "size": r["size"],
                "width": r["width"],
                "height": r["height"],
                "bytes": r["bytes"],
                "url": absolute_url(request, f"{base}?size={r['size']}"),
            }
            for r in obj.renders
        ]
