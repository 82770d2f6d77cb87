"""AdSpark API: fetch (202 + FetchRun), fetch runs, creatives, advertisers."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.serializers import DetailSerializer

from . import exports, selectors
from .filters import AdvertiserFilter, CreativeFilter
from .models import Creative, FetchRun
from .ratelimit import SlidingWindowThrottle
from .regions import region_list
from .serializers import (
    EXPORT_FORMAT_PARAMETER,
    EXPORT_IDS_PARAMETER,
    AdvertiserSerializer,
    CreativeDetailSerializer,
    CreativeExportRowSerializer,
    CreativeSerializer,
    ExportQuerySerializer,
    FetchRequestSerializer,
    FetchRunSerializer,
    TimelineQuerySerializer,
    TimelineSerializer,
)
from .services import fetch_run_cancel, fetch_run_create
from .timeline import advertiser_timeline


class FetchView(APIView):
    """``POST /api/adspark/fetch/``: validate the query, create a FetchRun, enqueue it.

    Answers ``202`` with the FetchRun (``id``, ``status``, ``task_id``, ``status_url``); invalid
    parameters give ``400`` with field errors. Throttled per user (scope ``fetch``).
    """

    throttle_classes = [SlidingWindowThrottle]
    throttle_scope = "fetch"

    @extend_schema(
        request=FetchRequestSerializer,
        responses={202: FetchRunSerializer, 400: OpenApiResponse(description="Field errors")},
    )
    def post(self, request: Request) -> Response:
        serializer = FetchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # No atomic block: the single INSERT commits by itself and its on_commit enqueue runs
        # right after; an explicit transaction only added a COMMIT round trip (bench/api_enqueue.py).
        run = fetch_run_create(owner=request.user, query=serializer.validated_data["query"])
        data = FetchRunSerializer(run, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["status_url"]})


class FetchRunViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's fetch runs (another user's run is a 404); ``POST {id}/cancel/`` stops one."""

    serializer_class = FetchRunSerializer
    lookup_value_regex = r"[0-9]+"
    queryset = FetchRun.objects.none()  # the model, for the schema; rows: get_queryset()
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "finished_at"]
    not_found_message = "This fetch run does not exist or is not yours."

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return FetchRun.objects.none()
        return selectors.fetch_run_list(user=self.request.user)

    @extend_schema(
        request=None,
        responses={
            200: FetchRunSerializer,
            404: OpenApiResponse(description="Not yours, or no such run"),
            409: OpenApiResponse(response=DetailSerializer, description="The run had already ended"),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a pending, running or retry-waiting run → 200 with the run (``cancelled``).

        A run that is fetching stops before its next page; one waiting for a retry never makes
        it. ``409 {"detail"}`` when the run had already ended.
        """
        run = self.get_object()
        if not fetch_run_cancel(fetch_run_id=run.pk):
            run.refresh_from_db()
            return Response(
                {"detail": f"This fetch run has already ended ({run.get_status_display().lower()})."},
                status=status.HTTP_409_CONFLICT,
            )
        run.refresh_from_db()
        return Response(FetchRunSerializer(run, context={"request": request}).data)


class RegionSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="SerpApi's numeric geo code, e.g. 2840.")
    name = serializers.CharField(help_text="English name, e.g. United States.")
    letters = serializers.CharField(help_text="ISO 3166-1 alpha-2 letters (e.g. US), or empty.")


class RegionListView(APIView):
    """``GET /api/adspark/regions/``: every region SerpApi knows (239), sorted by name."""

    @extend_schema(responses=RegionSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(region_list())


class CreativeViewSet(viewsets.ReadOnlyModelViewSet):
    """Creatives: filters (see CreativeFilter), ``search`` over advertiser name and domain, ordering;
    ``GET export/`` streams every matching creative as CSV or JSON."""

    lookup_field = "ad_creative_id"
    filterset_class = CreativeFilter
    search_fields = ["advertiser__name", "target_domain", "ad_creative_id"]
    ordering_fields = ["last_shown", "first_shown", "total_days_shown", "updated_at", "created_at"]
    ordering = ["-last_shown", "ad_creative_id"]
    not_found_message = "This creative is not stored."

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The export answers CSV or JSON by its export_format parameter, whatever Accept says.
        return super().perform_content_negotiation(request, force=force or self.action == "export")

    @extend_schema(
        operation_id="adspark_creatives_export",
        filters=True,
        parameters=[EXPORT_FORMAT_PARAMETER, EXPORT_IDS_PARAMETER],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): CreativeExportRowSerializer(many=True),
            400: OpenApiResponse(description="Field errors"),
        },
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request: Request) -> StreamingHttpResponse:
        """Every creative matching the list's filters, search and ordering (all pages), as a
        download; ``ids`` narrows it to chosen creatives (a selection in the gallery)."""
        params = ExportQuerySerializer(data=request.query_params)
        errors: dict[str, Any] = {} if params.is_valid() else dict(params.errors)
        try:  # the list's filters, search and ordering; their errors come in the same answer
            queryset = self.filter_queryset(self.get_queryset())
        except ValidationError as exc:
            errors.update(exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail})
        if errors:
            raise ValidationError(errors)
        if params.validated_data.get("ids"):
            queryset = queryset.filter(ad_creative_id__in=params.validated_data["ids"])
        rows = exports.creative_rows(queryset, absolute=request.build_absolute_uri)
        return exports.export_response(
            rows, export_format=params.validated_data["export_format"], filename_stem="adspark-creatives"
        )

    def get_queryset(self) -> Any:
        if self.action == "retrieve":
            return Creative.objects.select_related("advertiser", "details")
        return selectors.creative_list()

    def get_serializer_class(self) -> Any:
        return CreativeDetailSerializer if self.action == "retrieve" else CreativeSerializer


class AdvertiserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Advertisers with creative counts; ``/{advertiser_id}/creatives/`` lists theirs and
    ``/{advertiser_id}/timeline/`` charts them per week."""

    lookup_field = "advertiser_id"
    serializer_class = AdvertiserSerializer
    filterset_class = AdvertiserFilter
    search_fields = ["name", "advertiser_id"]
    ordering_fields = ["name", "first_seen", "last_seen", "creative_count"]
    ordering = ["name"]
    not_found_message = "This advertiser is not stored; fetch its creatives first."

    def get_queryset(self) -> Any:
        return selectors.advertiser_list()

    @extend_schema(responses=CreativeSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"])
    def creatives(self, request: Request, advertiser_id: str | None = None) -> Response:
        advertiser = self.get_object()
        queryset = (
            selectors.creative_list().filter(advertiser=advertiser).order_by("-last_shown", "ad_creative_id")
        )
        page = self.paginate_queryset(queryset)
        serializer = CreativeSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        parameters=[TimelineQuerySerializer],
        responses={200: TimelineSerializer, 400: OpenApiResponse(description="Field errors")},
        filters=False,
    )
    @action(detail=True, methods=["get"])
    def timeline(self, request: Request, advertiser_id: str | None = None) -> Response:
        """Creatives first shown and active per week by format, and what changed last week
        (see :func:`AdSpark.timeline.advertiser_timeline`)."""
        advertiser = self.get_object()
        params = TimelineQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = advertiser_timeline(advertiser=advertiser, weeks=params.validated_data["weeks"])
        return Response(TimelineSerializer(data, context={"request": request}).data)
