"""Serializer pieces every app's API shares: the ``status_url`` of a job.

One convention for every job (fetch runs, watch runs, AI variants): a job's ``status_url`` is
that job's own detail endpoint (``GET`` answers the row, owner-scoped: another user's is a 404),
absolute when the serializer has a request in its context, a path otherwise.
``/api/tasks/{task_id}/`` stays available for the row plus Celery's state by task id.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


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
