"""Throttles of ``POST /api/auth/token/``: one per client IP and one per username.

Both are DRF scoped throttles (rates in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` under
``login_ip`` and ``login_user``), counted in the shared cache (Redis), so the limits hold across
every gunicorn worker. A refused request gets ``429`` with ``Retry-After`` (seconds) from DRF.

The username throttle stops a password guesser who spreads requests over many addresses; the
IP throttle stops one address trying many accounts. Behind a reverse proxy DRF takes the client
IP from ``X-Forwarded-For`` only when ``ADSPARK_NUM_PROXIES`` says how many proxies to trust.
"""

from __future__ import annotations

import hashlib
from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class LoginIPThrottle(SimpleRateThrottle):
    """Sign-in attempts per client IP (scope ``login_ip``)."""

    scope = "login_ip"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(SimpleRateThrottle):
    """Sign-in attempts per username, case-insensitive (scope ``login_user``).

    The username is hashed into the cache key (any length, any characters, never stored as
    given). A request without a username string is left to the IP throttle.
    """

    scope = "login_user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        data = request.data
        # A JSON list or scalar body has no username: the serializer answers 400.
        username = data.get("username") if hasattr(data, "get") else None
        if not isinstance(username, str) or not username.strip():
            return None
        ident = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
