"""URL map for bench/api_enqueue.py: the project's own, plus one trivial authenticated endpoint.

``GET /bench/ping/`` goes through the same middleware, authentication (token), permission
(IsAuthenticated) and renderer as every API view, and does nothing else: the ceiling an API
endpoint on this server can reach.
"""

from __future__ import annotations

from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class PingView(APIView):
    def get(self, request: Request) -> Response:
        return Response({"ok": True, "user": request.user.pk})


urlpatterns = [path("bench/ping/", PingView.as_view()), path("", include("backend.urls"))]
