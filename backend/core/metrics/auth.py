"""Who may read ``/metrics`` (the web view and each worker's metrics port).

``METRICS_TOKEN`` (sent as ``Authorization: Bearer <token>``) and/or ``METRICS_BASIC_AUTH``
(``user:password``, sent with ``curl -u``) grant access; either is enough. With neither
configured the metrics are open when ``DJANGO_DEBUG`` is true (a developer machine) and switched
off otherwise: production exposes nothing until an operator sets a credential.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from enum import Enum

from django.conf import settings


class MetricsAccess(Enum):
    ALLOWED = "allowed"
    UNAUTHORIZED = "unauthorized"  # credentials configured, the request's are missing or wrong
    DISABLED = "disabled"  # production without credentials: answer 404


def metrics_access(authorization: str | None) -> MetricsAccess:
    """Decide access for a request carrying the ``Authorization`` header value ``authorization``."""
    token: str = settings.METRICS_TOKEN
    basic: str = settings.METRICS_BASIC_AUTH
    if not token and not basic:
        return MetricsAccess.ALLOWED if settings.DEBUG else MetricsAccess.DISABLED
    scheme, _, credentials = (authorization or "").partition(" ")
    credentials = credentials.strip()
    if token and scheme.lower() == "bearer" and hmac.compare_digest(credentials.encode(), token.encode()):
        return MetricsAccess.ALLOWED
    if basic and scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True)
        except (binascii.Error, ValueError):
            return MetricsAccess.UNAUTHORIZED
        if hmac.compare_digest(decoded, basic.encode()):
            return MetricsAccess.ALLOWED
    return MetricsAccess.UNAUTHORIZED
