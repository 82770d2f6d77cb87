"""Deleting old creatives (``cleanup_old_creatives_task``, queue ``maintenance``).

A creative is old when AdSpark has not seen it for ``days_old`` days (``updated_at``) and the
Ads Transparency Center has not shown it in that time either (``last_shown``). An old creative
is still kept when something refers to it:

- any row of any model with a foreign key (or many-to-many) to :class:`Creative`, found
  through ``Creative._meta.related_objects``: AI variants (``ai_agent.AdVariant.source_creative``),
  a user's saved creatives, and whatever is added later. ``CreativeDetails`` and
  ``CreativeArchive`` are part of the creative (deleted with it, the archive's files too, after
  commit) and do not count;
- a recent watch run (``WatchRun.new_creative_ids`` of runs created within
  ``WATCH_RUN_REFERENCE_DAYS``): its alert links to them.

Watches remember what they have seen by id (``WatchCreative.ad_creative_id``, not a foreign
key), so a deleted creative that comes back is not "new" to a watch again.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Creative, CreativeArchive, CreativeDetails, WatchRun

logger = logging.getLogger(__name__)

# Creatives deleted per transaction: a batch holds row locks for well under a second on
# PostgreSQL (CreativeDetails cascade included) and keeps the WAL burst small.
CLEANUP_BATCH_SIZE = 1000
# Runs this recent keep their new creatives: alerts link to them (and the API lists them).
WATCH_RUN_REFERENCE_DAYS = 30


def _referenced_elsewhere(queryset: QuerySet[Creative]) -> QuerySet[Creative]:
    """Exclude creatives that any model other than CreativeDetails and CreativeArchive points at."""
    for relation in Creative._meta.related_objects:
        model = relation.related_model
        if model in (CreativeDetails, CreativeArchive):
            continue
        if relation.many_to_many:
            through: Any = getattr(relation, "through", None) or getattr(
                relation.field.remote_field, "through", None
            )
            for field in through._meta.get_fields():
                if getattr(field, "related_model", None) is Creative and field.concrete:
                    queryset = queryset.exclude(pk__in=through._default_manager.values(field.attname))
            continue
        field = relation.field
        queryset = queryset.exclude(
            pk__in=model._default_manager.filter(**{f"{field.name}__isnull": False}).values(field.attname)
        )
    return queryset


def _delete_files(names: list[str]) -> None:
    """Delete archived files of deleted creatives from the default storage; a failure is
    logged (an orphan file costs space, not correctness)."""
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except Exception as exc:  # storage unreachable (S3): keep going
            logger.warning("creative cleanup: could not delete %s: %s", name, exc)


def _recent_watch_run_ids(now: dt.datetime) -> set[str]:
    since = now - dt.timedelta(days=WATCH_RUN_REFERENCE_DAYS)
    ids: set[str] = set()
    for new_ids in (
        WatchRun.objects.filter(created_at__gte=since, new_creatives_count__gt=0)
        .values_list("new_creative_ids", flat=True)
        .iterator(chunk_size=500)
    ):
        ids.update(new_ids or [])
    return ids


def creatives_cleanup_old(
    *, days_old: int = 90, now: dt.datetime | None = None, batch_size: int = CLEANUP_BATCH_SIZE
) -> dict[str, int]:
    """Delete old, unreferenced creatives in batches; return ``{"deleted", "protected"}``.

    ``protected`` counts old creatives kept because something refers to them.

    Raises:
        ValueError: ``days_old`` < 1.
    """
    if days_old < 1:
        raise ValueError("days_old must be at least 1.")
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=days_old)
    old = Creative.objects.filter(updated_at__lt=cutoff).filter(
        Q(last_shown__lt=cutoff) | Q(last_shown__isnull=True)
    )
    keep = _recent_watch_run_ids(now)
    deletable = _referenced_elsewhere(old).exclude(pk__in=keep).order_by("pk")
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                deletable.select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                break
            files = [
                name
                for pair in CreativeArchive.objects.filter(creative_id__in=batch).values_list(
                    "image", "thumbnail"
                )
                for name in pair
                if name
            ]
            Creative.objects.filter(pk__in=batch).delete()
            if files:
                transaction.on_commit(lambda files=files: _delete_files(files))
        deleted += len(batch)
    protected = old.count()
    logger.info(
        "creative cleanup: deleted %d creatives older than %d days, kept %d referenced",
        deleted,
        days_old,
        protected,
    )
    return {"deleted": deleted, "protected": protected}
