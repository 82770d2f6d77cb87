"""Typed, loud readers for configuration from the environment.

Every setting AdSpark reads comes through these functions, so a bad value fails at start-up
with the variable's name instead of surfacing later as a confusing error. ``NAME_FILE`` is
honoured for every variable (Docker/Kubernetes secrets): when ``NAME`` is unset and
``NAME_FILE`` points at a file, its stripped contents are the value.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """Return ``$name`` (or the contents of ``$name_FILE``), else ``default``.

    Raises:
        ImproperlyConfigured: ``$name_FILE`` is set but the file cannot be read.
    """
    value = os.environ.get(name)
    if value is not None:
        return value
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    return default


def env_bool(name: str, default: bool) -> bool:
    """Return ``$name`` as a boolean (1/true/yes/on or 0/false/no/off, any case).

    Raises:
        ImproperlyConfigured: any other value.
    """
    raw = env_str(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """Return ``$name`` as an integer not below ``minimum``.

    Raises:
        ImproperlyConfigured: not an integer, or below ``minimum``.
    """
    raw = env_str(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    """Return ``$name`` as a float not below ``minimum``.

    Raises:
        ImproperlyConfigured: not a number, or below ``minimum``.
    """
    raw = env_str(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Return ``$name`` split on commas, blanks dropped."""
    raw = env_str(name)
    if raw is None:
        return list(default)
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Return ``$name`` if it is one of ``choices``.

    Raises:
        ImproperlyConfigured: any other value.
    """
    value = (env_str(name) or default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def refuse_superseded(names: tuple[str, ...], *, winner: str, hint: str) -> None:
    """Fail loudly when any of ``names`` (a seed-era variable AdSpark does not read) is set.

    A silently ignored variable makes an operator believe a setting is in force; the message
    names the variable that wins instead.

    Raises:
        ImproperlyConfigured: one of ``names`` is set (empty counts as set).
    """
    found = [name for name in names if os.environ.get(name) is not None]
    if found:
        raise ImproperlyConfigured(
            f"{', '.join(found)} {'is' if len(found) == 1 else 'are'} not read by AdSpark: "
            f"{winner} wins. {hint}"
        )


# The placeholder every secret in .env.example carries ("replace-me", "admin:replace-me", …).
PLACEHOLDER_MARK = "replace-me"


def refuse_placeholder_secrets(names: tuple[str, ...] | list[str] = ()) -> None:
    """Refuse to start when a variable still holds a ``.env.example`` placeholder.

    Checks ``names`` as :func:`env_str` reads them (``NAME`` or ``NAME_FILE``) and every other
    variable in the environment (``.env`` included, which is loaded into it), so a secret added to
    ``.env.example`` later is covered without a list to keep. Only the names are reported, never
    the values.

    Raises:
        ImproperlyConfigured: one or more values contain ``replace-me`` (any case).
    """
    found = {name for name in names if PLACEHOLDER_MARK in (env_str(name) or "").lower()}
    for key, value in os.environ.items():
        if PLACEHOLDER_MARK in value.lower():
            found.add(key)
        elif key.endswith("_FILE") and _small_file_holds_placeholder(value):
            found.add(key[: -len("_FILE")])
    if found:
        raise ImproperlyConfigured(
            f"{', '.join(sorted(found))} still hold the placeholder from .env.example ({PLACEHOLDER_MARK!r}); "
            "set real secrets before starting with DJANGO_DEBUG=false."
        )


def _small_file_holds_placeholder(path: str) -> bool:
    """True if ``path`` is a readable file of at most 64 KiB (a secret) holding the placeholder;
    other ``*_FILE`` variables (not secrets, missing files) are not this check's business."""
    try:
        file = Path(path)
        if not file.is_file() or file.stat().st_size > 65536:
            return False
        return PLACEHOLDER_MARK in file.read_text(encoding="utf-8", errors="replace").lower()
    except OSError:
        return False
