"""Board API: the caller's boards (``/api/adspark/boards/``), their items, bulk saving,
sharing by link, the boards holding a creative, and the public read-only shared board."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from AdSpark.exports import COLUMNS, NOTE_COLUMN, export_response
from AdSpark.models import Creative
from AdSpark.serializers import EXPORT_FORMAT_PARAMETER, ExportQuerySerializer

from . import selectors, services
from .models import Board, BoardItem
from .serializers import (
    BoardBulkAddResultSerializer,
    BoardBulkAddSerializer,
    BoardExportRowSerializer,
    BoardItemCreateSerializer,
    BoardItemSerializer,
    BoardItemUpdateSerializer,
    BoardSerializer,
    CreativeBoardSerializer,
    SharedBoardItemSerializer,
    SharedBoardSerializer,
    owner_display,
)

NAME_TAKEN = "You already have a board with this name."


class BoardViewSet(viewsets.ModelViewSet):
    """The caller's boards; another user's board is a 404.

    ``GET/POST {id}/items/``, ``PATCH/DELETE {id}/items/{item_id}/``, ``POST {id}/items/bulk/``,
    ``POST/DELETE {id}/share/``.
    """

    serializer_class = BoardSerializer
    queryset = Board.objects.none()  # the model, for the schema; rows: get_queryset()
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["-updated_at", "-id"]
    not_found_message = "This board does not exist or is not yours."

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return Board.objects.none()
        return selectors.board_list(user=self.request.user)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The export answers CSV or JSON by its export_format parameter, whatever Accept says.
        return super().perform_content_negotiation(request, force=force or self.action == "export")

    def perform_create(self, serializer: Any) -> None:
        try:
            with transaction.atomic():
                board = services.board_create(owner=self.request.user, **serializer.validated_data)
        except (services.BoardNameTaken, IntegrityError) as exc:
            raise serializers.ValidationError({"name": [NAME_TAKEN]}) from exc
        serializer.instance = self.get_queryset().get(pk=board.pk)

    def perform_update(self, serializer: Any) -> None:
        try:
            with transaction.atomic():
                board = services.board_update(board=serializer.instance, **serializer.validated_data)
        except (services.BoardNameTaken, IntegrityError) as exc:
            raise serializers.ValidationError({"name": [NAME_TAKEN]}) from exc
        serializer.instance = self.get_queryset().get(pk=board.pk)

    def _item(self, board: Board, item_id: str) -> BoardItem:
        item = BoardItem.objects.filter(board=board, pk=item_id).select_related("board").first()
        if item is None:
            raise NotFound("This creative is not on this board.")
        return item

    @extend_schema(methods=["GET"], responses=BoardItemSerializer(many=True), filters=False)
    @extend_schema(
        methods=["POST"],
        request=BoardItemCreateSerializer,
        responses={
            201: BoardItemSerializer,
            200: OpenApiResponse(BoardItemSerializer, description="Already saved: the existing item"),
            400: OpenApiResponse(description="Field errors"),
        },
    )
    @action(detail=True, methods=["get", "post"])
    def items(self, request: Request, pk: str | None = None) -> Response:
        board = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.board_item_list(board=board))
            data = BoardItemSerializer(page, many=True, context={"request": request}).data
            return self.get_paginated_response(data)
        body = BoardItemCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        creative = (
            Creative.objects.select_related("advertiser")
            .filter(pk=body.validated_data["creative_id"])
            .first()
        )
        if creative is None:
            raise serializers.ValidationError({"creative_id": ["This creative is not stored."]})
        item, created = services.board_item_add(
            board=board, creative=creative, note=body.validated_data.get("note", "")
        )
        item.creative = creative
        return Response(
            BoardItemSerializer(item, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(methods=["PATCH"], request=BoardItemUpdateSerializer, responses={200: BoardItemSerializer})
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["patch", "delete"], url_path=r"items/(?P<item_id>[0-9]+)")
    def item(self, request: Request, pk: str | None = None, item_id: str = "") -> Response:
        item = self._item(self.get_object(), item_id)
        if request.method == "DELETE":
            services.board_item_remove(item=item)
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = BoardItemUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = services.board_item_update(item=item, note=body.validated_data["note"])
        item = selectors.board_item_list(board=item.board).get(pk=item.pk)
        return Response(BoardItemSerializer(item, context={"request": request}).data)

    @extend_schema(
        request=BoardBulkAddSerializer,
        responses={200: BoardBulkAddResultSerializer, 400: OpenApiResponse(description="Field errors")},
    )
    @action(detail=True, methods=["post"], url_path="items/bulk", url_name="items-bulk")
    def items_bulk(self, request: Request, pk: str | None = None) -> Response:
        board = self.get_object()
        body = BoardBulkAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            added, already = services.board_items_add_bulk(
                board=board,
                creative_ids=body.validated_data["creative_ids"],
                note=body.validated_data.get("note", ""),
            )
        except services.UnknownCreatives as exc:
            shown = ", ".join(exc.ids[:20]) + (f" and {len(exc.ids) - 20} more" if len(exc.ids) > 20 else "")
            raise serializers.ValidationError(
                {"creative_ids": [f"These creatives are not stored: {shown}."]}
            ) from exc
        return Response({"added": added, "already_saved": already})

    @extend_schema(
        operation_id="adspark_boards_export",
        filters=False,
        parameters=[EXPORT_FORMAT_PARAMETER],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): BoardExportRowSerializer(many=True),
            400: OpenApiResponse(description="Field errors"),
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def export(self, request: Request, pk: str | None = None) -> StreamingHttpResponse:
        """Every creative on the board with its note, as a CSV or JSON download."""
        board = self.get_object()
        params = ExportQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return export_response(
            selectors.board_export_rows(board=board, absolute=request.build_absolute_uri),
            export_format=params.validated_data["export_format"],
            filename_stem=f"adspark-board-{board.pk}",
            columns=(*COLUMNS, NOTE_COLUMN),
        )

    @extend_schema(methods=["POST"], request=None, responses={200: BoardSerializer})
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["post", "delete"])
    def share(self, request: Request, pk: str | None = None) -> Response:
        board = self.get_object()
        if request.method == "DELETE":
            services.board_unshare(board=board)
            return Response(status=status.HTTP_204_NO_CONTENT)
        services.board_share(board=board)
        return Response(
            BoardSerializer(self.get_queryset().get(pk=board.pk), context={"request": request}).data
        )


class CreativeBoardsView(APIView):
    """``GET /api/adspark/creatives/{ad_creative_id}/boards/``: the caller's boards holding this
    creative, ``[{id, name, item_id}]`` (empty when none; for the "saved" state of a button)."""

    @extend_schema(responses=CreativeBoardSerializer(many=True))
    def get(self, request: Request, ad_creative_id: str) -> Response:
        items = selectors.boards_with_creative(user=request.user, ad_creative_id=ad_creative_id)
        return Response(CreativeBoardSerializer(items, many=True).data)


class SharedBoardView(generics.GenericAPIView):
    """``GET /api/adspark/shared-boards/{token}/``: a shared board for anyone with the link (no
    sign-in), read-only, its items paginated; an unknown or revoked token is a 404."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    serializer_class = SharedBoardItemSerializer
    filter_backends: list[Any] = []
    not_found_message = "This shared board does not exist or is no longer shared."

    @extend_schema(
        responses={200: SharedBoardSerializer, 404: OpenApiResponse(description="Unknown or revoked")}
    )
    def get(self, request: Request, token: str) -> Response:
        board = selectors.board_shared(token=token)
        if board is None:
            raise NotFound(self.not_found_message)
        page = self.paginate_queryset(selectors.board_item_list(board=board))
        assert self.paginator is not None
        paginated = self.get_paginated_response(
            SharedBoardItemSerializer(page, many=True, context={"request": request}).data
        ).data
        return Response(
            {
                "name": board.name,
                "description": board.description,
                "owner_display": owner_display(board.owner),
                "count": paginated["count"],
                "next": paginated["next"],
                "previous": paginated["previous"],
                "items": paginated["results"],
            }
        )
