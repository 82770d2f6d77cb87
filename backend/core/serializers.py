"""Serializer pieces every app's API shares: the ``status_url`` of a job.

One convention for every job (fetch runs, watch runs, AI variants): a job's ``status_url`` is
that job's own detail endpoint (``GET`` answers the row, owner-scoped: another user's is a 404),
absolute when the serializer has a request in its context, a path otherwise.
``/api/tasks/{task_id}/`` stays available for the row plus Celery's state by task id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField, get_error_detail


def absolute_url(request: Any, path: str) -> str:
    """Return ``path`` as an absolute URL of ``request``'s host, or ``path`` itself without one."""
    return request.build_absolute_uri(path) if request is not None else path


def status_url(*, view_name: str, pk: Any, request: Any = None) -> str:
    """Return the detail URL of job ``pk`` under the URL name ``view_name``.

    Absolute (``http://host/api/…/{pk}/``) when ``request`` is given, else the path.

    Raises:
        django.urls.NoReverseMatch: ``view_name`` is not a URL name taking one argument.
    """
    return absolute_url(request, reverse(view_name, args=[pk]))


@extend_schema_field(OpenApiTypes.URI)
class StatusURLField(serializers.Field):
    """Read-only ``status_url`` of a job row: :func:`status_url` of its detail view ``view_name``."""

    def __init__(self, *, view_name: str, **kwargs: Any):
        self.view_name = view_name
        kwargs.setdefault("help_text", "This job's own detail endpoint: poll it until the status is final.")
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value: Any) -> str:
        return status_url(view_name=self.view_name, pk=value.pk, request=self.context.get("request"))


class DetailSerializer(serializers.Serializer):
    """An error body with one message: ``{"detail": "…"}`` (404, 409 …)."""

    detail = serializers.CharField()


class AllErrorsMixin:
    """Report every error of a request in one answer: the fields' own checks *and* the
    serializer's ``validate()``.

    DRF runs ``validate()`` only when every field passed, so a form learns about a bad region
    (checked across fields in ``validate()``) only after fixing a blank name: two rounds. Here,
    when some fields fail, ``validate()`` still runs on the fields that passed, and its errors
    about those fields (not ones about missing or failed fields, which would mislead) are
    added to the answer. Put it before the serializer class in the bases.
    """

    def to_internal_value(self, data: Any) -> Any:
        values: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # type: ignore[misc]  # DRF's "invalid" error
        for field in self._writable_fields:  # type: ignore[attr-defined]
            validate_method = getattr(self, "validate_" + field.field_name, None)
            primitive = field.get_value(data)
            try:
                value = field.run_validation(primitive)
                if validate_method is not None:
                    value = validate_method(value)
            except serializers.ValidationError as exc:
                errors[field.field_name] = exc.detail
            except DjangoValidationError as exc:
                errors[field.field_name] = get_error_detail(exc)
            except SkipField:
                pass
            else:
                self.set_value(values, field.source_attrs, value)  # type: ignore[attr-defined]
        if not errors:
            return values
        passed = {name for name in values if name in data}
        try:
            self.validate(dict(values))  # type: ignore[attr-defined]
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            for name, messages in detail.items():
                if name in passed and name not in errors:
                    errors[name] = messages
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # validate() needs a field that failed: its checks wait for the next round
        raise serializers.ValidationError(errors)
