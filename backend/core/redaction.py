"""Credentials masked out of every text that leaves a process: the one place that decides.

What counts as a secret:

- every configured credential: ``SERPAPI_API_KEY``, ``DIFY_API_KEY``, ``OPENAI_API_KEY``,
  ``DJANGO_SECRET_KEY``, the password of ``FLOWER_BASIC_AUTH``, and the password in each
  connection URL (``CELERY_BROKER_URL``, ``CELERY_RESULT_BACKEND``, ``REDIS_URL``, the
  database) — wherever it appears in the text;
- and, by shape, whatever the configuration does not know: the password in any
  ``scheme://user:password@host`` URL, the value of an ``api_key=`` / ``key=`` /
  ``token=`` / ``password=`` query parameter, and a ``Bearer`` token.

Where it is applied (each calls :func:`redact`):

- log records, through :class:`RedactingFilter` on every handler (Django's ``LOGGING`` and the
  Celery worker's handlers, see ``backend/celery.py``);
- stored errors, through :class:`RedactedTextField` (the ``error`` columns of job rows and
  webhook deliveries), which redacts on every write, ``save()`` and ``QuerySet.update()``;
- exceptions that become task results and events: the SerpApi client and the AI providers
  build their error messages with :func:`redact`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models

MASK = "[redacted]"

# A shorter "secret" would mask ordinary words (an empty or one-letter password, "dev").
MIN_SECRET_LENGTH = 6

_URL_PASSWORD_RE = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@/\s]+)(?=@)", re.I)
_QUERY_SECRET_RE = re.compile(
    r"(?P<head>[?&;](?:api_key|apikey|key|access_token|token|password|secret)=)(?P<value>[^&\s'\"<>]+)", re.I
)
_BEARER_RE = re.compile(r"(?P<head>\bBearer\s+)(?P<value>[A-Za-z0-9._~+/=-]{6,})")

_SECRET_SETTINGS = ("SERPAPI_API_KEY", "DIFY_API_KEY", "OPENAI_API_KEY", "SECRET_KEY")
_URL_SETTINGS = ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_URL", "DATABASE_URL")


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def configured_secrets() -> list[str]:
    """Return the credentials configured for this process, longest first (from settings/env).

    Values shorter than :data:`MIN_SECRET_LENGTH` characters are left out.
    """
    values: list[str] = [str(getattr(settings, name, "") or "") for name in _SECRET_SETTINGS]
    values += [_url_password(str(getattr(settings, name, "") or "")) for name in _URL_SETTINGS]
    database = getattr(settings, "DATABASES", {}).get("default", {})
    values.append(str(database.get("PASSWORD") or ""))
    flower = os.environ.get("FLOWER_BASIC_AUTH", "")
    values += [part.partition(":")[2] for part in flower.split(",")]
    unique = {value for value in values if len(value) >= MIN_SECRET_LENGTH}
    return sorted(unique, key=len, reverse=True)


def redact(text: str, *, secrets: Iterable[str] | None = None) -> str:
    """Return ``text`` with every credential replaced by ``[redacted]``.

    ``secrets`` defaults to :func:`configured_secrets`; the URL-password, query-parameter and
    Bearer patterns are applied as well. Non-strings are converted with ``str()``.
    """
    if not isinstance(text, str):
        text = str(text)
    if not text:
        return text
    for secret in configured_secrets() if secrets is None else secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD_RE.sub(lambda m: m["head"] + MASK, text)
    text = _QUERY_SECRET_RE.sub(lambda m: m["head"] + (m["value"] if m["value"] == MASK else MASK), text)
    return _BEARER_RE.sub(lambda m: m["head"] + MASK, text)


def redact_data(value: Any) -> Any:
    """Return ``value`` (str, or dicts/lists/tuples of them) with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_data(item) for item in value)
    return value


class RedactingFilter(logging.Filter):
    """A logging filter (put it on handlers) that redacts the message, traceback and stack.

    The record's arguments are merged into ``msg`` first, so a secret passed as an argument is
    caught too; the traceback is formatted here so that the handler's formatter reuses it.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_filter(handlers: Iterable[logging.Handler]) -> None:
    """Add one :class:`RedactingFilter` to each of ``handlers`` (idempotent)."""
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


class RedactedTextField(models.TextField):
    """A ``TextField`` whose value is redacted on every write (``save()`` and ``update()``).

    It deconstructs as a plain ``TextField``: the column is unchanged and needs no migration.
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return redact(value) if isinstance(value, str) and value else value

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs
