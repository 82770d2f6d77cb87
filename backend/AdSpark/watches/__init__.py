"""Watches: saved queries that AdSpark re-runs on a schedule and that report new creatives.

Modules: :mod:`.services` (create, update, run, record, fail), :mod:`.dispatch` (due watches
and triggers become runs, published to ``data_fetch``), :mod:`.selectors` (reads),
:mod:`.serializers` and :mod:`.views` (the ``/api/adspark/watches/`` API). The names below are
re-exported so ``from AdSpark.watches import watch_run`` keeps working.
"""

from .dispatch import (
    fetch_followers_resume,
    publish_watch_runs,
    watch_run_create,
    watch_runs_create,
    watches_dispatch_due,
)
from .services import (
    QUERY_FIELDS,
    backoff_minutes,
    watch_create,
    watch_query,
    watch_query_normalize,
    watch_run,
    watch_run_fail,
    watch_run_for_task,
    watch_run_record,
    watch_update,
    webhook_url_check,
)

__all__ = [
    "QUERY_FIELDS",
    "backoff_minutes",
    "fetch_followers_resume",
    "publish_watch_runs",
    "watch_create",
    "watch_query",
    "watch_query_normalize",
    "watch_run",
    "watch_run_create",
    "watch_run_fail",
    "watch_run_for_task",
    "watch_run_record",
    "watch_runs_create",
    "watch_update",
    "watches_dispatch_due",
    "webhook_url_check",
]
