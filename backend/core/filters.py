"""Query-string filters shared by the apps' filter sets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField


class UTCDateTimeField(IsoDateTimeField):
    """An ISO-8601 datetime turned into UTC before it reaches the database.

    PostgreSQL refuses UTC offsets of 16 hours or more (``time zone displacement out of
    range``) although ISO-8601 and Python allow up to 23:59; in UTC every offset is gone.
    A datetime that leaves Python's range once in UTC (``0001-01-01T00:00+01:00``) is invalid.

    Raises:
        ValidationError: not an ISO-8601 datetime, or outside years 1-9999 in UTC.
    """

    def strptime(self, value: str, format: str) -> dt.datetime:
        parsed = super().strptime(value, format)
        if parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError(value) from None

    def to_python(self, value: Any) -> dt.datetime | None:
        parsed = super().to_python(value)
        if parsed is not None and parsed.tzinfo is not None:
            try:
                return parsed.astimezone(dt.UTC)
            except OverflowError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return parsed


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` whose value is in UTC (see :class:`UTCDateTimeField`)."""

    field_class = UTCDateTimeField
