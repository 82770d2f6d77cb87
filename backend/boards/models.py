"""Boards (swipe files): named collections of creatives a user keeps, with a note per creative.

A board belongs to one user (another user's board is a 404). Sharing gives it a random
``share_token``: anyone with the link ``{APP_BASE_URL}/shared/<token>`` can read it (read-only,
no sign-in); revoking clears the token, so the old link stops working.
A saved creative is a foreign key to :class:`AdSpark.models.Creative`, which is what keeps it from
the cleanup of old creatives (AdSpark.cleanup keeps every creative something refers to).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from AdSpark.models import Creative


class Board(models.Model):
    """A user's named board; ``share_token`` is set while it is shared by link (else null)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="boards")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    share_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Also moved when items are added, changed or removed: boards are listed by it.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="board_name_once_per_owner")]

    def __str__(self) -> str:
        return f"Board {self.pk} {self.name!r}"


class BoardItem(models.Model):
    """A creative saved on a board (once per board), with the owner's ``note``."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="items")
    creative = models.ForeignKey(Creative, on_delete=models.CASCADE, related_name="board_items")
    note = models.TextField(blank=True, default="")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["board", "creative"], name="board_item_once_per_board")
        ]
        indexes = [models.Index(fields=["board", "-added_at"])]

    def __str__(self) -> str:
        return f"{self.creative_id} on board {self.board_id}"
