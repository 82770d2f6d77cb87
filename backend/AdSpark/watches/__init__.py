"""Watches: saved queries that AdSpark re-runs on a schedule and that report new creatives.

Modules: :mod:`.services` (create, update, run, record, fail), :mod:`.selectors` (reads),
:mod:`.serializers` and :mod:`.views` (the ``/api/adspark/watches/`` API). The names below are
re-exported so ``from AdSpark.watches import watch_run`` keeps working.
"""

from .services import (
    QUERY_FIELDS,
    SharedFetchPending,
    backoff_minutes,
    publish_watch_runs,
    watch_create,
    watch_query,
    watch_query_normalize,
    watch_run,
    watch_run_create,
    watch_run_fail,
    watch_run_for_task,
    watch_run_record,
    watch_runs_create,
    watch_update,
    watches_dispatch_due,
    webhook_url_check,
)

__all__ = [
    "QUERY_FIELDS",
    "SharedFetchPending",
    "backoff_minutes",
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
