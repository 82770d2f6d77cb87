"""User-typed text: the one set of rules for what a query, a name or a prompt may contain.

:func:`text_clean` normalises to Unicode NFC and refuses what no one types on purpose and
what can disguise text: control characters (other than tab and line breaks where allowed) and
the bidirectional embedding/override/isolate characters (U+202A-U+202E, U+2066-U+2069, the
"Trojan Source" characters). Text made only of invisible characters (zero-width spaces and
joiners, word joiners, BOMs) counts as empty. :func:`echo` shortens a value quoted back in an
error message. The DRF fields here apply the rules to request bodies (and refuse the type
coercions DRF does by default: a number for a string, ``0`` for a boolean).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db import models
from rest_framework import serializers

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_CONTROLS = frozenset("\t\n\r")
# Longest part of a user's value quoted back in an error (characters).
ECHO_LIMIT = 40


def echo(value: Any, *, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters of the value with ``…`` when longer."""
    text = value if isinstance(value, str) else str(value)
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


def is_invisible(text: str) -> bool:
    """True when ``text`` has no visible character: only whitespace and format characters (Cf)."""
    return all(char.isspace() or unicodedata.category(char) == "Cf" for char in text)


def text_clean(value: Any, *, multiline: bool = False) -> str:
    """Return ``value`` NFC-normalised and stripped; ``""`` when it has no visible character.

    ``multiline`` allows line breaks and tabs inside the text (prompts); otherwise they are
    refused like every other control character.

    Raises:
        ValueError: ``value`` is not a string, or holds a control or bidirectional character
            (the message names its code point).
    """
    if not isinstance(value, str):
        raise ValueError("Must be a string.")
    text = unicodedata.normalize("NFC", value)
    for char in text:
        if char in BIDI_CONTROLS:
            raise ValueError(f"Contains a bidirectional control character (U+{ord(char):04X}); remove it.")
        if unicodedata.category(char) == "Cc" and not (multiline and char in LINE_CONTROLS):
            raise ValueError(f"Contains a control character (U+{ord(char):04X}); remove it.")
    return "" if is_invisible(text) else text.strip()


class CleanCharField(serializers.CharField):
    """A ``CharField`` held to :func:`text_clean`: strings only (a number is not coerced),
    NFC, no control or bidirectional characters; invisible-only text is blank."""

    def __init__(self, *, multiline: bool = False, clean: bool = True, **kwargs: Any):
        self.multiline = multiline
        self.clean = clean  # False: only refuse non-strings (passwords are taken as typed)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if data is not serializers.empty and data is not None:
            if not isinstance(data, str):
                self.fail("invalid")
            if not self.clean:
                return super().run_validation(data)
            try:
                data = text_clean(data, multiline=self.multiline)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from exc
        return super().run_validation(data)


class ASCIIIntegerField(serializers.IntegerField):
    """DRF's ``IntegerField``, but a string must be ASCII digits (``"12"``, not ``"١٢"``:
    Python's ``int()`` reads every script's digits)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and not re.fullmatch(r"\s*[+-]?[0-9]+\s*", data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false``; DRF's ``BooleanField`` also takes ``0``, ``"yes"``, ``"on"``…,
    which the schema (``type: boolean``) does not allow."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=echo(data))


class StrictModelSerializer(serializers.ModelSerializer):
    """A ``ModelSerializer`` whose model booleans are :class:`StrictBooleanField` and whose
    model text fields are :class:`CleanCharField`."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: StrictBooleanField,
        models.CharField: CleanCharField,
        models.TextField: CleanCharField,
    }
