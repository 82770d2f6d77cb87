"""Shared set-up for benchmarks: a private PostgreSQL database and Django configured for it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
BACKEND_DIR = REPO_DIR / "backend"
SHARED_RESPONSES = REPO_DIR.parent / "shared" / "fixtures" / "serpapi" / "responses"


def setup_django(database: str, *, redis_db: int = 9) -> None:
    """Point Django at PostgreSQL database ``database`` (created if missing), migrate, set up.

    Environment: ``BENCH_PG`` (default ``postgres://postgres@127.0.0.1:5432``) and
    ``BENCH_REDIS`` (default ``redis://127.0.0.1:6379``); Redis db ``redis_db`` is used for
    broker, results and rate-limit state so a benchmark never touches a dev stack's queues.
    """
    import psycopg2

    base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    redis = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
    conn = psycopg2.connect(f"{base}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{database}"')
    conn.close()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="backend.settings",
        DJANGO_DEBUG="true",
        DATABASE_URL=f"{base}/{database}",
        CELERY_BROKER_URL=f"{redis}/{redis_db}",
        CELERY_RESULT_BACKEND=f"{redis}/{redis_db}",
        REDIS_URL=f"{redis}/{redis_db}",
        LOG_LEVEL="warning",
    )
    sys.path[:0] = [str(BACKEND_DIR), str(REPO_DIR)]
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    # DJANGO_DEBUG=true only spares the benchmark a secret key; production runs with DEBUG off,
    # and with it on Django keeps every SQL string it ran (a page's whole JSON document).
    from django.conf import settings

    settings.DEBUG = False
