"""``/api/ai/variants/``: create (202 + status URL), list, detail, image, retry, rating.

Owners only: another user's variant is a 404. Enqueueing (create, retry) is throttled per user
(scope ``ai_variants``).
"""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from . import services
from .models import AdVariant
from .serializers import AdVariantSerializer, VariantCreateSerializer, VariantRatingSerializer

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Repeat a POST safely: the same key returns the same variant (at most 255 characters).",
)


class AdVariantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AdVariantSerializer
    filterset_fields = ["status", "provider", "ad_creative_id"]
    ordering_fields = ["created_at", "finished_at", "rating"]
    search_fields: list[str] = []
    throttle_scope = "ai_variants"

    def get_queryset(self) -> Any:
        return AdVariant.objects.filter(owner_id=self.request.user.pk).order_by("-created_at", "-id")

    def get_throttles(self) -> list[Any]:
        if self.action in ("create", "retry"):
            return [ScopedRateThrottle()]
        return super().get_throttles()

    def _respond(self, variant: AdVariant, code: int) -> Response:
        data = AdVariantSerializer(variant, context={"request": self.request}).data
        return Response(data, status=code, headers={"Location": data["status_url"]})

    @extend_schema(
        request=VariantCreateSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            202: AdVariantSerializer,
            400: OpenApiResponse(description="Field errors"),
            409: OpenApiResponse(description="Idempotency-Key reused for another request"),
        },
    )
    def create(self, request: Request) -> Response:
        """Create a variant and enqueue its generation: ``202`` with the variant and ``status_url``."""
        serializer = VariantCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = (request.headers.get("Idempotency-Key") or "").strip() or None
        if key is not None and (len(key) > 255 or not key.isprintable()):
            raise ValidationError(
                {"idempotency_key": ["The Idempotency-Key header must be 1-255 printable characters."]}
            )
        try:
            with transaction.atomic():
                variant, _ = services.variant_create(
                    owner=request.user,
                    creative=serializer.validated_data["creative"],
                    prompt=serializer.validated_data["prompt"],
                    provider=serializer.validated_data.get("provider"),
                    idempotency_key=key,
                )
        except services.IdempotencyConflict as exc:
            return Response({exc.field: [str(exc)]}, status=status.HTTP_409_CONFLICT)
        return self._respond(variant, status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "size", OpenApiTypes.STR, description='A stored size, e.g. "728x90" (template renders).'
            )
        ],
        responses={
            (200, "image/png"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="No image (yet)"),
        },
    )
    @action(detail=True, methods=["get"])
    def image(self, request: Request, pk: str | None = None) -> FileResponse:
        """The stored PNG (the main image, or ``?size=`` one of ``renders``)."""
        variant = self.get_object()
        name = variant.image.name if variant.image else ""
        size = request.query_params.get("size")
        if size:
            name = next((r["path"] for r in variant.renders if r["size"] == size), "")
        if not name or not default_storage.exists(name):
            raise NotFound("This variant has no image of that size (yet).")
        return FileResponse(
            default_storage.open(name, "rb"), content_type="image/png", filename=f"variant-{variant.pk}.png"
        )

    @extend_schema(
        request=None, responses={202: AdVariantSerializer, 409: OpenApiResponse(description="Not failed")}
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        """Generate a failed variant again (``202``); other statuses answer ``409``."""
        variant = self.get_object()
        try:
            with transaction.atomic():
                variant = services.variant_retry(variant=variant)
        except services.VariantStateError as exc:
            return Response({exc.field: [str(exc)]}, status=status.HTTP_409_CONFLICT)
        return self._respond(variant, status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=VariantRatingSerializer,
        responses={200: AdVariantSerializer, 409: OpenApiResponse(description="Not succeeded")},
    )
    @action(detail=True, methods=["post"])
    def rating(self, request: Request, pk: str | None = None) -> Response:
        """Rate a succeeded variant 1-5 with an optional comment."""
        variant = self.get_object()
        serializer = VariantRatingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            variant = services.variant_rate(
                variant=variant,
                rating=serializer.validated_data["rating"],
                comment=serializer.validated_data["comment"],
            )
        except services.VariantStateError as exc:
            return Response({exc.field: [str(exc)]}, status=status.HTTP_409_CONFLICT)
        return self._respond(variant, status.HTTP_200_OK)
