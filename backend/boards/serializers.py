"""API shapes for boards (``/api/adspark/boards/…``) and shared boards (``/shared-boards/…``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from AdSpark.serializers import CreativeExportRowSerializer, CreativeSerializer
from core.text import CleanCharField

from .models import Board, BoardItem
from .services import MAX_BULK_CREATIVES

CREATIVE_ID_PATTERN = r"^CR[0-9]{20}$"
MAX_DESCRIPTION_LENGTH = 2000
MAX_NOTE_LENGTH = 2000


def share_url(board: Board) -> str | None:
    """The web app's page of a shared board (``{APP_BASE_URL}/shared/<token>``), or None."""
    return f"{settings.APP_BASE_URL}/shared/{board.share_token}" if board.share_token else None


class BoardSerializer(serializers.ModelSerializer):
    """A board: ``item_count`` saved creatives, ``cover_thumbnails`` (≤4 image URLs of the newest
    saved creatives), ``share_url`` while shared by link (else null)."""

    name = CleanCharField(max_length=200)
    description = CleanCharField(
        required=False, allow_blank=True, max_length=MAX_DESCRIPTION_LENGTH, multiline=True
    )
    item_count = serializers.SerializerMethodField()
    share_url = serializers.SerializerMethodField(
        help_text="The web app's read-only page of this board while it is shared, else null."
    )
    cover_thumbnails = serializers.SerializerMethodField(
        help_text="Image URLs of up to 4 of the newest saved creatives."
    )

    class Meta:
        model = Board
        fields = [
            "id",
            "name",
            "description",
            "item_count",
            "share_url",
            "cover_thumbnails",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_item_count(self, obj: Board) -> int:
        count = getattr(obj, "item_count", None)
        return int(count) if count is not None else obj.items.count()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_share_url(self, obj: Board) -> str | None:
        return share_url(obj)

    def get_cover_thumbnails(self, obj: Board) -> list[str]:
        items = getattr(obj, "cover_items", None)
        if items is None:
            items = list(obj.items.filter(creative__image_url__gt="").select_related("creative")[:4])
        return [item.creative.image_url for item in items]


class BoardItemSerializer(serializers.ModelSerializer):
    """A creative saved on a board, with the owner's note."""

    creative = CreativeSerializer(read_only=True)

    class Meta:
        model = BoardItem
        fields = ["id", "creative", "note", "added_at"]
        read_only_fields = fields


class BoardItemCreateSerializer(serializers.Serializer):
    """Body of ``POST /boards/{id}/items/``."""

    creative_id = serializers.RegexField(
        CREATIVE_ID_PATTERN,
        error_messages={"invalid": "A creative ID is CR followed by 20 digits."},
        help_text="The creative's ad_creative_id (CR…).",
    )
    note = CleanCharField(required=False, allow_blank=True, max_length=MAX_NOTE_LENGTH, multiline=True)


class BoardItemUpdateSerializer(serializers.Serializer):
    """Body of ``PATCH /boards/{id}/items/{item_id}/``."""

    note = CleanCharField(allow_blank=True, max_length=MAX_NOTE_LENGTH, multiline=True)


class BoardBulkAddSerializer(serializers.Serializer):
    """Body of ``POST /boards/{id}/items/bulk/``: up to 500 creative IDs and one note for all."""

    creative_ids = serializers.ListField(
        child=serializers.RegexField(
            CREATIVE_ID_PATTERN, error_messages={"invalid": "A creative ID is CR followed by 20 digits."}
        ),
        min_length=1,
        max_length=MAX_BULK_CREATIVES,
        error_messages={
            "min_length": "Choose at least one creative.",
            "max_length": f"At most {MAX_BULK_CREATIVES} creatives at a time.",
        },
    )
    note = CleanCharField(required=False, allow_blank=True, max_length=MAX_NOTE_LENGTH, multiline=True)


class BoardBulkAddResultSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Creatives saved now.")
    already_saved = serializers.IntegerField(help_text="Creatives that were on the board already.")


class CreativeBoardSerializer(serializers.Serializer):
    """A board of the caller's that holds a creative (``item_id``: the creative's item there)."""

    id = serializers.IntegerField(source="board_id")
    name = serializers.CharField(source="board.name")
    item_id = serializers.IntegerField(source="id")


class SharedBoardItemSerializer(serializers.ModelSerializer):
    creative = CreativeSerializer(read_only=True)

    class Meta:
        model = BoardItem
        fields = ["creative", "note", "added_at"]
        read_only_fields = fields


class SharedBoardSerializer(serializers.Serializer):
    """``GET /shared-boards/{token}/``: a shared board, read-only, with a page of its items."""

    name = serializers.CharField()
    description = serializers.CharField()
    owner_display = serializers.CharField(help_text="Who shared it: the owner's full name, else username.")
    count = serializers.IntegerField(help_text="Saved creatives in all.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    items = SharedBoardItemSerializer(many=True)


def owner_display(user: Any) -> str:
    """How a shared board names its owner: the full name, else the username."""
    return (user.get_full_name() or "").strip() or user.get_username()


class BoardExportRowSerializer(CreativeExportRowSerializer):
    """One element of a board's JSON export: the creative's export row plus the board's note."""

    note = serializers.CharField()
