"""Watch API: ``/api/adspark/watches/`` CRUD (owner-scoped), trigger, runs, new creatives."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from ..models import Watch, WatchRun
from . import selectors
from .dispatch import watch_run_create, watch_runs_create
from .serializers import (
    TriggerAllSerializer,
    WatchNewCreativeSerializer,
    WatchRunSerializer,
    WatchSerializer,
)
from .services import watch_create, watch_update

_TriggerAllResponse = inline_serializer(
    "WatchTriggerAll", fields={"count": serializers.IntegerField(), "runs": WatchRunSerializer(many=True)}
)


class WatchRunViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """``GET /api/adspark/watch-runs/{id}/``: one of the caller's watch runs, the ``status_url``
    of a triggered run. Another user's run is a 404 (staff included)."""

    serializer_class = WatchRunSerializer
    queryset = WatchRun.objects.none()  # the model, for the schema; rows: get_queryset()
    lookup_value_regex = r"[0-9]+"
    not_found_message = "This watch run does not exist or is not yours."

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return WatchRun.objects.none()
        return selectors.watch_run_list_for_user(user=self.request.user)


class WatchViewSet(viewsets.ModelViewSet):
    """The caller's watches. Another user's watch is a 404 (staff included).

    ``POST {id}/trigger/`` → 202 with the WatchRun; ``POST trigger_all/`` runs the caller's
    active watches (``{"all_users": true}``: every user's, staff only); ``GET {id}/runs/``;
    ``GET {id}/new-creatives/`` (``?run=<id>``, ``?include_baseline=true``).
    """

    serializer_class = WatchSerializer
    queryset = Watch.objects.none()  # the model, for the schema; rows: get_queryset()
    lookup_value_regex = r"[0-9]+"
    not_found_message = "This watch does not exist or is not yours."
    filterset_fields = ["is_active"]
    search_fields = ["name", "text"]
    ordering_fields = ["name", "next_run_at", "created_at"]
    ordering = ["name", "id"]
    # Enqueue endpoints spend SerpApi searches: the same throttle as POST /fetch/.
    throttle_scope = "fetch"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return Watch.objects.none()
        return selectors.watch_list(user=self.request.user)

    def get_throttles(self) -> list[Any]:
        if self.action in ("trigger", "trigger_all"):
            return [ScopedRateThrottle()]
        return super().get_throttles()

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        query = data.pop("query")
        serializer.instance = watch_create(owner=self.request.user, query=query, **data)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = watch_update(watch=serializer.instance, **data)

    @extend_schema(
        request=None, responses={202: WatchRunSerializer, 404: OpenApiResponse(description="Not yours")}
    )
    @action(detail=True, methods=["post"])
    def trigger(self, request: Request, pk: str | None = None) -> Response:
        watch = self.get_object()
        with transaction.atomic():
            run = watch_run_create(watch=watch)
        data = WatchRunSerializer(run, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["status_url"]})

    @extend_schema(request=TriggerAllSerializer, responses={202: _TriggerAllResponse})
    @action(detail=False, methods=["post"], url_path="trigger_all", url_name="trigger-all")
    def trigger_all(self, request: Request) -> Response:
        body = TriggerAllSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data["all_users"]:
            if not request.user.is_staff:
                raise PermissionDenied("Only staff can trigger every user's watches.")
            watches = Watch.objects.filter(is_active=True)
        else:
            watches = self.get_queryset().filter(is_active=True)
        with transaction.atomic():
            runs = watch_runs_create(watches=list(watches))
        data = WatchRunSerializer(runs, many=True, context={"request": request}).data
        return Response({"count": len(runs), "runs": data}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=WatchRunSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"])
    def runs(self, request: Request, pk: str | None = None) -> Response:
        watch = self.get_object()
        page = self.paginate_queryset(selectors.watch_run_list(watch=watch))
        return self.get_paginated_response(
            WatchRunSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        responses=WatchNewCreativeSerializer(many=True),
        filters=False,
        parameters=[
            OpenApiParameter("run", int, description="Only creatives first seen by this run."),
            OpenApiParameter("include_baseline", bool, description="Include the baseline run's creatives."),
        ],
    )
    @action(detail=True, methods=["get"], url_path="new-creatives", url_name="new-creatives")
    def new_creatives(self, request: Request, pk: str | None = None) -> Response:
        watch = self.get_object()
        run_id = request.query_params.get("run")
        if run_id is not None and not run_id.isdigit():
            raise ValidationError({"run": ["Must be a watch run id."]})
        include_baseline = request.query_params.get("include_baseline", "").lower() in ("1", "true", "yes")
        seen = selectors.watch_seen_list(
            watch=watch, watch_run_id=int(run_id) if run_id else None, include_baseline=include_baseline
        )
        page = self.paginate_queryset(seen)
        creatives = selectors.creatives_for_seen(list(page or []))
        return self.get_paginated_response(
            WatchNewCreativeSerializer(creatives, many=True, context={"request": request}).data
        )
