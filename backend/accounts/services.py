"""Writes for accounts: registration."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from .models import UserSettings


@transaction.atomic
def user_register(*, username: str, password: str, email: str = "") -> tuple[object, str]:
    """Create a user with settings and an API token; return ``(user, token_key)``.

    The password must already have passed Django's validators (the serializer does it).
    """
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    UserSettings.objects.create(user=user)
    token = Token.objects.create(user=user)
    return user, token.key
