"""Request/response shapes for registration and the current user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from AdSpark.regions import UnknownRegionError, normalize_region
from core.serializers import AllErrorsMixin
from core.text import CleanCharField, StrictModelSerializer

from .models import UserSettings


class RegisterSerializer(AllErrorsMixin, serializers.Serializer):
    """Body of ``POST /api/auth/register/``; every error (the password's strength too) comes in one answer."""

    username = serializers.RegexField(
        r"^[\w.@+-]{3,150}$",
        max_length=150,
        error_messages={"invalid": "3-150 characters: letters, digits and @/./+/-/_ only."},
    )
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    password = CleanCharField(
        clean=False, write_only=True, min_length=8, max_length=128, style={"input_type": "password"}
    )

    def validate_username(self, value: str) -> str:
        if get_user_model().objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("This username is taken.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # .get: with AllErrorsMixin this also runs when the username failed its own checks
        user = get_user_model()(username=attrs.get("username", ""), email=attrs.get("email", ""))
        try:
            password_validation.validate_password(attrs["password"], user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class UserSettingsSerializer(StrictModelSerializer):
    class Meta:
        model = UserSettings
        fields = ["default_region", "email_alerts"]

    def validate_default_region(self, value: str) -> str:
        if not value:
            return ""
        try:
            return normalize_region(value)
        except UnknownRegionError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class MeSerializer(serializers.ModelSerializer):
    settings = UserSettingsSerializer(source="adspark_settings", read_only=True)
    # Not format "email": an account registered without one has "".
    email = serializers.CharField(read_only=True, help_text="E-mail address, or empty.")

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "is_staff", "date_joined", "settings"]
        read_only_fields = fields


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(
        allow_null=True, help_text="When the token stops working (null: never)."
    )


class RegisterResponseSerializer(serializers.Serializer):
    user = MeSerializer()
    token = serializers.CharField()
    expiry = serializers.DateTimeField(
        allow_null=True, help_text="When the token stops working (null: never)."
    )
