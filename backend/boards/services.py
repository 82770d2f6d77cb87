"""Writes for boards: create and change boards, save creatives to them, share them by link."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from AdSpark.models import Creative

from .models import Board, BoardItem

# Bytes of randomness in a share token (URL-safe base64: 32 characters). Unguessable links are
# the only protection of a shared board, as for any "anyone with the link" share.
SHARE_TOKEN_BYTES = 24
# Creatives saved by one bulk request: a page of the gallery is at most 200, a selection of a
# few pages stays far below this, and one INSERT of 500 rows takes milliseconds.
MAX_BULK_CREATIVES = 500


class BoardNameTaken(ValueError):
    """The owner already has a board with that name."""


class UnknownCreatives(ValueError):
    """Some creative ids are not stored; ``ids`` lists them (in the order given)."""

    def __init__(self, ids: list[str]):
        super().__init__(f"Unknown creatives: {', '.join(ids)}")
        self.ids = ids


def _touch(board: Board) -> None:
    Board.objects.filter(pk=board.pk).update(updated_at=timezone.now())


def _name_check(*, owner: Any, name: str, board: Board | None = None) -> None:
    others = Board.objects.filter(owner=owner, name=name)
    if board is not None:
        others = others.exclude(pk=board.pk)
    if others.exists():
        raise BoardNameTaken(name)


def board_create(*, owner: Any, name: str, description: str = "") -> Board:
    """Create a board of ``owner``.

    Raises:
        BoardNameTaken: ``owner`` has a board called ``name`` already.
    """
    _name_check(owner=owner, name=name)
    return Board.objects.create(owner=owner, name=name, description=description)


def board_update(*, board: Board, **fields: Any) -> Board:
    """Change a board's ``name`` and/or ``description``.

    Raises:
        BoardNameTaken: the owner has another board with the new name.
    """
    if "name" in fields:
        _name_check(owner=board.owner_id, name=fields["name"], board=board)
    for key in ("name", "description"):
        if key in fields:
            setattr(board, key, fields[key])
    board.save()
    return board


def board_item_add(*, board: Board, creative: Creative, note: str = "") -> tuple[BoardItem, bool]:
    """Save ``creative`` on ``board``; return ``(item, created)``.

    A creative already on the board is returned as it is (its note unchanged, ``created``
    False), so saving twice is harmless.
    """
    with transaction.atomic():
        item, created = BoardItem.objects.get_or_create(
            board=board, creative=creative, defaults={"note": note}
        )
        if created:
            _touch(board)
    return item, created


def board_items_add_bulk(*, board: Board, creative_ids: Iterable[str], note: str = "") -> tuple[int, int]:
    """Save every creative of ``creative_ids`` on ``board``; return ``(added, already_saved)``.

    All or nothing: three statements (which ids exist, which are saved, one INSERT).

    Raises:
        UnknownCreatives: some ids are not stored creatives (nothing is saved).
    """
    ids = list(dict.fromkeys(creative_ids))
    known = set(Creative.objects.filter(ad_creative_id__in=ids).values_list("ad_creative_id", flat=True))
    unknown = [creative_id for creative_id in ids if creative_id not in known]
    if unknown:
        raise UnknownCreatives(unknown)
    with transaction.atomic():
        saved = set(
            BoardItem.objects.filter(board=board, creative_id__in=ids).values_list("creative_id", flat=True)
        )
        new = [creative_id for creative_id in ids if creative_id not in saved]
        BoardItem.objects.bulk_create(
            [BoardItem(board=board, creative_id=creative_id, note=note) for creative_id in new],
            ignore_conflicts=True,  # a concurrent save of the same creative: keep theirs
        )
        if new:
            _touch(board)
    return len(new), len(ids) - len(new)


def board_item_update(*, item: BoardItem, note: str) -> BoardItem:
    """Change the note of a saved creative."""
    item.note = note
    item.save(update_fields=["note"])
    _touch(item.board)
    return item


def board_item_remove(*, item: BoardItem) -> None:
    """Take a creative off its board (the creative itself stays stored)."""
    board = item.board
    item.delete()
    _touch(board)


def board_share(*, board: Board) -> Board:
    """Share ``board`` read-only by link: give it a share token (kept if it has one)."""
    if not board.share_token:
        board.share_token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
        board.save(update_fields=["share_token", "updated_at"])
    return board


def board_unshare(*, board: Board) -> Board:
    """Stop sharing ``board``: its token is dropped, so the old link answers 404."""
    if board.share_token:
        board.share_token = None
        board.save(update_fields=["share_token", "updated_at"])
    return board
