"""AdSpark's job models as :mod:`core.jobs` sees them (registered in ``AdSparkConfig.ready``).

* FetchRun runs in ``fetch_creatives_task(fetch_run_id=…)``; it resumes from its checkpoint
  (``next_page_token``), so a re-send is safe; ``retries`` counts re-sends. When it ends, the
  watch runs waiting on it are resumed (:func:`AdSpark.watches.dispatch.fetch_followers_resume`).
* WatchRun runs in ``process_watch_task(watch_id, watch_run_id=…)``; recording new creatives
  happens once under a row lock, so a re-send is safe; ``requeues`` counts re-sends. Failing one
  also backs its watch off (:func:`AdSpark.watches.services.watch_run_fail`).
"""

from __future__ import annotations

from core.jobs import JobKind, job_register


def register_jobs() -> None:
    """Register FetchRun and WatchRun with core (idempotent)."""
    from .models import FetchRun, WatchRun
    from .watches import dispatch, services

    job_register(
        JobKind(
            model=FetchRun,
            task_name=FetchRun.TASK_NAME,
            task_kwargs=lambda row: {"fetch_run_id": row.pk},
            requeue_counter="retries",
            on_finish=lambda pk: dispatch.fetch_followers_resume(fetch_run_id=pk),
        )
    )
    job_register(
        JobKind(
            model=WatchRun,
            task_name=WatchRun.TASK_NAME,
            task_kwargs=lambda row: {"watch_id": row.watch_id, "watch_run_id": row.pk},
            requeue_counter="requeues",
            fail=lambda pk, error: services.watch_run_fail(watch_run_id=pk, error=error),
        )
    )
