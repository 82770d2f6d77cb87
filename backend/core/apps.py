from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "AdSpark core"

    def ready(self) -> None:
        post_migrate.connect(_ensure_periodic_tasks, sender=self, dispatch_uid="core.periodic_tasks")
        from .metrics import register_cluster_collector
        from .metrics.collectors import beat_metrics, job_metrics, queue_metrics

        register_cluster_collector("queues", queue_metrics)
        register_cluster_collector("jobs", job_metrics)
        register_cluster_collector("beat", beat_metrics)


def _ensure_periodic_tasks(*, using: str = "default", **kwargs: Any) -> None:
    """After ``migrate``: create the default beat schedule entries that are missing."""
    from django.db import connections
    from django_celery_beat.models import PeriodicTask

    if PeriodicTask._meta.db_table not in connections[using].introspection.table_names():
        return  # migrating backwards, or django_celery_beat not migrated yet
    from .maintenance import periodic_tasks_ensure

    periodic_tasks_ensure(using=using)
