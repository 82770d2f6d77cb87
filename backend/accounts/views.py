"""Auth endpoints: register, token, current user and their settings."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.views import LogoutAllView as KnoxLogoutAllView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import permissions, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .authentication import TokenAuthentication
from .models import UserSettings
from .serializers import (
    MeSerializer,
    RegisterResponseSerializer,
    RegisterSerializer,
    TokenResponseSerializer,
    UserSettingsSerializer,
)
from .services import token_issue, user_register
from .throttles import LoginIPThrottle, LoginUsernameThrottle


class RegisterView(APIView):
    """``POST /api/auth/register/`` → 201 ``{"user": {…}, "token": "…", "expiry": "…"}`` (the
    token as from ``/api/auth/token/``); 400 with field errors."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(request=RegisterSerializer, responses={201: RegisterResponseSerializer})
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, token, expiry = user_register(**serializer.validated_data)
        return Response(
            {"user": MeSerializer(user).data, "token": token, "expiry": expiry},
            status=status.HTTP_201_CREATED,
        )


class TokenView(APIView):
    """``POST /api/auth/token/`` with username and password → ``{"token": "…", "expiry": "…"}``.

    ``400`` with field errors for wrong credentials; ``429`` with ``Retry-After`` (seconds) once
    the client IP or the username is over its rate (:mod:`accounts.throttles`). Every call
    issues a new token (one per device); ``expiry`` is ISO-8601, null if tokens never expire.
    """

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []
    # The username throttle first: it is the one a distributed guesser cannot dodge.
    throttle_classes = [LoginUsernameThrottle, LoginIPThrottle]
    serializer_class = AuthTokenSerializer

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description="Wrong or missing credentials (field errors)"),
            429: OpenApiResponse(description="Too many attempts; see Retry-After"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, expiry = token_issue(user=serializer.validated_data["user"])
        return Response({"token": token, "expiry": expiry})


class LogoutView(KnoxLogoutView):
    """``POST /api/auth/logout/`` → 204: revokes the token the request was made with."""

    # knox's view names knox's class; ours skips its per-request scan of the user's other tokens.
    authentication_classes = (TokenAuthentication,)

    @extend_schema(request=None, responses={204: None, 401: OpenApiResponse(description="No valid token")})
    def post(self, request: Request, format: str | None = None) -> Response:
        return super().post(request, format)


class LogoutAllView(KnoxLogoutAllView):
    """``POST /api/auth/logout/all/`` → 204: revokes every token of the user (all devices)."""

    # knox's view names knox's class; ours skips its per-request scan of the user's other tokens.
    authentication_classes = (TokenAuthentication,)

    @extend_schema(request=None, responses={204: None, 401: OpenApiResponse(description="No valid token")})
    def post(self, request: Request, format: str | None = None) -> Response:
        return super().post(request, format)


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
