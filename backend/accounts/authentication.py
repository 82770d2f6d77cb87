"""API token authentication: django-rest-knox's ``Authorization: Token …`` scheme, minus its
per-request cleanup of the user's other tokens."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from knox import auth as knox_auth
from knox.signals import token_expired


class TokenAuthentication(knox_auth.TokenAuthentication):
    """knox's ``TokenAuthentication`` (``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``):
    the same result, ``(user, AuthToken)``, the same ``401 Invalid token.`` for an unknown or
    expired token, in one SQL query (the token row with its user, ``select_related("user")``).

    knox 5.1's ``_cleanup_token`` runs on every authenticated request and loads *all* of the
    user's tokens (``user.auth_token_set.all()``) to delete the expired ones: a second query
    whose cost grows with the user's token count (every sign-in issues one, valid
    ``ADSPARK_TOKEN_TTL_HOURS``), measured at ~40 % of a trivial authenticated endpoint's CPU
    (bench/api_enqueue.py). Here only the presented token is looked at; the expired tokens of
    everyone are deleted in bulk by the ``maintenance`` queue's
    ``accounts.tasks.purge_expired_tokens_task`` (beat entry "Purge expired API tokens",
    hourly; :func:`accounts.services.tokens_expired_purge`).
    """

    def _cleanup_token(self, auth_token: Any) -> bool:
        """Delete ``auth_token`` if it has expired and return True (knox then answers 401 with
        "Invalid token."); return False for a token without expiry or not yet expired.

        Sends knox's ``token_expired`` signal (``source="auth_token"``) for a deleted token, as
        knox does. No query for the user's other tokens.
        """
        if auth_token.expiry is None or auth_token.expiry >= timezone.now():
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True
