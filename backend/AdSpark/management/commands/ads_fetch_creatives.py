"""``manage.py ads_fetch_creatives``: fetch Ads Transparency Center creatives from the shell.

Runs the same validation and fetch service as the API, in this process (or enqueues it on
``data_fetch`` with ``--enqueue``), with a progress bar and a summary.

    python manage.py ads_fetch_creatives --advertiser-ids AR17828074650563772417 --region US
    python manage.py ads_fetch_creatives --text tesla.com --region US --max-pages 2 --dry-run
"""

from __future__ import annotations

from typing import Any, TextIO, cast

from django.core.management.base import CommandError
from django.db import transaction
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from AdSpark.models import FetchRun
from AdSpark.queries import QUERY_FIELDS, QUERY_SPEC, FetchParamsError, normalize_fetch_params
from AdSpark.serpapi_client import SerpApiError
from AdSpark.services import DryRunResult, fetch_dry_run, fetch_run_create, fetch_run_execute, fetch_run_fail
from backend.celery import app
from core.diagnostics import FriendlyCommand


class Command(FriendlyCommand):
    help = "Fetch creatives from the Google Ads Transparency Center (SerpApi) into the database."

    def add_arguments(self, parser: Any) -> None:
        # one option per query field (AdSpark.queries.QUERY_SPEC), same names with dashes
        for spec in QUERY_SPEC:
            flag = "--" + spec.name.replace("_", "-")
            if spec.kind == "bool":
                parser.add_argument(flag, action="store_true", help=spec.help)
            elif spec.kind == "choice":
                parser.add_argument(flag, choices=spec.choices, help=spec.help)
            else:
                # ints stay strings here: normalize_fetch_params checks them and their bounds
                parser.add_argument(flag, metavar="N" if spec.kind == "int" else None, help=spec.help)
        parser.add_argument("--dry-run", action="store_true", help="Fetch and parse, write nothing.")
        parser.add_argument(
            "--enqueue", action="store_true", help="Enqueue on data_fetch instead of running here."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=cast(TextIO, self.stdout), highlight=False)
        raw = {name: options[name] for name in QUERY_FIELDS}
        raw["political_ads"] = raw["political_ads"] or None
        try:
            query = normalize_fetch_params(raw)
        except FetchParamsError as exc:
            lines = [
                f"  {'--' + key.replace('_', '-') if key != 'non_field_errors' else '(query)'}: {' '.join(msgs)}"
                for key, msgs in exc.errors.items()
            ]
            raise CommandError("Invalid parameters:\n" + "\n".join(lines)) from exc

        if options["dry_run"]:
            self._dry_run(console, query)
            return
        if options["enqueue"]:
            # The API may accept a run while the broker is down (the repair publishes it later);
            # a person at a terminal asked to enqueue now, so an unreachable broker is an error
            # (FriendlyCommand names CELERY_BROKER_URL and the fix) and no row is created.
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
            with transaction.atomic():
                run = fetch_run_create(owner=None, query=query)
            console.print(f"Enqueued fetch run {run.pk} (task {run.celery_task_id}) on queue data_fetch.")
            return

        with transaction.atomic():
            run = fetch_run_create(owner=None, query=query, enqueue=False)
        with self._progress(console) as progress:
            bar = progress.add_task("Fetching", total=query.max_pages)

            def on_page(current: FetchRun) -> None:
                progress.update(
                    bar,
                    completed=current.pages_fetched,
                    total=current.progress_total,
                    description=f"Fetching ({current.creatives_seen} creatives)",
                )

            try:
                run = fetch_run_execute(fetch_run_id=run.pk, on_page=on_page)
            except SerpApiError as exc:
                # Permanent errors already failed the run; a transient one ends it here, since
                # no Celery retry will pick it up.
                fetch_run_fail(fetch_run_id=run.pk, error=str(exc))
                raise CommandError(f"Fetch run {run.pk} failed: {exc}") from exc
        self._summary(console, run)

    @staticmethod
    def _progress(console: Console) -> Progress:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("pages"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )

    def _dry_run(self, console: Console, query: Any) -> None:
        with self._progress(console) as progress:
            bar = progress.add_task("Fetching (dry run)", total=query.max_pages)

            def on_page(result: DryRunResult) -> None:
                progress.update(bar, completed=result.pages)

            try:
                result = fetch_dry_run(query=query, on_page=on_page)
            except SerpApiError as exc:
                raise CommandError(f"Dry run failed: {exc}") from exc
        console.print(
            f"Dry run: {result.pages} page(s), {result.creatives_seen} creatives "
            f"({result.already_stored} already stored, {result.creatives_seen - result.already_stored} new), "
            f"{result.searches_used} search(es) spent, stopped: {result.stop_reason}. Nothing was written."
        )

    def _summary(self, console: Console, run: FetchRun) -> None:
        table = Table(title=f"Fetch run {run.pk}: {run.status}", show_header=False)
        for label, value in (
            ("pages fetched", run.pages_fetched),
            ("creatives seen", run.creatives_seen),
            ("new", run.creatives_new),
            ("updated", run.creatives_updated),
            ("searches used", run.searches_used),
            ("stopped because", run.get_stop_reason_display() if run.stop_reason else "-"),
        ):
            table.add_row(label, str(value))
        console.print(table)
