"""Query-string filters shared by the apps' filter sets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters import rest_framework as filters_rf
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


class StrictBooleanField(forms.Field):
    """``true`` or ``false`` (any case), nothing else: ``null``, ``1`` or ``yes`` are errors."""

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise ValidationError("Must be true or false.", code="invalid")
        return text == "true"


class StrictBooleanFilter(django_filters.BooleanFilter):
    """``BooleanFilter`` that refuses anything but ``true``/``false`` (see :class:`StrictBooleanField`)."""

    field_class = StrictBooleanField


class FilterSet(filters_rf.FilterSet):
    """The base of every filter set: a parameter given empty, or a boolean that is not
    ``true``/``false``, is a 400 with a field error instead of being ignored.

    django-filter treats ``?status=`` as "no filter" and ``?is_active=null`` as "any"; the
    schema says a status is one of its values and a boolean is a boolean, so both are refused.
    Free-text filters (``CharFilter`` without choices) may still be empty.
    """

    FILTER_DEFAULTS = {
        **filters_rf.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            free_text = isinstance(filter_, django_filters.CharFilter)
            if not free_text and name in self.data and self.data.get(name) == "":
                self.form.add_error(name, "May not be empty; leave the parameter out instead.")
                valid = False
        return valid


class FilterBackend(filters_rf.DjangoFilterBackend):
    """``DjangoFilterBackend`` whose generated filter sets (``filterset_fields``) use :class:`FilterSet`."""

    filterset_base = FilterSet
