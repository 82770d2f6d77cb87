"""``/api/health/`` and ``/api/tasks/{task_id}/``."""

from __future__ import annotations

from typing import Any

from celery.result import AsyncResult
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.celery import app

from .health import check_database, check_redis, queue_consumers_cached, queue_depths
from .jobs import job_for_task

_HealthStatus = inline_serializer(
    "HealthStatus",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "degraded", "down"]),
        "database": serializers.DictField(required=False, help_text="Signed-in callers only."),
        "redis": serializers.DictField(required=False, help_text="Signed-in callers only."),
        "queues": serializers.DictField(required=False, help_text="Signed-in callers only."),
    },
)


class HealthView(APIView):
    """Database, Redis and queue consumers. 200 when all is well, 503 when DB or Redis is down.

    ``status`` is ``ok``, ``degraded`` (a queue has no worker) or ``down``. That is all an
    anonymous caller sees; a signed-in caller (token or session) also gets ``database``,
    ``redis`` and ``queues`` (worker names and queue depths per queue).
    """

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: _HealthStatus, 503: _HealthStatus})
    def get(self, request: Request) -> Response:
        database = check_database()
        broker = check_redis()
        consumers = queue_consumers_cached() if broker["ok"] else {}
        depths = queue_depths() if broker["ok"] else {}
        queues = {
            name: {"workers": workers, "waiting": depths.get(name)} for name, workers in consumers.items()
        }
        if not database["ok"] or not broker["ok"]:
            overall, code = "down", 503
        elif any(not q["workers"] for q in queues.values()):
            overall, code = "degraded", 200
        else:
            overall, code = "ok", 200
        if not request.user.is_authenticated:
            return Response({"status": overall}, status=code)
        return Response(
            {"status": overall, "database": database, "redis": broker, "queues": queues}, status=code
        )


_TaskStatus = inline_serializer(
    "TaskStatus",
    fields={
        "task_id": serializers.CharField(),
        "state": serializers.CharField(),
        "job_type": serializers.CharField(),
        "job_id": serializers.IntegerField(),
        "status": serializers.CharField(),
        "progress": serializers.DictField(),
        "summary": serializers.DictField(),
        "error": serializers.CharField(),
    },
)


class TaskStatusView(APIView):
    """``GET /api/tasks/{task_id}/``: the job row run by that task (caller's own) and Celery's state.

    ``status`` comes from the durable job row; ``state`` is Celery's (``PENDING``, ``STARTED``,
    ``PROGRESS``, ``RETRY``, ``SUCCESS``, ``FAILURE``) and may be stale once results expire.
    """

    @extend_schema(responses={200: _TaskStatus, 404: OpenApiResponse(description="Unknown or not yours")})
    def get(self, request: Request, task_id: str) -> Response:
        job = job_for_task(task_id, user=request.user)
        if job is None:
            raise NotFound("No job of yours was run by this task.")
        result: AsyncResult[Any] = AsyncResult(task_id, app=app)
        state: str
        try:
            state = str(result.state)
        except Exception:  # result backend down: the row still answers
            state = "UNKNOWN"
        summary = {
            key: getattr(job, key)
            for key in (
                "pages_fetched",
                "creatives_seen",
                "creatives_new",
                "creatives_updated",
                "searches_used",
                "stop_reason",
                "new_creatives_count",
            )
            if hasattr(job, key)
        }
        return Response(
            {
                "task_id": task_id,
                "state": state,
                "job_type": job._meta.model_name,
                "job_id": job.pk,
                "status": job.status,
                "progress": {
                    "done": job.progress_done,
                    "total": job.progress_total,
                    "percent": job.progress_percent,
                },
                "summary": summary,
                "error": job.error,
            }
        )
