"""What a newcomer sees instead of a traceback: which piece is missing, and the command that fixes it.

:func:`explain` turns the infrastructure failures a fresh checkout meets (a database without
tables, PostgreSQL or Redis not running, no browser) into one line; the management commands
(:class:`FriendlyCommand`) and the demo print that line instead of a traceback. Failures it does
not recognise return None and keep their traceback: they are bugs, not setup steps.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.toolchain import ToolMissing

_MISSING_TABLE = re.compile(
    r"no such table|relation \"[^\"]+\" does not exist|no such column|column .* does not exist"
)
_CONNECT_REFUSED = re.compile(
    r"connection refused|could not connect|connection to server|name or service not known|timed out|error 111|error 61",
    re.I,
)


def _where(url: str) -> str:
    """``host:port`` of a service URL, without credentials."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port}" if parts.port else (parts.hostname or url)


def explain(exc: BaseException) -> str | None:
    """One line naming what is missing and the command that fixes it, or None if ``exc`` is not a
    setup problem. Looks at ``exc`` and its causes (``__cause__`` / ``__context__``)."""
    from django.db import DatabaseError
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current)
        if isinstance(current, ToolMissing):
            return str(current)
        if isinstance(current, DatabaseError):
            if _MISSING_TABLE.search(text):
                return "The database has no tables yet: run `make migrate` (or `cd backend && python manage.py migrate`)."
            if _CONNECT_REFUSED.search(text):
                database = settings.DATABASES["default"]
                where = f"{database.get('HOST') or 'localhost'}:{database.get('PORT') or 5432}"
                return (
                    f"PostgreSQL at {where} (DATABASE_URL) is not reachable: start it"
                    " (e.g. `sudo service postgresql start`), or unset DATABASE_URL to use SQLite."
                )
        if isinstance(current, BrokerError | RedisConnectionError) or (
            isinstance(current, ConnectionError) and "redis" in type(current).__module__
        ):
            where = _where(settings.CELERY_BROKER_URL)
            return (
                f"Redis at {where} (CELERY_BROKER_URL) is not reachable: start it"
                f" (`redis-server --daemonize yes --port {where.rsplit(':', 1)[-1]}`) or point CELERY_BROKER_URL at a running one."
            )
        if type(current).__name__ == "BrowserMissing":
            return text
        current = current.__cause__ or current.__context__
    return None


class FriendlyCommand(BaseCommand):
    """A management command whose setup failures end with ``CommandError: <what> : <fix>``
    (exit 1, no traceback; ``--traceback`` still shows one)."""

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except CommandError:
            raise
        except Exception as exc:
            hint = explain(exc)
            if hint is None or options.get("traceback"):
                raise
            raise CommandError(hint) from exc
