"""Writes for accounts: registration and API tokens (django-rest-knox)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from .models import UserSettings


@transaction.atomic
def user_register(*, username: str, password: str, email: str = "") -> tuple[object, str, dt.datetime | None]:
    """Create a user with settings and an API token; return ``(user, token, expiry)``
    (see :func:`token_issue`).

    The password must already have passed Django's validators (the serializer does it).
    """
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    UserSettings.objects.create(user=user)
    token, expiry = token_issue(user=user)
    return user, token, expiry


def token_issue(*, user: object) -> tuple[str, dt.datetime | None]:
    """Create an API token for ``user``; return ``(token, expiry)``.

    The token is shown once: only its SHA-512 digest is stored (knox ``AuthToken``). It expires
    ``ADSPARK_TOKEN_TTL_HOURS`` hours after it is issued (``REST_KNOX["TOKEN_TTL"]``; ``expiry``
    is None when the TTL is 0, i.e. never) and is revoked by ``POST /api/auth/logout/`` (this
    token) or ``/api/auth/logout/all/`` (every token of the user).
    """
    instance, token = AuthToken.objects.create(user=user)
    return token, instance.expiry


def tokens_expired_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the API tokens of every user that expired before ``now`` (default: the current
    time); return how many were deleted.

    One ``DELETE … WHERE expiry < now``; tokens without expiry (``ADSPARK_TOKEN_TTL_HOURS=0``)
    are kept. Runs hourly on the ``maintenance`` queue (``purge_expired_tokens_task``): the
    authentication (accounts.authentication) only deletes the expired token it is shown.
    """
    deleted, _ = AuthToken.objects.filter(expiry__lt=now or timezone.now()).delete()
    return deleted
