"""Flower's configuration for AdSpark: login required, localhost unless told, /metrics behind auth.

Flower reads ``flowerconfig.py`` from its working directory (the default of its ``--conf``
option), and every way AdSpark starts Flower runs in ``backend/``: ``Procfile.dev`` (``make
dev``), ``celery_scripts/start_celery_flower.sh|.ps1``, ``deploy/systemd/adspark-flower.service``,
both compose files, and the seed's plain ``cd backend && celery -A backend flower --port=5555``.
The scripts and units also pass ``--conf=flowerconfig.py`` so a missing file fails loudly.

Settings (environment, or the repository's ``.env``; real environment variables win):

``FLOWER_BASIC_AUTH``
    ``user:password[,user2:password2]``. Required: Flower refuses to start without it, with an
    empty user or password, or with the ``.env.example`` placeholder (``replace-me…``). Checked
    after the command line too, so ``--basic_auth=:`` is refused as well.
``FLOWER_ADDRESS``
    interface to listen on; default ``127.0.0.1``. ``--address`` on the command line wins
    (compose passes ``0.0.0.0`` inside the container and publishes the port on the host's
    loopback).

Flower serves ``/metrics`` (Prometheus) without any check of its own; here it needs the same
credentials as every page (Prometheus: ``basic_auth`` in the scrape config). ``/healthcheck``
stays open: it answers ``OK`` and nothing else.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dotenv import load_dotenv
from tornado import web
from tornado.options import options as _flower_options

load_dotenv(Path(__file__).resolve().parent.parent / ".env", override=False)

PLACEHOLDER_PREFIX = "replace-me"


class FlowerAuthError(ValueError):
    """FLOWER_BASIC_AUTH is missing or names an empty user or password (the message says which)."""


def parse_basic_auth(raw: str | Sequence[str] | None) -> list[str]:
    """``"u:p,u2:p2"`` (or Flower's already split list) → ``["u:p", "u2:p2"]``, each checked.

    Raises:
        FlowerAuthError: unset or empty; an entry without ``:``; an empty user or password; the
            ``.env.example`` placeholder as password.
    """
    if raw is None:
        entries: list[str] = []
    elif isinstance(raw, str):
        entries = [part.strip() for part in raw.split(",")]
    else:
        entries = [str(part).strip() for part in raw]
    entries = [entry for entry in entries if entry]
    if not entries:
        raise FlowerAuthError(
            "FLOWER_BASIC_AUTH=user:password is required: Flower shows task arguments, results and "
            "tracebacks and can revoke tasks, so it never runs without a login"
        )
    for entry in entries:
        user, sep, password = entry.partition(":")
        if not sep or not user or not password:
            raise FlowerAuthError(
                f"FLOWER_BASIC_AUTH entry {user or '(empty)'}:*** needs a non-empty user and password"
            )
        if password.startswith(PLACEHOLDER_PREFIX):
            raise FlowerAuthError(
                f"FLOWER_BASIC_AUTH for {user} still has the .env.example placeholder password"
            )
    return entries


def _refuse(message: str) -> None:
    print(f"flowerconfig.py: {message}", file=sys.stderr)
    sys.exit(2)


def _enforce_after_command_line() -> None:
    """Tornado calls this after the final command-line parse: the values Flower will use."""
    try:
        parse_basic_auth(_flower_options.basic_auth)
    except FlowerAuthError as exc:
        _refuse(str(exc))


def _metrics_need_login() -> None:
    """Make Flower's Prometheus handler check credentials like its pages do."""
    from flower.views.monitor import Metrics

    if getattr(Metrics, "_adspark_login_required", False):
        return

    def prepare(self: web.RequestHandler) -> None:
        # get_current_user raises 401 (with WWW-Authenticate) on missing or wrong basic auth
        # and returns None for an OAuth session that is not logged in.
        if not self.current_user:
            raise web.HTTPError(401)

    Metrics.prepare = prepare  # type: ignore[method-assign,assignment]
    Metrics._adspark_login_required = True  # type: ignore[attr-defined]


try:
    basic_auth = parse_basic_auth(os.environ.get("FLOWER_BASIC_AUTH"))
except FlowerAuthError as _exc:
    _refuse(str(_exc))
address = os.environ.get("FLOWER_ADDRESS") or "127.0.0.1"
_flower_options.add_parse_callback(_enforce_after_command_line)
_metrics_need_login()
