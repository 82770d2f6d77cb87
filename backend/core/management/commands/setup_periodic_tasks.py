"""``manage.py setup_periodic_tasks [--reset]``: create the default celery beat schedule."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from core.diagnostics import FriendlyCommand
from core.maintenance import DEFAULT_PERIODIC_TASKS, periodic_tasks_ensure


class Command(FriendlyCommand):
    help = (
        "Create the default periodic tasks (watch dispatcher every minute, creative cleanup "
        "daily, stuck-run repair every JOB_REPAIR_INTERVAL_SECONDS, pruning daily) in django-celery-beat's "
        "tables. Idempotent; entries edited in the admin are kept unless --reset. "
        "`migrate` runs this too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Restore existing entries to the defaults.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = periodic_tasks_ensure(reset=options["reset"])
        for name in DEFAULT_PERIODIC_TASKS:
            self.stdout.write(f"{result[name]:>8}  {name}")
