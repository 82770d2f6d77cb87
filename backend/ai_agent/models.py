"""AI ad variants: a user's prompt applied to a stored creative, generated on ``ai_generation``.

A variant keeps what it needs to stay meaningful on its own: ``creative_snapshot`` copies the
creative (and its ad details) when the variant is created, and ``source_creative`` is only a
nullable link, so deleting or cleaning up creatives never deletes or breaks a user's variants.
The image is a copy under ``MEDIA_ROOT`` (provider image URLs expire).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from core.models import Job


class Provider(models.TextChoices):
    DIFY = "dify", "Dify workflow (AI)"
    OPENAI = "openai", "OpenAI-compatible (AI)"
    TEMPLATE = "template", "Template layout (no AI)"


# Providers that generate with a model; ``template`` only lays existing copy out.
AI_PROVIDERS = frozenset({Provider.DIFY, Provider.OPENAI})


class Stage(models.TextChoices):
    QUEUED = "queued", "Queued"
    SCREENSHOT = "screenshot", "Rendering the creative"
    UPLOADING = "uploading", "Uploading to the provider"
    GENERATING = "generating", "Generating"
    DOWNLOADING = "downloading", "Storing the image"
    DONE = "done", "Done"


def variant_image_path(variant: AdVariant, filename: str) -> str:
    return f"ai_variants/{variant.owner_id}/{variant.pk or 'new'}/{filename}"


class AdVariant(Job):
    """One generated variant of a creative (a durable job; see :class:`core.models.Job`).

    Progress is in percent (``progress_total`` = 100). Outputs: ``headline`` and ``text`` (ad
    copy), ``image`` (PNG under MEDIA_ROOT, ``image_width`` x ``image_height`` CSS pixels,
    ``image_bytes`` bytes) and ``renders`` (every stored size: ``[{"size": "728x90", "path":
    "ai_variants/…png", "width": 728, "height": 90, "bytes": 1234}]``; the template provider
    stores three). Provider metadata: ``provider_run_id`` (Dify ``workflow_run_id``, OpenAI
    completion ``id``; saved as soon as the provider names it, so a redelivered task resumes
    the run instead of paying for a second one), ``tokens``, ``provider_elapsed_seconds`` and
    ``provider_meta`` (provider-specific JSON, e.g. Dify ``task_id`` and ``total_steps``).
    ``creative_snapshot`` shape: ``{"ad_creative_id", "advertiser_id", "advertiser_name",
    "format", "image_url", "preview_url", "width", "height", "target_domain", "details":
    {"title", "headline", "snippet", "visible_link", "call_to_action"} | null}``.
    """

    OWNER_FIELD = "owner"
    TASK_NAME = "ai_agent.tasks.generate_ad_variant_async"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ad_variants")
    source_creative = models.ForeignKey(
        "AdSpark.Creative", on_delete=models.SET_NULL, null=True, blank=True, related_name="variants"
    )
    # The creative's id survives the creative's deletion (``source_creative`` becomes NULL).
    ad_creative_id = models.CharField(max_length=32, db_index=True)
    creative_snapshot = models.JSONField(default=dict, blank=True)
    prompt = models.TextField()
    provider = models.CharField(max_length=16, choices=Provider.choices)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.QUEUED)
    # NULL, not "", means "no key": the per-owner unique constraint only covers real keys.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001

    headline = models.TextField(blank=True, default="")
    text = models.TextField(blank=True, default="")
    image = models.FileField(upload_to=variant_image_path, max_length=255, blank=True, default="")
    image_width = models.PositiveIntegerField(null=True, blank=True)
    image_height = models.PositiveIntegerField(null=True, blank=True)
    image_bytes = models.PositiveIntegerField(null=True, blank=True)
    renders = models.JSONField(default=list, blank=True)

    provider_run_id = models.CharField(max_length=128, blank=True, default="")
    tokens = models.PositiveIntegerField(null=True, blank=True)
    provider_elapsed_seconds = models.FloatField(null=True, blank=True)
    provider_meta = models.JSONField(default=dict, blank=True)
    retries = models.PositiveIntegerField(default=0)

    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True, default="")
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="ai_variant_idempotency_key_per_owner",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="ai_variant_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"AdVariant {self.pk} of {self.ad_creative_id} ({self.provider}, {self.status})"

    def get_absolute_url(self) -> str:
        return reverse("advariant-detail", args=[self.pk])

    @property
    def is_ai(self) -> bool:
        """False for the ``template`` provider, whose output is a layout, not AI generation."""
        return self.provider in AI_PROVIDERS
