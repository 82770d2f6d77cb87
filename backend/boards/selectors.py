"""Reads for boards: a user's boards (with counts and covers), items, shared boards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from AdSpark.exports import EXPORT_CHUNK_SIZE, NOTE_COLUMN, URLBuilder, creative_row

from .models import Board, BoardItem

# Thumbnails shown on a board's card (the newest saved creatives that have an image).
COVER_THUMBNAILS = 4


def board_list(*, user: Any) -> QuerySet[Board]:
    """The boards ``user`` owns, newest change first, with ``item_count`` and ``cover_items``
    (the newest :data:`COVER_THUMBNAILS` items with an image; one extra query for a page)."""
    covers = (
        BoardItem.objects.filter(creative__image_url__gt="")
        .select_related("creative")
        .order_by("-added_at", "-id")[:COVER_THUMBNAILS]
    )
    return (
        Board.objects.filter(owner=user)
        .annotate(item_count=Count("items"))
        .prefetch_related(Prefetch("items", queryset=covers, to_attr="cover_items"))
        .order_by("-updated_at", "-id")
    )


def board_item_list(*, board: Board) -> QuerySet[BoardItem]:
    """A board's items, newest first, with their creatives and advertisers joined."""
    return (
        BoardItem.objects.filter(board=board)
        .select_related("creative__advertiser")
        .order_by("-added_at", "-id")
    )


def board_export_rows(*, board: Board, absolute: URLBuilder) -> Iterator[dict[str, Any]]:
    """Export rows (:data:`AdSpark.exports.COLUMNS` + ``note``) of every item of ``board``,
    newest first, streamed with a server-side cursor (one query in all)."""
    items = board_item_list(board=board).iterator(chunk_size=EXPORT_CHUNK_SIZE)
    for item in items:
        yield {**creative_row(item.creative, absolute=absolute), NOTE_COLUMN: item.note}


def boards_with_creative(*, user: Any, ad_creative_id: str) -> QuerySet[BoardItem]:
    """The items of ``user``'s boards that hold creative ``ad_creative_id``, board name order
    (``board`` joined)."""
    return (
        BoardItem.objects.filter(board__owner=user, creative_id=ad_creative_id)
        .select_related("board")
        .order_by("board__name", "board_id")
    )


def board_shared(*, token: str) -> Board | None:
    """The board shared with ``token`` (its owner joined), or None (unknown or revoked)."""
    if not token:
        return None
    return Board.objects.select_related("owner").filter(share_token=token).first()
