from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "AdSpark core"

    def ready(self) -> None:
        from celery.signals import worker_ready

        post_migrate.connect(_ensure_periodic_tasks, sender=self, dispatch_uid="core.periodic_tasks")
        worker_ready.connect(_take_over_after_restart, dispatch_uid="core.take_over_after_restart")

        # Cluster metrics read at scrape time (core.metrics); apps add theirs in their ready().
        from .metrics import register_cluster_collector
        from .metrics.collectors import beat_metrics, job_metrics, queue_metrics

        register_cluster_collector("queues", queue_metrics)
        register_cluster_collector("jobs", job_metrics)
        register_cluster_collector("beat", beat_metrics)


def _take_over_after_restart(sender: Any = None, **kwargs: Any) -> None:
    """When a worker starts: expire the leases its previous life held and ask for a repair.

    A restarted worker (same ``-n`` hostname) holds no job yet, so leases naming it belong to
    the process that died; expiring them and sending ``repair_stuck_runs_task`` at once hands
    those jobs over within seconds of the restart instead of a lease plus a beat interval.
    """
    import logging

    from .jobs import leases_release_of_worker

    logger = logging.getLogger(__name__)
    hostname = str(getattr(sender, "hostname", "") or "")
    try:
        released = leases_release_of_worker(hostname) if hostname else 0
        if released:
            # Only a restart that left jobs behind needs a repair now; every other start would
            # put a message on `maintenance` that nobody asked for (beat's repair covers the rest).
            from .tasks import repair_stuck_runs_task

            repair_stuck_runs_task.delay()
    except Exception as exc:  # the database or broker is not up yet: beat's repair will do it
        logger.warning("worker %s: no take-over at start: %s", hostname, exc)
        return
    if released:
        logger.warning(
            "worker %s restarted: released %d job leases of its previous process", hostname, released
        )


def _ensure_periodic_tasks(*, using: str = "default", **kwargs: Any) -> None:
    """After ``migrate``: create the default beat schedule entries that are missing."""
    from django.db import connections
    from django_celery_beat.models import PeriodicTask

    if PeriodicTask._meta.db_table not in connections[using].introspection.table_names():
        return  # migrating backwards, or django_celery_beat not migrated yet
    from .maintenance import periodic_tasks_ensure

    periodic_tasks_ensure(using=using)
