"""Auth endpoints: register, token, current user and their settings."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .models import UserSettings
from .serializers import (
    MeSerializer,
    RegisterResponseSerializer,
    RegisterSerializer,
    TokenResponseSerializer,
    UserSettingsSerializer,
)
from .services import user_register


class RegisterView(APIView):
    """``POST /api/auth/register/`` → 201 ``{"user": {…}, "token": "…"}``; 400 with field errors."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(request=RegisterSerializer, responses={201: RegisterResponseSerializer})
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, token = user_register(**serializer.validated_data)
        return Response({"user": MeSerializer(user).data, "token": token}, status=status.HTTP_201_CREATED)


class TokenView(ObtainAuthToken):
    """``POST /api/auth/token/`` with username and password → ``{"token": "…"}``."""

    @extend_schema(responses={200: TokenResponseSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


def _signed_in(request: Request) -> User:
    """The request's user; views using it require authentication (the default permission)."""
    assert isinstance(request.user, User)
    return request.user


class MeView(APIView):
    """``GET /api/auth/me/`` (the signed-in user); ``PATCH`` updates their settings."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = _signed_in(request)
        UserSettings.objects.get_or_create(user=user)
        return Response(MeSerializer(user).data)

    @extend_schema(request=UserSettingsSerializer, responses=MeSerializer)
    def patch(self, request: Request) -> Response:
        user = _signed_in(request)
        user_settings, _ = UserSettings.objects.get_or_create(user=user)
        serializer = UserSettingsSerializer(user_settings, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        user.refresh_from_db()
        return Response(MeSerializer(user).data)
