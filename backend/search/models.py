"""Per-user search history.

The searchable text itself lives in AdSpark's tables (advertisers, creatives, creative
details); this app only adds full-text GIN indexes over them (migration 0002) and remembers
what each user searched for.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SearchHistoryEntry(models.Model):
    """One search a user ran: the text ``q``, the creative filters used and how many
    creatives matched. Repeating the latest search refreshes ``searched_at`` instead of adding
    a row (see :func:`search.services.search_history_record`)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="search_history"
    )
    q = models.CharField(max_length=200)
    filters = models.JSONField(default=dict, blank=True)
    result_count = models.PositiveIntegerField(default=0)
    searched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-searched_at", "-id"]
        indexes = [models.Index(fields=["owner", "-searched_at"])]
        verbose_name_plural = "search history entries"

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.q!r}"
